import type { H3Event } from "h3";
import type { TranslateContext } from "../../translate/responses/build.js";
import type { ResponsesEvent, ResponsesRequest } from "../../translate/responses/types.js";
import { readJsonBody } from "../body.js";
import { translateContext, type ServerContext } from "../context.js";
import { describeError, errorBody, type Family } from "../errors.js";
import { drain, jsonResponse, streamResponse, translateFrames } from "../stream.js";
import { openUpstream } from "./_shared.js";

/** What a family's request translator returns: the backend request, and how the client wants the answer. */
export interface Translated {
  request: ResponsesRequest;
  stream: boolean;
  /** the model name as the client wrote it, for an unknown-model error */
  model: string;
}

/** One answer's translation: upstream events → the family's chunks, sent as a stream or folded into one body. */
export interface Answer<Chunk> {
  /** the chunks for one upstream event */
  push(event: ResponsesEvent): Chunk[];
  /** the chunks after the last event (a closing line with the counters) */
  end?(): Chunk[];
  /** the whole answer from all its chunks, for a client that did not stream */
  aggregate(chunks: Chunk[]): unknown;
  /** one chunk as stream text ("" for a chunk the client's format does not show) */
  frame(chunk: Chunk): string;
  /** frames before the first event (an echoed prompt) */
  start?(): string[];
}

/** A client family's part of the skeleton every translating route shares. */
export interface TranslatingFamily<T extends Translated, Chunk> {
  /** the family whose error bodies the client reads */
  errors: Family;
  headers: Record<string, string>;
  /** the client's JSON body → the backend request (throws InvalidRequestError for a bad one) */
  translate(body: unknown, translateCtx: TranslateContext, event: H3Event): T;
  answer(translation: T): Answer<Chunk>;
  /** the error body as the last frame of a stream: the client's SDK raises it as an API error */
  errorFrame(body: unknown): string;
  /** the frame after the last chunk of a stream (`data: [DONE]`) */
  done?: string;
}

/** A JSON object as an SSE `data:` frame, as the OpenAI families send chunks and errors. */
export const sseData = (body: unknown): string => `data: ${JSON.stringify(body)}\n\n`;

/** A route handler that reads the JSON body and answers it with {@link answerTranslated}. */
export function translatedRoute<T extends Translated, Chunk>(ctx: ServerContext, family: TranslatingFamily<T, Chunk>) {
  return async (event: H3Event): Promise<unknown> => answerTranslated(event, ctx, await readJsonBody(event, ctx.options.bodyLimit), family);
}

/**
 * The path of every translating route (chat, legacy completions, Ollama chat and generate, Anthropic messages):
 * translate the body, open the upstream, then stream the family's frames or aggregate them into one body.
 * `/v1/responses` relays the backend's own error bodies, headers and events without the status hold, and images
 * open one upstream per picture: their paths differ, so they call the same parts themselves.
 */
export async function answerTranslated<T extends Translated, Chunk>(event: H3Event, ctx: ServerContext, body: unknown, family: TranslatingFamily<T, Chunk>): Promise<unknown> {
  const translateCtx = await translateContext(ctx);
  const translation = family.translate(body, translateCtx, event);
  const upstream = await openUpstream(event, ctx, translation.request, translateCtx, translation.model, !translation.stream);
  const answer = family.answer(translation);
  if (!translation.stream) {
    const chunks: Chunk[] = [];
    await drain(upstream.events, (e) => chunks.push(...answer.push(e)));
    if (answer.end) chunks.push(...answer.end());
    return jsonResponse(event, answer.aggregate(chunks));
  }
  const frame = answer.frame;
  const frames = await translateFrames(
    upstream.events,
    {
      start: answer.start,
      map: (e) => {
        let frames = "";
        for (const chunk of answer.push(e)) frames += frame(chunk);
        return frames;
      },
      end: () => [...(answer.end?.().map(frame) ?? []), ...(family.done ? [family.done] : [])],
      fail: (reason) => [family.errorFrame(errorBody(family.errors, describeError(reason)))],
    },
    event,
    ctx,
  );
  return streamResponse(event, frames, family.headers);
}
