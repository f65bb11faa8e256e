import type { ResponsesEvent, ResponsesUsage } from "../responses/types.js";
import type { ReasoningFormat } from "../reasoning-settings.js";
import { toChatUsage, type ChatUsage } from "../usage.js";
import { ReasoningParts, ThinkTags } from "../reasoning.js";

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** A function call's delta, or a freeform (`custom`) tool call's, whose input is plain text. */
export type ToolCallDelta =
  | { index: number; id?: string; type?: "function"; function: { name?: string; arguments: string } }
  | { index: number; id?: string; type?: "custom"; custom: { name?: string; input: string } };

/** A web source the answer cites, in the Chat API's shape; indices are into the whole `content`. */
export interface UrlCitation {
  type: "url_citation";
  url_citation: { start_index: number; end_index: number; url: string; title: string };
}

export interface ChatDelta {
  role?: "assistant";
  annotations?: UrlCitation[];
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
  /** the tier that served the answer: "default" or "priority" (Fast) */
  service_tier: string;
}

export interface ChatStreamOptions {
  id: string;
  created: number;
  /** the model name as the client asked for it */
  model: string;
  reasoningFormat: ReasoningFormat;
  /** emit a final chunk with `usage` (`stream_options.include_usage`) */
  includeUsage: boolean;
  /** the service tier the backend was asked for; the backend's own word wins */
  serviceTier?: string;
}

interface CallState {
  index: number;
  custom: boolean;
  args: string;
}

/**
 * Responses events → Chat Completions chunks, one event at a time. Tool calls follow the OpenAI delta shape
 * exactly: the first delta of a call has index, id, type and name with empty arguments; later ones only the
 * index and argument fragments. Reasoning summaries become `<think>` content, `reasoning_content`, or nothing.
 */
export class ChatStreamTranslator {
  readonly #options: ChatStreamOptions;
  #started = false;
  #contentSent = false;
  #parts = new ReasoningParts();
  #thinkTags = new ThinkTags();
  #calls = new Map<string, CallState>();
  #textItems = new Set<string>();
  #reasoningItems = new Set<string>();
  /** characters of `content` sent so far, and where each text item began in it (citations point into it) */
  #contentLength = 0;
  #textStart = new Map<string, number>();
  #annotated = new Set<string>();
  /** set after the terminal event */
  finishReason: FinishReason | null = null;
  usage: ChatUsage | undefined;
  /** the backend's response id */
  responseId: string | undefined;
  serviceTier: string;

  constructor(options: ChatStreamOptions) {
    this.#options = options;
    this.serviceTier = options.serviceTier ?? "default";
  }

