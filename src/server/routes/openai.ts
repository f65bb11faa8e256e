import type { H3 } from "h3";
import { InvalidRequestError } from "../../translate/errors.js";
import { PRIORITY_TIER } from "../../translate/model-name.js";
import { chatToResponses, type ChatTranslation } from "../../translate/openai-chat/request.js";
import { ChatStreamTranslator, chunkSerializer, type ChatChunk } from "../../translate/openai-chat/stream.js";
import { aggregateChatChunks } from "../../translate/openai-chat/aggregate.js";
import { toChatUsage } from "../../translate/usage.js";
import type { ModelInfo } from "../../translate/responses/types.js";
import type { ServerContext } from "../context.js";
import { SSE_HEADERS } from "../stream.js";
import { route } from "./_shared.js";
import { sseData, translatedRoute, type TranslatingFamily } from "./_translated.js";
import { randomId } from "../../_utils/ids.js";

export function registerOpenAIRoutes(app: H3, ctx: ServerContext): void {
  route(app, "post", "/chat/completions", translatedRoute(ctx, chatFamily));
  route(app, "get", "/models", async () => ({ object: "list", data: modelObjects((await ctx.catalog.get()).models) }));
  route(app, "get", "/models/**:id", async (event) => {
    const id = decodeURIComponent(event.context.params?.id ?? "");
    const model = modelObjects((await ctx.catalog.get()).models).find((m) => m.id === id);
    if (!model) throw new InvalidRequestError(`The model '${id}' does not exist`, "model", "model_not_found", 404);
    return model;
  });
}

/** Chat Completions: chunks as SSE `data:` lines ending in `[DONE]`, or one `chat.completion`. */
const chatFamily: TranslatingFamily<ChatTranslation & { model: string }, ChatChunk> = {
  errors: "openai",
  headers: SSE_HEADERS,
  translate(body, translateCtx, event) {
    const chat = chatToResponses(body, translateCtx, event.req.headers.get("x-reasoning-format") ?? undefined);
    return Object.assign(chat, { model: String((body as Record<string, unknown>).model ?? chat.request.model) });
  },
  answer(chat) {
    const translator = new ChatStreamTranslator({
      id: `chatcmpl-${randomId()}`,
      created: Math.floor(Date.now() / 1000),
      model: chat.model,
      reasoningFormat: chat.reasoningFormat,
      includeUsage: chat.includeUsage,
      serviceTier: chat.request.service_tier,
    });
    const serialize = chunkSerializer();
    return {
      push: (e) => translator.push(e),
      aggregate: (chunks) => aggregateChatChunks(chunks, translator.usage ?? toChatUsage(undefined)),
      frame: (chunk) => `data: ${serialize(chunk)}\n\n`,
    };
  },
  // the OpenAI SDKs raise an APIError for a data object with an `error` key
  errorFrame: sseData,
  done: "data: [DONE]\n\n",
};

/** The account's models, plus a `model-effort` alias for each reasoning effort, and `-fast` ones where the Fast tier is offered. */
export function modelObjects(models: ModelInfo[]): { id: string; object: "model"; created: number; owned_by: string }[] {
  const created = 1_767_225_600; // fixed: the backend does not say when a model was released
  const out = [];
  for (const m of models.filter((m) => m.visible)) {
    const ids = [m.slug, ...m.efforts.map((effort) => `${m.slug}-${effort}`)];
    if (m.serviceTiers?.includes(PRIORITY_TIER)) ids.push(...ids.map((id) => `${id}-fast`));
    for (const id of ids) out.push({ id, object: "model" as const, created, owned_by: "openai" });
  }
  return out;
}
