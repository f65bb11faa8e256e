import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { ResponsesEvent } from "../translate/responses/types.js";
import { UpstreamError, errorFromFailedEvent } from "./errors.js";

/** Bytes of an SSE body → its events. Does not look at content-type (the backend sometimes omits it). */
export async function* parseSseEvents(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    while (queue.length) yield queue.shift()!;
  }
  // a last event without its blank line still counts
  parser.feed(`${decoder.decode()}\n\n`);
  while (queue.length) yield queue.shift()!;
}

export type UpstreamEvent = ResponsesEvent;

const TERMINAL = new Set(["response.completed", "response.incomplete"]);
const FAILED = new Set(["response.failed", "error"]);

/**
 * SSE events → parsed Responses events. `response.failed` and `error` events, invalid JSON and a stream that
 * ends before `response.completed` / `.incomplete` are thrown as {@link UpstreamError}s, never a silent truncation.
 */
export async function* parseUpstreamEvents(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<UpstreamEvent> {
  for await (const message of parseSseEvents(body)) {
    if (message.data === "[DONE]") continue;
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      throw new UpstreamError("bad_gateway", `The Codex backend sent an invalid event (not JSON): ${message.data.slice(0, 80)}`);
    }
    if (!data || typeof data !== "object") throw new UpstreamError("bad_gateway", "The Codex backend sent an invalid event (not an object)");
    const event = data as UpstreamEvent;
    if (typeof event.type !== "string") event.type = message.event ?? "message";
    if (FAILED.has(event.type)) throw errorFromFailedEvent(event);
    yield event;
    if (TERMINAL.has(event.type)) return;
  }
  throw new UpstreamError("bad_gateway", "The Codex backend closed the stream before response.completed");
}
