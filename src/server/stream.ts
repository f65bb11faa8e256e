/**
 * An async iterable of text frames → a streaming Response. Frames produced in the same tick (the events of one
 * upstream read) are written as one chunk, which saves a write per event; when the client reads slowly, the
 * loop waits for it instead of buffering. When the client goes away, `cancel` ends the iterator, whose
 * `finally` blocks abort the upstream request.
 */
export function streamResponse(frames: AsyncIterable<string>, headers: Record<string, string>, status = 200): Response {
  const iterator = frames[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  let pending = "";
  let flushScheduled = false;
  let closed = false;
  let resume: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const flush = () => {
        flushScheduled = false;
        if (pending && !closed) controller.enqueue(encoder.encode(pending));
        pending = "";
      };
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await iterator.next();
            if (done || closed) break;
            pending += value;
            if (!flushScheduled) {
              flushScheduled = true;
              setImmediate(flush);
            }
            // backpressure: a slow reader pauses the upstream read
            if ((controller.desiredSize ?? 1) <= 0) await new Promise<void>((r) => (resume = r));
          }
          flush();
          if (!closed) controller.close();
        } catch (error) {
          flush();
          if (!closed) controller.error(error);
        }
      })();
    },
    pull() {
      resume?.();
      resume = undefined;
    },
    async cancel() {
      closed = true;
      resume?.();
      await iterator.return?.();
    },
  });
  return new Response(body, { status, headers });
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
