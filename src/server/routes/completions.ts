import type { H3, H3Event } from "h3";
import { completionsToResponses, toCompletion, toCompletionChunk } from "../../translate/openai-completions/translate.js";
import { ChatStreamTranslator, type ChatChunk } from "../../translate/openai-chat/stream.js";
import { aggregateChatChunks } from "../../translate/openai-chat/aggregate.js";
import { toChatUsage } from "../../translate/usage.js";
import { readJsonBody } from "../body.js";
import { translateContext, type ServerContext } from "../context.js";
import { describeError, errorBody } from "../errors.js";
import { drain, SSE_HEADERS, streamResponse, translateFrames } from "../stream.js";
import { openUpstream, route } from "./_shared.js";
import { randomId } from "../../_utils/ids.js";

export function registerCompletionsRoutes(app: H3, ctx: ServerContext): void {
  route(app, "post", "/completions", (event) => completions(event, ctx));
}

async function completions(event: H3Event, ctx: ServerContext): Promise<unknown> {
  const body = await readJsonBody(event, ctx.options.bodyLimit);
  const translateCtx = await translateContext(ctx);
  const translation = completionsToResponses(body, translateCtx);
  const model = String((body as Record<string, unknown>).model ?? translation.request.model);
  const upstream = await openUpstream(event, ctx, translation.request, translateCtx, model);
  const translator = new ChatStreamTranslator({ id: `cmpl-${randomId()}`, created: Math.floor(Date.now() / 1000), model, reasoningFormat: "none", includeUsage: translation.includeUsage });
  const echo = translation.echo ?? "";

  if (!translation.stream) {
    const chunks: ChatChunk[] = [];
    await drain(upstream.events, (e) => chunks.push(...translator.push(e)));
    return toCompletion(aggregateChatChunks(chunks, translator.usage ?? toChatUsage(undefined)), echo);
  }
  const frame = (chunk: unknown) => `data: ${JSON.stringify(chunk)}\n\n`;
  const frames = await translateFrames(
    upstream.events,
    {
      start: () => (echo ? [frame({ id: "cmpl-echo", object: "text_completion", created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, text: echo, finish_reason: null, logprobs: null }] })] : []),
      map: (e) => translator.push(e).flatMap((chunk) => toCompletionChunk(chunk) ?? []).map(frame),
      end: () => ["data: [DONE]\n\n"],
      fail: (reason) => [frame(errorBody("openai", describeError(reason)))],
    },
    event,
    ctx,
  );
  return streamResponse(event, frames, SSE_HEADERS);
}
