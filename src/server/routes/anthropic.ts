import type { H3 } from "h3";
import { estimateTokens, messagesToResponses, type AnthropicTranslation } from "../../translate/anthropic/request.js";
import { AnthropicStreamTranslator, aggregateAnthropic, type AnthropicEvent } from "../../translate/anthropic/stream.js";
import { readJsonBody } from "../body.js";
import { translateContext, type ServerContext } from "../context.js";
import { SSE_HEADERS } from "../stream.js";
import { route } from "./_shared.js";
import { translatedRoute, type TranslatingFamily } from "./_translated.js";
import { randomId } from "../../_utils/ids.js";

export function registerAnthropicRoutes(app: H3, ctx: ServerContext): void {
  route(app, "post", "/messages", translatedRoute(ctx, messagesFamily));
  route(app, "post", "/messages/count_tokens", async (event) => {
    const body = await readJsonBody(event, ctx.options.bodyLimit);
    const { request } = messagesToResponses(body, await translateContext(ctx));
    // the backend has no token counter: this is an estimate, and says so
    event.res.headers.set("x-codex-proxy-token-count", "estimate");
    return { input_tokens: estimateTokens(request), estimate: true };
  });
}

const eventFrame = (e: { type: string }) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

/** Anthropic Messages: the stream's named events, or one `message` folded from them. */
const messagesFamily: TranslatingFamily<AnthropicTranslation, AnthropicEvent> = {
  errors: "anthropic",
  headers: SSE_HEADERS,
  translate: (body, translateCtx) => messagesToResponses(body, translateCtx),
  answer(translation) {
    const translator = new AnthropicStreamTranslator(`msg_${randomId()}`, translation.model, translation.thinking);
    return { push: (e) => translator.push(e), aggregate: aggregateAnthropic, frame: eventFrame };
  },
  // the Anthropic SDK raises an APIError for an `error` event
  errorFrame: (body) => eventFrame(body as { type: string }),
};
