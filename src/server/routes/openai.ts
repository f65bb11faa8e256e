import type { H3, H3Event } from "h3";
import { InvalidRequestError } from "../../translate/errors.js";
import { PRIORITY_TIER } from "../../translate/model-name.js";
import { chatToResponses } from "../../translate/openai-chat/request.js";
import { ChatStreamTranslator, chunkSerializer, type ChatChunk } from "../../translate/openai-chat/stream.js";
import { aggregateChatChunks } from "../../translate/openai-chat/aggregate.js";
import { toChatUsage } from "../../translate/usage.js";
import type { ModelInfo } from "../../translate/responses/types.js";
import { readJsonBody } from "../body.js";
import { translateContext, type ServerContext } from "../context.js";
import { describeError, errorBody } from "../errors.js";
import { drain, SSE_HEADERS, streamResponse, translateFrames } from "../stream.js";
import { openUpstream, route } from "./_shared.js";
import { randomId } from "../../_utils/ids.js";

export function registerOpenAIRoutes(app: H3, ctx: ServerContext): void {
  route(app, "post", "/chat/completions", (event) => chatCompletions(event, ctx));
  route(app, "get", "/models", async () => ({ object: "list", data: modelObjects((await ctx.catalog.get()).models) }));
  route(app, "get", "/models/**:id", async (event) => {
    const id = decodeURIComponent(event.context.params?.id ?? "");
    const model = modelObjects((await ctx.catalog.get()).models).find((m) => m.id === id);
    if (!model) throw new InvalidRequestError(`The model '${id}' does not exist`, "model", "model_not_found", 404);
    return model;
  });
}

async function chatCompletions(event: H3Event, ctx: ServerContext): Promise<unknown> {
  const body = await readJsonBody(event, ctx.options.bodyLimit);
  const translateCtx = await translateContext(ctx);
  const chat = chatToResponses(body, translateCtx, event.req.headers.get("x-reasoning-format") ?? undefined);
  const requestedModel = String((body as Record<string, unknown>).model ?? chat.request.model);
  const upstream = await openUpstream(event, ctx, chat.request, translateCtx, requestedModel);
  const translator = new ChatStreamTranslator({
    id: `chatcmpl-${randomId()}`,
    created: Math.floor(Date.now() / 1000),
    model: requestedModel,
    reasoningFormat: chat.reasoningFormat,
    includeUsage: chat.includeUsage,
    serviceTier: chat.request.service_tier,
  });
  if (!chat.stream) {
    const chunks: ChatChunk[] = [];
    await drain(upstream.events, (e) => chunks.push(...translator.push(e)));
    return aggregateChatChunks(chunks, translator.usage ?? toChatUsage(undefined));
  }
  const serialize = chunkSerializer();
  const frames = await translateFrames(
    upstream.events,
    {
      map: (e) => translator.push(e).map((chunk) => `data: ${serialize(chunk)}\n\n`),
      end: () => ["data: [DONE]\n\n"],
      // the OpenAI SDKs raise an APIError for a data object with an `error` key
      fail: (reason) => [`data: ${JSON.stringify(errorBody("openai", describeError(reason)))}\n\n`],
    },
    event,
    ctx,
  );
  return streamResponse(event, frames, SSE_HEADERS);
}

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
