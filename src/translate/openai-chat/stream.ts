import type { ReasoningFormat, ResponsesEvent, ResponsesUsage } from "../responses/types.js";
import { toChatUsage, type ChatUsage } from "../usage.js";

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
}

export interface ChatDelta {
  role?: "assistant";
  content?: string;
  reasoning_content?: string;
  refusal?: string;
  tool_calls?: ToolCallDelta[];
}

export interface ChatChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: { index: 0; delta: ChatDelta; finish_reason: FinishReason | null; logprobs: null }[];
  usage?: ChatUsage | null;
}

export interface ChatStreamOptions {
  id: string;
  created: number;
  /** the model name as the client asked for it */
  model: string;
  reasoningFormat: ReasoningFormat;
  /** emit a final chunk with `usage` (`stream_options.include_usage`) */
  includeUsage: boolean;
}

interface CallState {
  index: number;
  args: string;
}

/**
 * Responses events → Chat Completions chunks, one event at a time. Tool calls follow the OpenAI delta shape
 * exactly: the first delta of a call has index, id, type and name with empty arguments; later ones only the
 * index and argument fragments. Reasoning summaries become `<think>` content, `reasoning_content`, or nothing.
 */
export class ChatStreamTranslator {
  readonly #o: ChatStreamOptions;
  #started = false;
  #thinkOpen = false;
  #reasoningPart = -1;
  #calls = new Map<string, CallState>();
  #textItems = new Set<string>();
  #reasoningItems = new Set<string>();
  /** set after the terminal event */
  finishReason: FinishReason | null = null;
  usage: ChatUsage | undefined;
  /** the backend's response id */
  responseId: string | undefined;

  constructor(options: ChatStreamOptions) {
    this.#o = options;
  }

