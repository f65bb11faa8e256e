import type { H3Event } from "h3";
import type { ResponsesEvent } from "../translate/responses/types.js";
import { UpstreamError } from "../upstream/errors.js";
import type { ServerContext } from "./context.js";
import { describeError } from "./errors.js";
import { clientGone, nodeOf, writeFrames } from "./node.js";
import { requestNote } from "./request-log.js";

/**
 * An async iterable of text frames → the client. Each frame is written as soon as it exists (the routes already
 * join the frames of one upstream read into one string), and a slow reader pauses the loop instead of
 * filling memory. On Node the frames go straight onto the response: a web stream in between costs more than
 * the translation. When the client goes away, the loop ends the iterator, whose `finally` blocks abort the
 * upstream request.
 */
export function streamResponse(event: H3Event, frames: AsyncIterable<string>, headers: Record<string, string>): unknown {
  const res = nodeOf(event)?.res;
  if (!res) return webStreamResponse(frames, headers);
  // null once the frames are out: h3 ends the response in the same tick, so the last frames and the end leave in one write
  return writeFrames(res, frames, Object.assign({}, preparedHeaders(event), headers)).then(() => null);
}

const ANSWER_HEADERS = "codexProxyAnswerHeaders";

/**
 * Name a header of an answer the route writes itself ({@link streamResponse}, {@link jsonResponse}, a relayed error):
 * CORS, the effort, the account. On Node the headers wait in a plain object (a web `Headers` per request, merged
 * into another by h3, costs more than translating a short answer), so `event.res.headers` only reaches the answers
 * h3 builds from a returned value (`/v1/models`, token counts, errors).
 */
export function setAnswerHeader(event: H3Event, name: string, value: string): void {
  if (!nodeOf(event)) return void event.res.headers.set(name, value); // in-process, h3 builds every answer
  ((event.context[ANSWER_HEADERS] ??= {}) as Record<string, string>)[name] = value;
}

/** The headers named for this answer, for the answers the routes write themselves: streams, JSON, relayed errors. */
export function preparedHeaders(event: H3Event): Readonly<Record<string, string>> {
  if (nodeOf(event)) return (event.context[ANSWER_HEADERS] as Record<string, string> | undefined) ?? {};
  const prepared: Record<string, string> = {};
  event.res.headers.forEach((value, name) => (prepared[name] = value));
  return prepared;
}

/**
 * A 200 answer with a JSON body. On Node it is written straight onto the response, with its length and the
 * prepared headers; h3 ends it in the same tick, so it leaves in one write.
 */
export function jsonResponse(event: H3Event, body: unknown, headers: Record<string, string> = {}): unknown {
  for (const [name, value] of Object.entries(headers)) setAnswerHeader(event, name, value);
  const res = nodeOf(event)?.res;
  if (!res) return body; // in-process, h3 builds the answer
  const json = JSON.stringify(body);
  res.writeHead(200, Object.assign({}, preparedHeaders(event), { "content-type": "application/json;charset=UTF-8", "content-length": String(Buffer.byteLength(json)) }));
  res.write(json);
  return null;
}

/** Any other runtime (`app.request()` in-process): a web stream, pulled by the reader. */
function webStreamResponse(frames: AsyncIterable<string>, headers: Record<string, string>): Response {
  const iterator = frames[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new Response(
    new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { value, done } = await iterator.next();
          if (done) controller.close();
          else if (value) controller.enqueue(encoder.encode(value));
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await iterator.return?.();
      },
    }),
    { headers },
  );
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

