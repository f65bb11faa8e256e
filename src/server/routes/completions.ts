import type { H3 } from "h3";
import { completionsToResponses, toCompletion, toCompletionChunk } from "../../translate/openai-completions/translate.js";
import { ChatStreamTranslator, type ChatChunk } from "../../translate/openai-chat/stream.js";
import { aggregateChatChunks } from "../../translate/openai-chat/aggregate.js";
import { toChatUsage } from "../../translate/usage.js";
import type { ServerContext } from "../context.js";
import { SSE_HEADERS } from "../stream.js";
import { route } from "./_shared.js";
import { sseData, translatedRoute, type TranslatingFamily } from "./_translated.js";
import { randomId } from "../../_utils/ids.js";

type CompletionsTranslation = ReturnType<typeof completionsToResponses> & { model: string };

/** Legacy completions: the chat answer's chunks as `text_completion` chunks, the prompt first when echoed. */
const completionsFamily: TranslatingFamily<CompletionsTranslation, ChatChunk> = {
  errors: "openai",
  headers: SSE_HEADERS,
  translate(body, translateCtx) {
    const translation = completionsToResponses(body, translateCtx);
    return Object.assign(translation, { model: String((body as Record<string, unknown>).model ?? translation.request.model) });
  },
  answer({ model, includeUsage, echo = "" }) {
    const translator = new ChatStreamTranslator({ id: `cmpl-${randomId()}`, created: Math.floor(Date.now() / 1000), model, reasoningFormat: "none", includeUsage });
    return {
      push: (e) => translator.push(e),
      aggregate: (chunks) => toCompletion(aggregateChatChunks(chunks, translator.usage ?? toChatUsage(undefined)), echo),
      frame: (chunk) => {
        const completion = toCompletionChunk(chunk);
        return completion ? sseData(completion) : "";
      },
      start: () => (echo ? [sseData({ id: "cmpl-echo", object: "text_completion", created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, text: echo, finish_reason: null, logprobs: null }] })] : []),
    };
  },
  errorFrame: sseData,
  done: "data: [DONE]\n\n",
};

export function registerCompletionsRoutes(app: H3, ctx: ServerContext): void {
  route(app, "post", "/completions", translatedRoute(ctx, completionsFamily));
}
