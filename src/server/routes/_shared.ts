import { randomUUID } from "node:crypto";
import type { H3, H3Event } from "h3";
import { unknownModel } from "../../translate/model-name.js";
import type { TranslateContext } from "../../translate/responses/build.js";
import type { ResponsesEvent, ResponsesRequest } from "../../translate/responses/types.js";
import { UpstreamError } from "../../upstream/errors.js";
import type { UpstreamStream } from "../../upstream/client.js";
import type { ServerContext } from "../context.js";
import { nodeOf } from "../node.js";
import { describeError } from "../errors.js";
import { requestNote } from "../request-log.js";

/** Names the reasoning effort an answer was made with. */
export const EFFORT_HEADER = "x-codex-proxy-reasoning-effort";

type Handler = (event: H3Event) => unknown;

/** Register a `/v1/...` route under both paths: some clients leave out the `/v1` prefix. */
export function route(app: H3, method: "get" | "post", path: string, handler: Handler): void {
  app[method](`/v1${path}`, handler);
  app[method](path, handler);
}

/**
 * Aborts when the client disconnects or the server shuts down. On Node it listens to the response itself:
 * `AbortSignal.any` with the long-lived shutdown signal costs more than the rest of a short request.
 */
function requestSignal(event: H3Event, ctx: ServerContext): AbortSignal {
  const res = nodeOf(event)?.res;
  if (!res) return AbortSignal.any([event.req.signal, ctx.shutdownSignal]);
  const controller = new AbortController();
  const abort = () => controller.abort(ctx.shutdownSignal.aborted ? ctx.shutdownSignal.reason : new DOMException("The client went away", "AbortError"));
  ctx.shutdownSignal.addEventListener("abort", abort, { once: true });
  res.once("close", () => {
    ctx.shutdownSignal.removeEventListener("abort", abort);
    if (!res.writableEnded) abort();
  });
  return controller.signal;
}

/** Whether the client closed the connection before its answer was complete. */
function clientGone(event: H3Event): boolean {
  const res = nodeOf(event)?.res;
  return res ? res.destroyed && !res.writableEnded : event.req.signal.aborted;
}

/** 24 hex characters; randomUUID draws from a cached entropy pool, unlike randomBytes on every call. */
export function randomId(): string {
  return randomUUID().replace(/-/g, "").slice(0, 24);
}

/**
 * Send the translated request, aborted when the client leaves or the server stops; a model the backend does not
 * know is reported with the account's list.
 */
export async function openUpstream(
  event: H3Event,
  ctx: ServerContext,
  request: ResponsesRequest,
  translateCtx: TranslateContext,
  requestedModel: string,
): Promise<UpstreamStream> {
  // the effort may differ from the one asked for (clamped to the model's), so every answer names it
  const effort = request.reasoning?.effort;
  if (effort) event.res.headers.set(EFFORT_HEADER, effort);
  const note = requestNote(event);
  if (note) {
    note.model = request.model;
    note.effort = effort;
  }
  try {
    const upstream = await ctx.upstream.createResponse(request, { signal: requestSignal(event, ctx), sessionId: request.prompt_cache_key });
    if (note) note.upstream = upstream;
    return upstream;
  } catch (error) {
    if (error instanceof UpstreamError && error.kind === "model_not_supported") {
      ctx.catalog.invalidate();
      throw unknownModel(requestedModel, translateCtx.models);
    }
    throw error;
  }
}

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
  /** frames for one upstream event */
  map: (event: ResponsesEvent) => string[];
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
          const frames = mapping.map(upstreamEvent).join("");
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
      for (const upstreamEvent of next.value) for (const frame of mapping.map(upstreamEvent)) frames += frame;
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