  /** The chunks to send for one upstream event (often none). */
  push(event: ResponsesEvent): ChatChunk[] {
    const out: ChatChunk[] = [];
    const tier = (event.response as Record<string, unknown> | undefined)?.service_tier;
    if (typeof tier === "string" && tier) this.serviceTier = tier;
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
        this.#reasoning(String(event.delta ?? ""), `${String(event.item_id)}#${Number(event.summary_index ?? 0)}`, out);
        break;
      case "response.output_text.delta":
        this.#textItems.add(String(event.item_id));
        this.#text(String(event.delta ?? ""), out, String(event.item_id));
        break;
      case "response.output_text.annotation.added":
        this.#annotated.add(String(event.item_id));
        this.#annotations([event.annotation], String(event.item_id), out);
        break;
      case "response.refusal.delta":
        this.#closeThink(out);
        out.push(this.#chunk({ refusal: String(event.delta ?? "") }));
        break;
      case "response.output_item.added":
        this.#itemAdded(event.item as Record<string, unknown>, event, out);
        break;
      case "response.function_call_arguments.delta":
      case "response.custom_tool_call_input.delta": {
        const call = this.#call(event);
        if (call && event.delta) this.#callDelta(call, String(event.delta), out);
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
    if (delta.content) this.#contentLength += delta.content.length;
    return {
      id: this.#options.id,
      object: "chat.completion.chunk",
      created: this.#options.created,
      model: this.#options.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      service_tier: this.serviceTier,
    };
  }

  /** Reasoning text of one summary part (`key`: item id and summary index), separated from the part before. */
  #reasoning(text: string, key: string, out: ChatChunk[]): void {
    if (!text || this.#options.reasoningFormat === "none") return;
    if (this.#options.reasoningFormat === "reasoning_content") {
      out.push(this.#chunk({ reasoning_content: this.#parts.before(key) + text }));
      return;
    }
    out.push(this.#chunk({ content: this.#thinkTags.write(text, key, this.#contentSent) }));
    this.#contentSent = true;
  }

  #closeThink(out: ChatChunk[]): void {
    const close = this.#thinkTags.close();
    if (close) out.push(this.#chunk({ content: close }));
  }

  #text(text: string, out: ChatChunk[], itemId?: string): void {
    this.#closeThink(out);
    if (!text) return;
    if (itemId && !this.#textStart.has(itemId)) this.#textStart.set(itemId, this.#contentLength);
    this.#contentSent = true;
    out.push(this.#chunk({ content: text }));
  }

  /** The backend's `url_citation` annotations of one text item, moved to where its text sits in `content`. */
  #annotations(annotations: unknown[], itemId: string, out: ChatChunk[]): void {
    const offset = this.#textStart.get(itemId) ?? 0;
    const citations: UrlCitation[] = [];
    for (const raw of annotations) {
      const a = raw as Record<string, unknown> | null;
      if (a?.type !== "url_citation" || typeof a.url !== "string") continue;
      const at = (n: unknown) => offset + (typeof n === "number" ? n : 0);
      citations.push({ type: "url_citation", url_citation: { start_index: at(a.start_index), end_index: at(a.end_index), url: a.url, title: String(a.title ?? a.url) } });
    }
    if (citations.length) out.push(this.#chunk({ annotations: citations }));
  }

  #key(item: Record<string, unknown> | undefined, event: ResponsesEvent): string {
    return String(item?.id ?? event.item_id ?? item?.call_id ?? `#${event.output_index}`);
  }

  #call(event: ResponsesEvent): CallState | undefined {
    return this.#calls.get(String(event.item_id)) ?? this.#calls.get(`#${event.output_index}`);
  }

  #startCall(item: Record<string, unknown>, event: ResponsesEvent, out: ChatChunk[]): CallState {
    this.#closeThink(out);
    const state: CallState = { index: new Set(this.#calls.values()).size, custom: item.type === "custom_tool_call", args: "" };
    this.#calls.set(this.#key(item, event), state);
    if (event.output_index !== undefined) this.#calls.set(`#${event.output_index}`, state);
    const id = String(item.call_id ?? item.id);
    const name = String(item.name ?? "");
    // a freeform tool call answers in the client's own shape: `custom: {name, input}`
    const first: ToolCallDelta = state.custom
      ? { index: state.index, id, type: "custom", custom: { name, input: "" } }
      : { index: state.index, id, type: "function", function: { name, arguments: "" } };
    out.push(this.#chunk({ tool_calls: [first] }));
    return state;
  }

  #callDelta(call: CallState, text: string, out: ChatChunk[]): void {
    call.args += text;
    const delta: ToolCallDelta = call.custom ? { index: call.index, custom: { input: text } } : { index: call.index, function: { arguments: text } };
    out.push(this.#chunk({ tool_calls: [delta] }));
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
      if (full.length > state.args.length && full.startsWith(state.args)) this.#callDelta(state, full.slice(state.args.length), out);
    } else if (item.type === "message") {
      const parts = ((item.content as Record<string, unknown>[] | undefined) ?? []).filter((c) => c.type === "output_text");
      const id = String(item.id);
      if (!this.#textItems.has(id)) this.#text(parts.map((c) => String(c.text ?? "")).join(""), out, id);
      // a backend that sends citations only on the finished item
      if (!this.#annotated.has(id)) this.#annotations(parts.flatMap((c) => (Array.isArray(c.annotations) ? c.annotations : [])), id, out);
    } else if (item.type === "reasoning" && !this.#reasoningItems.has(String(item.id))) {
      const parts = (item.summary as Record<string, unknown>[] | undefined) ?? [];
      parts.forEach((p, i) => this.#reasoning(String(p.text ?? ""), `${String(item.id)}#${i}`, out));
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
    if (this.#options.includeUsage) out.push(Object.assign(this.#chunk({}), { choices: [], usage: this.usage }));
  }
}

/**
 * Serialize chunks of one stream: byte for byte `JSON.stringify(chunk)`, but the part every chunk shares
 * (id, created, model) is built once per stream instead of once per token.
 */
export function chunkSerializer(): (chunk: ChatChunk) => string {
  let prefix: string | undefined;
  let suffix = "";
  let tier: string | undefined;
  return (chunk) => {
    const choice = chunk.choices[0];
    if (!choice || chunk.choices.length !== 1 || chunk.usage !== undefined) return JSON.stringify(chunk);
    prefix ??= `{"id":${JSON.stringify(chunk.id)},"object":"chat.completion.chunk","created":${chunk.created},"model":${JSON.stringify(chunk.model)},"choices":[{"index":0,"delta":`;
    // the tier is known from the first event on; rebuilt only if the backend ever names another
    if (tier !== chunk.service_tier) {
      tier = chunk.service_tier;
      suffix = `,"logprobs":null}],"service_tier":${JSON.stringify(tier)}}`;
    }
    return `${prefix}${JSON.stringify(choice.delta)},"finish_reason":${JSON.stringify(choice.finish_reason)}${suffix}`;
  };
}