export const NDJSON_HEADERS = {
  "content-type": "application/x-ndjson",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

/** Consume a whole upstream stream (for non-stream responses), feeding each event to `onEvent`. */
export async function drain(events: AsyncIterable<ResponsesEvent[]>, onEvent: (event: ResponsesEvent) => void): Promise<void> {
  for await (const batch of events) for (const event of batch) onEvent(event);
}

/** Why a stream ended early, for the client: its own disconnect needs no message. */
export function streamEndReason(error: unknown, event: H3Event, ctx: ServerContext): unknown | undefined {
  if (clientGone(event)) return undefined;
  if (ctx.shutdownSignal.aborted) return new UpstreamError("overloaded", "The server is shutting down; retry the request");
  return error;
}

export interface FrameMapping {
  /** frames before the first event */
  start?: () => string[];
  /** the frames for one upstream event, written together (often none: "") */
  map: (event: ResponsesEvent) => string;
  /** frames after the last event */
  end?: () => string[];
  /** frames that tell the client the stream failed (after whatever was already sent) */
  fail: (reason: unknown) => string[];
}

/** Events that only open the answer: nothing the client would see yet. */
const PREAMBLE = new Set(["response.created", "response.in_progress", "response.queued"]);

/**
 * The status line waits at most this long for the first output. Failures that would change it (context too
 * long, a usage limit) come within a second; a model that thinks in silence for longer gets its 200 anyway,
 * so clients and proxies in between see an answer begin instead of a silent connection.
 */
export const STATUS_HOLD_MS = 10_000;
const HOLD_EXPIRED = Symbol("hold expired");

type Upstream = {
  iterator: AsyncIterator<ResponsesEvent[]>;
  done: boolean;
  /** the read the hold stopped waiting for, taken up by the frame loop */
  pending?: Promise<IteratorResult<ResponsesEvent[]>>;
};

/**
 * The one streaming loop every client family uses: upstream events → client frames, and a failure → the
 * family's error frame. With `holdStatus`, the status line waits until the answer shows the client something
 * (or ends), and a failure before that is thrown: the client gets the status and error body of the non-stream
 * path (400 context_length_exceeded, 429 with retry-after), which SDKs raise as their typed errors. The frames
 * held go out in the same write as the first output, so nothing waits longer than it did. When the client
 * itself went away nothing more is written; the iterator's cleanup aborts the upstream request.
 */
export async function translateFrames(
  events: AsyncIterable<ResponsesEvent[]>,
  mapping: FrameMapping,
  event: H3Event,
  ctx: ServerContext,
  holdStatus = true,
): Promise<AsyncGenerator<string>> {
  const upstream: Upstream = { iterator: events[Symbol.asyncIterator](), done: false };
  let held = (mapping.start?.() ?? []).join("");
  let timer: NodeJS.Timeout | undefined;
  const expired = holdStatus ? new Promise<typeof HOLD_EXPIRED>((resolve) => (timer = setTimeout(resolve, STATUS_HOLD_MS, HOLD_EXPIRED))) : undefined;
  try {
    for (let shown = !holdStatus; !shown; ) {
      const pending = upstream.iterator.next();
      const next = await Promise.race([pending, expired!]);
      if (next === HOLD_EXPIRED) {
        upstream.pending = pending;
        break;
      }
      if (next.done) upstream.done = shown = true;
      else
        for (const upstreamEvent of next.value) {
          const frames = mapping.map(upstreamEvent);
          held += frames;
          if (frames && !PREAMBLE.has(upstreamEvent.type)) shown = true;
        }
    }
  } catch (error) {
    await upstream.iterator.return?.();
    if (clientGone(event)) return (async function* () {})(); // nobody to tell, and nothing went wrong here
    throw streamEndReason(error, event, ctx) ?? error;
  } finally {
    clearTimeout(timer);
  }
  return frameLoop(held, upstream, mapping, event, ctx);
}

async function* frameLoop(held: string, upstream: Upstream, mapping: FrameMapping, event: H3Event, ctx: ServerContext): AsyncGenerator<string> {
  try {
    yield held;
    while (!upstream.done) {
      const read = upstream.pending ?? upstream.iterator.next();
      upstream.pending = undefined;
      const next = await read.catch((error: unknown) => {
        upstream.done = true;
        throw error;
      });
      if (next.done) break;
      let frames = "";
      for (const upstreamEvent of next.value) frames += mapping.map(upstreamEvent);
      if (frames) yield frames;
    }
    upstream.done = true;
    yield (mapping.end?.() ?? []).join("");
  } catch (error) {
    const reason = streamEndReason(error, event, ctx);
    if (!reason) return;
    const note = requestNote(event);
    if (note) note.failure = describeError(reason).message;
    yield mapping.fail(reason).join("");
  } finally {
    // the client left before the upstream answer ended: abort it
    if (!upstream.done) await upstream.iterator.return?.();
  }
}