  /** The chunks to send for one upstream event (often none). */
  push(event: ResponsesEvent): ChatChunk[] {
    const out: ChatChunk[] = [];
    if (!this.#started) {
      this.#started = true;
      out.push(this.#chunk({ role: "assistant", content: "" }));
    }
    switch (event.type) {
      case "response.created":
        this.responseId = ((event.response as Record<string, unknown>)?.id as string) ?? undefined;
        break;
      case "response.reasoning_summary_text.delta":
        this.#reasoningItems.add(String(event.item_id));
        this.#reasoning(String(event.delta ?? ""), Number(event.summary_index ?? 0), out);
        break;
      case "response.output_text.delta":
        this.#textItems.add(String(event.item_id));
        this.#text(String(event.delta ?? ""), out);
        break;
      case "response.refusal.delta":
        this.#closeThink(out);
        out.push(this.#chunk({ refusal: String(event.delta ?? "") }));
        break;
      case "response.output_item.added":
        this.#itemAdded(event.item as Record<string, unknown>, event, out);
        break;
      case "response.function_call_arguments.delta": {
        const call = this.#call(event);
        if (call && event.delta) {
          call.args += String(event.delta);
          out.push(this.#chunk({ tool_calls: [{ index: call.index, function: { arguments: String(event.delta) } }] }));
        }
        break;
      }
      case "response.output_item.done":
        this.#itemDone(event.item as Record<string, unknown>, event, out);
        break;
      case "response.completed":
      case "response.incomplete":
        this.#finish(event, out);
        break;
    }
    return out;
  }

  #chunk(delta: ChatDelta, finishReason: FinishReason | null = null): ChatChunk {
    return {
      id: this.#o.id,
      object: "chat.completion.chunk",
      created: this.#o.created,
      model: this.#o.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    };
  }

  #reasoning(text: string, part: number, out: ChatChunk[]): void {
    if (!text || this.#o.reasoningFormat === "none") return;
    // separate summary parts the way the backend's own UI does
    const sep = this.#reasoningPart >= 0 && part !== this.#reasoningPart ? "\n\n" : "";
    this.#reasoningPart = part;
    if (this.#o.reasoningFormat === "reasoning_content") {
      out.push(this.#chunk({ reasoning_content: sep + text }));
      return;
    }
    const open = this.#thinkOpen ? "" : "<think>\n";
    this.#thinkOpen = true;
    out.push(this.#chunk({ content: open + sep + text }));
  }

  #closeThink(out: ChatChunk[]): void {
    if (!this.#thinkOpen) return;
    this.#thinkOpen = false;
    out.push(this.#chunk({ content: "\n</think>\n\n" }));
  }

  #text(text: string, out: ChatChunk[]): void {
    this.#closeThink(out);
    if (text) out.push(this.#chunk({ content: text }));
  }

  #key(item: Record<string, unknown> | undefined, event: ResponsesEvent): string {
    return String(item?.id ?? event.item_id ?? item?.call_id ?? `#${event.output_index}`);
  }

  #call(event: ResponsesEvent): CallState | undefined {
    return this.#calls.get(String(event.item_id)) ?? this.#calls.get(`#${event.output_index}`);
  }

  #startCall(item: Record<string, unknown>, event: ResponsesEvent, out: ChatChunk[]): CallState {
    this.#closeThink(out);
    const state: CallState = { index: new Set(this.#calls.values()).size, args: "" };
    this.#calls.set(this.#key(item, event), state);
    if (event.output_index !== undefined) this.#calls.set(`#${event.output_index}`, state);
    out.push(
      this.#chunk({
        tool_calls: [{ index: state.index, id: String(item.call_id ?? item.id), type: "function", function: { name: String(item.name ?? ""), arguments: "" } }],
      }),
    );
    return state;
  }

  #itemAdded(item: Record<string, unknown> | undefined, event: ResponsesEvent, out: ChatChunk[]): void {
    if (item?.type === "function_call" || item?.type === "custom_tool_call") this.#startCall(item, event, out);
  }

  /** The done item is authoritative: send whatever its deltas did not. */
  #itemDone(item: Record<string, unknown> | undefined, event: ResponsesEvent, out: ChatChunk[]): void {
    if (!item) return;
    if (item.type === "function_call" || item.type === "custom_tool_call") {
      const state = this.#calls.get(this.#key(item, event)) ?? this.#startCall(item, event, out);
      const full = String((item.type === "function_call" ? item.arguments : item.input) ?? "");
      if (full.length > state.args.length && full.startsWith(state.args)) {
        out.push(this.#chunk({ tool_calls: [{ index: state.index, function: { arguments: full.slice(state.args.length) } }] }));
        state.args = full;
      }
    } else if (item.type === "message" && !this.#textItems.has(String(item.id))) {
      const text = ((item.content as Record<string, unknown>[] | undefined) ?? [])
        .map((c) => (c.type === "output_text" ? String(c.text ?? "") : ""))
        .join("");
      this.#text(text, out);
    } else if (item.type === "reasoning" && !this.#reasoningItems.has(String(item.id))) {
      const parts = (item.summary as Record<string, unknown>[] | undefined) ?? [];
      parts.forEach((p, i) => this.#reasoning(String(p.text ?? ""), i, out));
    }
  }

  #finish(event: ResponsesEvent, out: ChatChunk[]): void {
    this.#closeThink(out);
    const response = (event.response ?? {}) as Record<string, unknown>;
    this.usage = toChatUsage(response.usage as ResponsesUsage | undefined);
    if (event.type === "response.incomplete") {
      const reason = (response.incomplete_details as Record<string, unknown> | undefined)?.reason;
      this.finishReason = reason === "content_filter" ? "content_filter" : "length";
    } else {
      this.finishReason = this.#calls.size ? "tool_calls" : "stop";
    }
    out.push(this.#chunk({}, this.finishReason));
    if (this.#o.includeUsage) out.push({ ...this.#chunk({}), choices: [], usage: this.usage });
  }
}

/**
 * Serialize chunks of one stream: byte for byte `JSON.stringify(chunk)`, but the part every chunk shares
 * (id, created, model) is built once per stream instead of once per token.
 */
export function chunkSerializer(): (chunk: ChatChunk) => string {
  let prefix: string | undefined;
  return (chunk) => {
    const choice = chunk.choices[0];
    if (!choice || chunk.choices.length !== 1 || chunk.usage !== undefined) return JSON.stringify(chunk);
    prefix ??= `{"id":${JSON.stringify(chunk.id)},"object":"chat.completion.chunk","created":${chunk.created},"model":${JSON.stringify(chunk.model)},"choices":[{"index":0,"delta":`;
    return `${prefix}${JSON.stringify(choice.delta)},"finish_reason":${JSON.stringify(choice.finish_reason)},"logprobs":null}]}`;
  };
}
