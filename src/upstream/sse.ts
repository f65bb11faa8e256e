import { StringDecoder } from "node:string_decoder";
import { createParser, type EventSourceMessage, type EventSourceParser } from "eventsource-parser";
import type { ResponsesEvent } from "../translate/responses/types.js";
import { UpstreamError, errorFromFailedEvent } from "./errors.js";

export type UpstreamEvent = ResponsesEvent;

const TERMINAL = new Set(["response.completed", "response.incomplete"]);
const FAILED = new Set(["response.failed", "error"]);

/**
 * Events an answer built whole (a non-stream response) can do without: every output item arrives complete in
 * `response.output_item.done`, its text, citations, reasoning summary and call arguments included (the Codex CLI
 * builds its history from those too), so the pieces streamed before it need not be parsed. Lifecycle, item,
 * refusal, terminal and failure events are always read.
 */
export const PARTIAL_EVENTS: ReadonlySet<string> = new Set([
  "response.in_progress",
  "response.content_part.added",
  "response.content_part.done",
  "response.output_text.delta",
  "response.output_text.done",
  "response.output_text.annotation.added",
  "response.reasoning_summary_part.added",
  "response.reasoning_summary_part.done",
  "response.reasoning_summary_text.delta",
  "response.reasoning_summary_text.done",
  "response.reasoning_text.delta",
  "response.reasoning_text.done",
  "response.function_call_arguments.delta",
  "response.function_call_arguments.done",
  "response.custom_tool_call_input.delta",
  "response.custom_tool_call_input.done",
]);

/**
 * Bytes of the backend's SSE body → Responses events, fed as they arrive (push, so no stream objects sit
 * between the socket and the translators). `response.failed` and `error` events, invalid JSON and a body that
 * ends before `response.completed` / `.incomplete` become {@link failure}, never a silent truncation. Does not
 * look at content-type (the backend sometimes omits it).
 */
export class UpstreamEventParser {
  /** why the stream failed; set at most once, after the events before it were returned */
  failure: UpstreamError | undefined;
  /** the terminal event was seen: anything after it is ignored */
  completed = false;
  /** the terminal event itself (its `response.usage` counts the tokens) */
  terminal: UpstreamEvent | undefined;
  #batch: UpstreamEvent[] = [];
  readonly #sse: EventSourceParser = createParser({ onEvent: (message) => this.#onMessage(message) });
  readonly #decoder = new StringDecoder("utf8");

  /** `skip`: event types not parsed at all (by the SSE `event` name), such as {@link PARTIAL_EVENTS} */
  constructor(private readonly skip?: ReadonlySet<string>) {}

  /** The events this chunk completed, in order (often none, for an event split across reads). */
  feed(chunk: Buffer | string): UpstreamEvent[] {
    if (this.completed || this.failure) return [];
    this.#sse.feed(typeof chunk === "string" ? chunk : this.#decoder.write(chunk));
    const batch = this.#batch;
    this.#batch = [];
    return batch;
  }

  /** The body ended: a last event without its blank line still counts; no terminal event is a failure. */
  end(): UpstreamEvent[] {
    const batch = this.feed(`${this.#decoder.end()}\n\n`);
    if (!this.completed && !this.failure) this.failure = new UpstreamError("bad_gateway", "The Codex backend closed the stream before response.completed");
    return batch;
  }

  #onMessage(message: EventSourceMessage): void {
    if (this.completed || this.failure || message.data === "[DONE]") return;
    if (message.event !== undefined && this.skip?.has(message.event)) return;
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      this.failure = new UpstreamError("bad_gateway", `The Codex backend sent an invalid event (not JSON): ${message.data.slice(0, 80)}`);
      return;
    }
    if (!data || typeof data !== "object" || Array.isArray(data)) {
      this.failure = new UpstreamError("bad_gateway", "The Codex backend sent an invalid event (not an object)");
      return;
    }
    const event = data as UpstreamEvent;
    if (typeof event.type !== "string") event.type = message.event ?? "message";
    if (FAILED.has(event.type)) {
      this.failure = errorFromFailedEvent(event);
      return;
    }
    this.#batch.push(event);
    if (TERMINAL.has(event.type)) {
      this.completed = true;
      this.terminal = event;
    }
  }
}
