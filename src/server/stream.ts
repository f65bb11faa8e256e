import type { ServerResponse } from "node:http";
import { fromNodeHandler, type H3Event } from "h3";
import { nodeOf } from "./node.js";

/**
 * An async iterable of text frames → the client. Each frame is written as soon as it exists (the routes already
 * join the frames of one upstream read into one string), and a slow reader pauses the loop instead of
 * filling memory. On Node the frames go straight onto the response: a web stream in between costs more than
 * the translation. When the client goes away, the loop ends the iterator, whose `finally` blocks abort the
 * upstream request.
 */
export function streamResponse(event: H3Event, frames: AsyncIterable<string>, headers: Record<string, string>): unknown {
  if (!nodeOf(event)) return webStreamResponse(frames, headers);
  return fromNodeHandler((_req, res) => writeFrames(res as ServerResponse, frames, { ...preparedHeaders(event), ...headers }))(event);
}

/** Headers a middleware prepared (CORS), for answers h3 does not add them to: streams and relayed errors. */
export function preparedHeaders(event: H3Event): Record<string, string> {
  const prepared: Record<string, string> = {};
  event.res.headers.forEach((value, name) => (prepared[name] = value));
  return prepared;
}

async function writeFrames(res: ServerResponse, frames: AsyncIterable<string>, headers: Record<string, string>): Promise<void> {
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
