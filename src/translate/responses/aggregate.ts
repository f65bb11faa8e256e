import { toResponsesUsage } from "../usage.js";
import type { ResponsesEvent, ResponsesUsage } from "./types.js";

/**
 * Collects a Responses stream into the one `response` object a non-streaming client expects. The backend's
 * terminal event carries status and usage but an empty `output`, so the output items are taken from
 * `response.output_item.done`, in output order.
 */
export class ResponseAggregator {
  #items: { index: number; item: Record<string, unknown> }[] = [];
  #created: Record<string, unknown> = {};
  response: Record<string, unknown> | undefined;

  /** `request` is what the client sent: the response echoes its settings, as the Responses API does. */
  /** `sentTier`: the service tier the backend was asked for, reported when the backend does not say */
  constructor(
    private readonly request: Record<string, unknown> = {},
    private readonly sentTier?: string,
  ) {}

  push(event: ResponsesEvent): void {
    switch (event.type) {
      case "response.created":
        this.#created = (event.response as Record<string, unknown>) ?? {};
        break;
      case "response.output_item.done":
        if (event.item) this.#items.push({ index: typeof event.output_index === "number" ? event.output_index : this.#items.length, item: event.item as Record<string, unknown> });
        break;
      case "response.completed":
      case "response.incomplete":
      case "response.failed": {
        const final = (event.response as Record<string, unknown>) ?? {};
        const streamed = this.#items.sort((a, b) => a.index - b.index).map((e) => e.item);
        const output = Array.isArray(final.output) && final.output.length ? final.output : streamed;
        const req = this.request;
        this.response = {
          id: final.id ?? this.#created.id,
          object: "response",
          created_at: this.#created.created_at ?? Math.floor(Date.now() / 1000),
          status: final.status ?? event.type.slice("response.".length),
          error: final.error ?? null,
          incomplete_details: final.incomplete_details ?? null,
          instructions: typeof req.instructions === "string" ? req.instructions : null,
          model: req.model ?? final.model ?? this.#created.model,
          output: (output as Record<string, unknown>[]).map(withLogprobs),
          parallel_tool_calls: req.parallel_tool_calls ?? true,
          tool_choice: req.tool_choice ?? "auto",
          tools: req.tools ?? [],
          temperature: null,
          top_p: null,
          metadata: req.metadata ?? {},
          reasoning: req.reasoning ?? null,
          store: false,
          text: req.text ?? { format: { type: "text" } },
          usage: toResponsesUsage(final.usage as ResponsesUsage | undefined),
          service_tier: final.service_tier ?? this.#created.service_tier ?? this.sentTier ?? "default",
          output_text: outputText(output as Record<string, unknown>[]),
        };
        break;
      }
    }
  }
}

/**
 * Responses clients other than the Codex CLI (the openai SDK's `responses.stream()`, the Agents SDK, LangChain,
 * the AI SDK, Continue) read the `response` of every lifecycle event as a whole Response object, and the final
 * answer from `response.completed`'s `output`. The backend sends a bare `{id, status}` in `response.in_progress`
 * and no or an empty `output` in the terminal event: fill both in, as the OpenAI API sends them, and give a text
 * part its `annotations` list. Every other event is returned as it came (same object, no copy).
 */
export class ResponseStreamCompleter {
  readonly #aggregator: ResponseAggregator;
  #created: Record<string, unknown> = {};

  constructor(request: Record<string, unknown> = {}, sentTier?: string) {
    this.#aggregator = new ResponseAggregator(request, sentTier);
  }

  complete(event: ResponsesEvent): ResponsesEvent {
    this.#aggregator.push(event);
    switch (event.type) {
      case "response.created":
        this.#created = (event.response as Record<string, unknown>) ?? {};
        return event;
      case "response.in_progress":
      case "response.queued": {
        const response = (event.response as Record<string, unknown>) ?? {};
        return Object.assign({}, event, { response: Object.assign({}, this.#created, response, { output: response.output ?? [] }) });
      }
      case "response.completed":
      case "response.incomplete":
      case "response.failed":
        return Object.assign({}, event, { response: Object.assign({}, event.response as Record<string, unknown>, this.#aggregator.response) });
      case "response.content_part.added": {
        // the SDKs add each `annotation.added` to the part's `annotations`: a part without the list makes them throw
        const part = event.part as Record<string, unknown> | undefined;
        return part?.type === "output_text" && !Array.isArray(part.annotations) ? Object.assign({}, event, { part: Object.assign({}, part, { annotations: [] }) }) : event;
      }
      default:
        return event;
    }
  }
}

function outputText(output: Record<string, unknown>[]): string {
  return output
    .filter((item) => item.type === "message")
    .flatMap((item) => (item.content as Record<string, unknown>[] | undefined) ?? [])
    .filter((c) => c.type === "output_text")
    .map((c) => String(c.text ?? ""))
    .join("");
}

/** `output_text` parts carry `logprobs` in the API's shape; the backend leaves them out. */
function withLogprobs(item: Record<string, unknown>): Record<string, unknown> {
  if (item.type !== "message" || !Array.isArray(item.content)) return item;
  return Object.assign({}, item, {
    content: (item.content as Record<string, unknown>[]).map((c) => (c.type === "output_text" ? { annotations: [], logprobs: [], ...c } : c)),
  });
}
