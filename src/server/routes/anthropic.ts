import type { H3, H3Event } from "h3";
import { estimateTokens, messagesToResponses } from "../../translate/anthropic/request.js";
import { AnthropicStreamTranslator, aggregateAnthropic, type AnthropicEvent } from "../../translate/anthropic/stream.js";
import { readJsonBody } from "../body.js";
import { translateContext, type ServerContext } from "../context.js";
import { describeError, errorBody } from "../errors.js";
import { drain, SSE_HEADERS, streamResponse, translateFrames } from "../stream.js";
import { openUpstream, route } from "./_shared.js";
import { randomId } from "../../_utils/ids.js";

export function registerAnthropicRoutes(app: H3, ctx: ServerContext): void {
  route(app, "post", "/messages", (event) => messages(event, ctx));
  route(app, "post", "/messages/count_tokens", async (event) => {
    const body = await readJsonBody(event, ctx.options.bodyLimit);
    const { request } = messagesToResponses(body, await translateContext(ctx));
    // the backend has no token counter: this is an estimate, and says so
    event.res.headers.set("x-codex-proxy-token-count", "estimate");
    return { input_tokens: estimateTokens(request), estimate: true };
  });
}

async function messages(event: H3Event, ctx: ServerContext): Promise<unknown> {
  const body = await readJsonBody(event, ctx.options.bodyLimit);
  const translateCtx = await translateContext(ctx);
  const translation = messagesToResponses(body, translateCtx);
  const upstream = await openUpstream(event, ctx, translation.request, translateCtx, translation.model);
  const translator = new AnthropicStreamTranslator(`msg_${randomId()}`, translation.model, translation.thinking);
  if (!translation.stream) {
    const events: AnthropicEvent[] = [];
    await drain(upstream.events, (e) => events.push(...translator.push(e)));
    return aggregateAnthropic(events);
  }
  const frame = (e: { type: string }) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
  const frames = await translateFrames(
    upstream.events,
    {
      map: (e) => translator.push(e).map(frame),
      // the Anthropic SDK raises an APIError for an `error` event
      fail: (reason) => [frame(errorBody("anthropic", describeError(reason)) as { type: string })],
    },
    event,
    ctx,
  );
  return streamResponse(event, frames, SSE_HEADERS);
}
