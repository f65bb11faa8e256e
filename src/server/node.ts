import type { IncomingMessage, ServerResponse } from "node:http";
import type { H3Event } from "h3";
import { Cancel, type CancelSignal } from "../_utils/cancel.js";

// The Node edge: where the server skips the web-standard wrappers on the hot path (reading the body, writing
// frames, noticing the client leave). Each function falls back to the web path when the app runs in-process.

/**
 * The Node request and response behind an event, for the hot paths that skip the web-standard wrappers;
 * undefined when the app runs in-process (`app.request()`). `listen.ts` serves HTTP/1.1 only.
 */
export function nodeOf(event: H3Event): { req: IncomingMessage; res: ServerResponse } | undefined {
  const node = event.runtime?.node;
  return node?.res ? (node as { req: IncomingMessage; res: ServerResponse }) : undefined;
}

/** Each shutdown signal's requests in flight, so that one listener cancels them all. */
const inFlight = new WeakMap<AbortSignal, Set<Cancel>>();

function requestsUnder(shutdownSignal: AbortSignal): Set<Cancel> {
  let requests = inFlight.get(shutdownSignal);
  if (!requests) {
    const all = new Set<Cancel>();
    shutdownSignal.addEventListener("abort", () => all.forEach((request) => request.abort(shutdownSignal.reason)), { once: true });
    inFlight.set(shutdownSignal, (requests = all));
  }
  return requests;
}

const CANCEL = "codexProxyCancel";
const clientWentAway = () => new DOMException("The client went away", "AbortError");

/**
 * The request's cancellation, one per request however many backend requests it opens: it fires when the client
 * disconnects (or had already) before its answer was complete, when the server shuts down, or on
 * {@link cancelRequest}. On Node it listens to the response itself, the shutdown signal has one listener for every
 * request, and the cancellation is a plain {@link Cancel}: an AbortController per request, and EventTarget
 * listeners on it, cost more than the rest of a short request's bookkeeping.
 */
export function requestSignal(event: H3Event, shutdownSignal: AbortSignal): CancelSignal {
  const res = nodeOf(event)?.res;
  if (!res) return AbortSignal.any([event.req.signal, shutdownSignal]);
  const known = event.context[CANCEL] as Cancel | undefined;
  if (known) return known;
  const cancel = new Cancel();
  event.context[CANCEL] = cancel;
  if (shutdownSignal.aborted) return cancel.abort(shutdownSignal.reason), cancel;
  if (res.destroyed) return cancel.abort(clientWentAway()), cancel; // gone while the request was being read or translated
  const requests = requestsUnder(shutdownSignal);
  requests.add(cancel);
  res.on("close", () => {
    requests.delete(cancel);
    if (!res.writableEnded) cancel.abort(shutdownSignal.aborted ? shutdownSignal.reason : clientWentAway());
  });
  return cancel;
}

/** Cancel what the request still has open upstream (one of its several backend requests failed: the rest is not wanted). */
export function cancelRequest(event: H3Event, reason: unknown): void {
  (event.context[CANCEL] as Cancel | undefined)?.abort(reason);
}

/** Whether the client closed the connection before its answer was complete. */
export function clientGone(event: H3Event): boolean {
  const res = nodeOf(event)?.res;
  return res ? res.destroyed && !res.writableEnded : event.req.signal.aborted;
}

/** Straight from the Node request: a web stream over it costs more than the rest of a short request. */
export function readNodeBody({ req, res }: { req: IncomingMessage; res: ServerResponse }, limit: number, tooLarge: () => Error, incomplete: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        // no length was declared, so there may be no end to discard: the 413 closes the connection
        req.pause();
        res.shouldKeepAlive = false;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onClose = () => {
      done();
      if (!req.complete) reject(incomplete());
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

export async function writeFrames(res: ServerResponse, frames: AsyncIterable<string>, headers: Record<string, string>): Promise<void> {
  res.writeHead(200, headers);
  const iterator = frames[Symbol.asyncIterator]();
  try {
    for (;;) {
      const { value, done } = await iterator.next();
      // done: h3 ends the response once this returns, in the same tick, so the last frames and the end go out
      // in one write (ending it here as well makes Node build an ERR_STREAM_ALREADY_FINISHED per request)
      if (done) return;
      if (res.destroyed) break;
      if (value) {
        if (!res.write(value)) await writable(res);
      } else if (!res.headersSent) res.flushHeaders(); // a stream held long enough shows its status before any frame
    }
  } catch {
    // the frame sources end every failure with an error frame, so this is a bug: a cut stream, never a clean end
    res.destroy();
  }
  await iterator.return?.();
}

/** Resolves when the reader has taken what was written, or is gone. */
export function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
