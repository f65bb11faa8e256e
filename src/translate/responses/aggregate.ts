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
  constructor(private readonly request: Record<string, unknown> = {}) {}

  push(event: ResponsesEvent): void {
    switch (event.type) {
      case "response.created":
        this.#created = (event.response as Record<string, unknown>) ?? {};
        break;
      case "response.output_item.done":
        if (event.item) this.#items.push({ index: typeof event.output_index === "number" ? event.output_index : this.#items.length, item: event.item as Record<string, unknown> });
        break;
      case "response.completed":
      case "response.incomplete": {
        const final = (event.response as Record<string, unknown>) ?? {};
        const streamed = this.#items.sort((a, b) => a.index - b.index).map((e) => e.item);
        const output = Array.isArray(final.output) && final.output.length ? final.output : streamed;
        const req = this.request;
        this.response = {
          id: final.id ?? this.#created.id,
          object: "response",
          created_at: this.#created.created_at ?? Math.floor(Date.now() / 1000),
          status: final.status ?? (event.type === "response.completed" ? "completed" : "incomplete"),
          error: null,
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
          output_text: outputText(output as Record<string, unknown>[]),
        };
        break;
      }
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
  return {
    ...item,
    content: (item.content as Record<string, unknown>[]).map((c) =>
      c.type === "output_text" ? { annotations: [], logprobs: [], ...c } : c,
    ),
  };
}
