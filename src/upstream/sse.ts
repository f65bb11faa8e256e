import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { ResponsesEvent } from "../translate/responses/types.js";
import { UpstreamError, errorFromFailedEvent } from "./errors.js";

/**
 * Bytes of an SSE body → its events, in batches: all the events one network read carried. Batching lets every
 * later stage pay its async hand-off once per read, not once per event. Does not look at content-type (the
 * backend sometimes omits it).
 */
export async function* parseSseBatches(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<EventSourceMessage[]> {
  let batch: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => batch.push(event) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    if (batch.length) {
      yield batch;
      batch = [];
    }
  }
  // a last event without its blank line still counts
  parser.feed(`${decoder.decode()}\n\n`);
  if (batch.length) yield batch;
}

export type UpstreamEvent = ResponsesEvent;

const TERMINAL = new Set(["response.completed", "response.incomplete"]);
const FAILED = new Set(["response.failed", "error"]);

/**
 * SSE batches → parsed Responses event batches. `response.failed` and `error` events, invalid JSON and a stream
 * that ends before `response.completed` / `.incomplete` are thrown as {@link UpstreamError}s, never a silent
 * truncation. A failure is thrown after the events before it in the same batch have been delivered.
 */
export async function* parseUpstreamEvents(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<UpstreamEvent[]> {
  let ended = false;
  for await (const messages of parseSseBatches(body)) {
    // after the terminal event, read on to the end of the body without yielding: a body read to its end
    // leaves the keep-alive connection reusable, where stopping early would destroy it
    if (ended) continue;
    const events: UpstreamEvent[] = [];
    let failure: UpstreamError | undefined;
    for (const message of messages) {
      if (message.data === "[DONE]") continue;
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        failure = new UpstreamError("bad_gateway", `The Codex backend sent an invalid event (not JSON): ${message.data.slice(0, 80)}`);
        break;
      }
      if (!data || typeof data !== "object") {
        failure = new UpstreamError("bad_gateway", "The Codex backend sent an invalid event (not an object)");
        break;
      }
      const event = data as UpstreamEvent;
      if (typeof event.type !== "string") event.type = message.event ?? "message";
      if (FAILED.has(event.type)) {
        failure = errorFromFailedEvent(event);
        break;
      }
      events.push(event);
      if (TERMINAL.has(event.type)) {
        ended = true;
        break;
      }
    }
    if (events.length) yield events;
    if (failure) throw failure;
  }
  if (ended) return;
  throw new UpstreamError("bad_gateway", "The Codex backend closed the stream before response.completed");
}
