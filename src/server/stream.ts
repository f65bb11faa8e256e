/**
 * An async iterable of text frames → a streaming Response. Each frame is written as soon as it exists (the
 * routes already join the frames of one upstream read into one string); when the client reads slowly, the
 * loop waits for it instead of buffering. When the client goes away, `cancel` ends the iterator, whose
 * `finally` blocks abort the upstream request.
 */
export function streamResponse(frames: AsyncIterable<string>, headers: Record<string, string>, status = 200): Response {
  const iterator = frames[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  let closed = false;
  let resume: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await iterator.next();
            if (done || closed) break;
            if (value) controller.enqueue(encoder.encode(value));
            // backpressure: a slow reader pauses the upstream read
            if ((controller.desiredSize ?? 1) <= 0) await new Promise<void>((r) => (resume = r));
          }
          if (!closed) controller.close();
        } catch (error) {
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
