import { createHash } from "node:crypto";
import type { ResponsesEvent, ResponsesUsage } from "../responses/types.js";
import { ReasoningParts, summaryText } from "../reasoning.js";

export type AnthropicEvent = { type: string } & Record<string, unknown>;
type StopReason = "end_turn" | "tool_use" | "max_tokens" | "refusal";

interface OpenBlock {
  index: number;
  kind: "text" | "thinking" | "tool_use";
  /** the upstream item the block belongs to */
  key: string;
  args?: string;
}

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** searches the backend ran for this answer */
  server_tool_use?: { web_search_requests: number; web_fetch_requests: number };
}

/** Anthropic counts cached input apart from the rest. */
export function toAnthropicUsage(usage: ResponsesUsage | undefined | null): AnthropicUsage {
  const cached = usage?.input_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.input_tokens ?? 0) - cached),
    output_tokens: usage?.output_tokens ?? 0,
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: 0,
  };
}

/**
 * Responses events → the Messages API stream: `message_start`, then `content_block_start` / `_delta` /
 * `_stop` per block (thinking, text, tool_use with `input_json_delta`), `message_delta` with the stop reason
 * and usage, and `message_stop`.
 */
export class AnthropicStreamTranslator {
  #started = false;
  #next = 0;
  #open?: OpenBlock;
  #sawTool = false;
  #parts = new ReasoningParts();
  #done = new Set<string>();
  /** the text of each message item so far: a citation quotes what it points at */
  #texts = new Map<string, string>();
  #annotated = new Set<string>();
  #searches = 0;
  stopReason: StopReason | undefined;
  usage: AnthropicUsage | undefined;

  constructor(
    private readonly id: string,
    private readonly model: string,
    private readonly thinking: boolean,
  ) {}

  push(event: ResponsesEvent): AnthropicEvent[] {
    const out: AnthropicEvent[] = [];
    if (!this.#started) {
      this.#started = true;
      out.push({
        type: "message_start",
        message: { id: this.id, type: "message", role: "assistant", model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: toAnthropicUsage(undefined) },
      });
    }
    const item = event.item as Record<string, unknown> | undefined;
    switch (event.type) {
      case "response.reasoning_summary_text.delta": {
        if (!this.thinking || !event.delta) break;
        // one thinking block per reasoning item; its summary parts separated inside it
        const key = String(event.item_id);
        if (this.#open?.kind !== "thinking" || this.#open.key !== key) this.#parts.reset();
        const sep = this.#parts.before(`${key}#${Number(event.summary_index ?? 0)}`);
        this.#ensure("thinking", key, out);
        out.push(this.#delta({ type: "thinking_delta", thinking: sep + String(event.delta) }));
        break;
      }
      case "response.output_text.delta":
        if (!event.delta) break;
        this.#ensure("text", String(event.item_id), out);
        this.#texts.set(String(event.item_id), (this.#texts.get(String(event.item_id)) ?? "") + String(event.delta));
        out.push(this.#delta({ type: "text_delta", text: String(event.delta) }));
        break;
      case "response.output_text.annotation.added":
        this.#annotated.add(String(event.item_id));
        this.#citations([event.annotation], String(event.item_id), out);
        break;
      case "response.output_item.added":
        if (item?.type === "function_call") this.#startTool(item, out);
        break;
      case "response.function_call_arguments.delta":
        if (this.#open?.kind === "tool_use" && event.delta) {
          this.#open.args = (this.#open.args ?? "") + String(event.delta);
          out.push(this.#delta({ type: "input_json_delta", partial_json: String(event.delta) }));
        }
        break;
      case "response.output_item.done":
        this.#itemDone(item, out);
        break;
      case "response.completed":
      case "response.incomplete": {
        this.#close(out);
        const response = (event.response ?? {}) as Record<string, unknown>;
        const reason = (response.incomplete_details as Record<string, unknown> | undefined)?.reason;
        this.stopReason = event.type === "response.incomplete" ? (reason === "content_filter" ? "refusal" : "max_tokens") : this.#sawTool ? "tool_use" : "end_turn";
        this.usage = toAnthropicUsage(response.usage as ResponsesUsage | undefined);
        if (this.#searches) this.usage.server_tool_use = { web_search_requests: this.#searches, web_fetch_requests: 0 };
        out.push({ type: "message_delta", delta: { stop_reason: this.stopReason, stop_sequence: null }, usage: this.usage });
        out.push({ type: "message_stop" });
        break;
      }
    }
    return out;
  }

  #delta(delta: Record<string, unknown>): AnthropicEvent {
    return { type: "content_block_delta", index: this.#open!.index, delta };
  }

  #ensure(kind: "text" | "thinking", key: string, out: AnthropicEvent[]): void {
    if (this.#open?.kind === kind && this.#open.key === key) return;
    this.#close(out);
    this.#open = { index: this.#next++, kind, key };
    const block = kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" };
    out.push({ type: "content_block_start", index: this.#open.index, content_block: block });
  }

  #startTool(item: Record<string, unknown>, out: AnthropicEvent[]): void {
    this.#close(out);
    this.#sawTool = true;
    this.#open = { index: this.#next++, kind: "tool_use", key: String(item.id ?? item.call_id), args: "" };
    out.push({ type: "content_block_start", index: this.#open.index, content_block: { type: "tool_use", id: String(item.call_id ?? item.id), name: String(item.name ?? ""), input: {} } });
  }

  /** `url_citation` annotations → `citations_delta` on the text block they belong to (while it is open). */
  #citations(annotations: unknown[], key: string, out: AnthropicEvent[]): void {
    if (this.#open?.kind !== "text" || this.#open.key !== key) return;
    const text = this.#texts.get(key) ?? "";
    for (const raw of annotations) {
      const a = raw as Record<string, unknown> | null;
      if (a?.type !== "url_citation" || typeof a.url !== "string") continue;
      const cited = text.slice(Number(a.start_index ?? 0), Number(a.end_index ?? 0));
      const citation = { type: "web_search_result_location", url: a.url, title: typeof a.title === "string" ? a.title : null, encrypted_index: Buffer.from(a.url).toString("base64"), cited_text: cited };
      out.push(this.#delta({ type: "citations_delta", citation }));
    }
  }

  /** A finished backend search → the `server_tool_use` block that ran it and the `web_search_tool_result` it found. */
  #search(item: Record<string, unknown>, out: AnthropicEvent[]): void {
    this.#close(out);
    this.#searches++;
    const action = (item.action ?? {}) as Record<string, unknown>;
    const id = `srvtoolu_${String(item.id ?? this.#next)}`;
    const input = action.query !== undefined ? { query: action.query } : {};
    out.push({ type: "content_block_start", index: this.#next, content_block: { type: "server_tool_use", id, name: "web_search", input: {} } });
    out.push({ type: "content_block_delta", index: this.#next, delta: { type: "input_json_delta", partial_json: JSON.stringify(input) } });
    out.push({ type: "content_block_stop", index: this.#next++ });
    const sources = Array.isArray(action.sources) ? (action.sources as Record<string, unknown>[]) : [];
    const content = sources
      .filter((src) => typeof src?.url === "string")
      .map((src) => ({ type: "web_search_result", url: String(src.url), title: String(src.title ?? src.url), encrypted_content: Buffer.from(String(src.url)).toString("base64"), page_age: null }));
    out.push({ type: "content_block_start", index: this.#next, content_block: { type: "web_search_tool_result", tool_use_id: id, content } });
    out.push({ type: "content_block_stop", index: this.#next++ });
  }

  /** The done item is authoritative: send what its deltas did not, then close its block. */
  #itemDone(item: Record<string, unknown> | undefined, out: AnthropicEvent[]): void {
    if (!item) return;
    const key = String(item.id ?? item.call_id);
    if (item.type === "function_call") {
      if (this.#open?.kind !== "tool_use" || this.#open.key !== key) this.#startTool(item, out);
      const full = String(item.arguments ?? "");
      const sent = this.#open!.args ?? "";
      if (full.length > sent.length && full.startsWith(sent)) out.push(this.#delta({ type: "input_json_delta", partial_json: full.slice(sent.length) }));
      this.#close(out);
    } else if (item.type === "reasoning" && this.thinking) {
      if (this.#open?.kind !== "thinking" || this.#open.key !== key) {
        const text = summaryText(item);
        if (!text) return;
        this.#ensure("thinking", key, out);
        out.push(this.#delta({ type: "thinking_delta", thinking: text }));
      }
      // a signature is required on thinking blocks; this one only identifies the reasoning item
      const signature = createHash("sha256").update(String(item.encrypted_content ?? key)).digest("base64");
      out.push(this.#delta({ type: "signature_delta", signature }));
      this.#close(out);
    } else if (item.type === "web_search_call") {
      this.#search(item, out);
    } else if (item.type === "message" && !this.#done.has(key)) {
      const parts = ((item.content as Record<string, unknown>[] | undefined) ?? []).filter((c) => c.type === "output_text");
      const text = parts.map((c) => String(c.text ?? "")).join("");
      if (text && !(this.#open?.kind === "text" && this.#open.key === key)) {
        this.#ensure("text", key, out);
        this.#texts.set(key, text);
        out.push(this.#delta({ type: "text_delta", text }));
      }
      // a backend that sends citations only on the finished item
      if (!this.#annotated.has(key)) this.#citations(parts.flatMap((c) => (Array.isArray(c.annotations) ? c.annotations : [])), key, out);
      this.#close(out);
    } else if (this.#open?.key === key) {
      this.#close(out);
    }
    this.#done.add(key);
  }

  #close(out: AnthropicEvent[]): void {
    if (!this.#open) return;
    out.push({ type: "content_block_stop", index: this.#open.index });
    this.#open = undefined;
  }
}

/** The events of one message folded into the non-stream `message` object. */
export function aggregateAnthropic(events: AnthropicEvent[]): Record<string, unknown> {
  const start = events.find((e) => e.type === "message_start")?.message as Record<string, unknown>;
  const blocks: Record<string, unknown>[] = [];
  const json: string[] = [];
  let end: Record<string, unknown> = {};
  for (const e of events) {
    const index = e.index as number;
    if (e.type === "content_block_start") {
      blocks[index] = Object.assign({}, e.content_block as Record<string, unknown>);
      json[index] = "";
    } else if (e.type === "content_block_delta") {
      const d = e.delta as Record<string, unknown>;
      const b = blocks[index]!;
      if (d.type === "text_delta") b.text = String(b.text) + String(d.text);
      else if (d.type === "thinking_delta") b.thinking = String(b.thinking) + String(d.thinking);
      else if (d.type === "signature_delta") b.signature = d.signature;
      else if (d.type === "citations_delta") b.citations = [...((b.citations as unknown[] | null | undefined) ?? []), d.citation];
      else if (d.type === "input_json_delta") json[index] += String(d.partial_json);
    } else if (e.type === "content_block_stop" && (blocks[index]?.type === "tool_use" || blocks[index]?.type === "server_tool_use")) {
      try {
        blocks[index]!.input = JSON.parse(json[index] || "{}");
      } catch {
        blocks[index]!.input = { arguments: json[index] };
      }
    } else if (e.type === "message_delta") end = e;
  }
  const delta = (end.delta ?? {}) as Record<string, unknown>;
  return Object.assign({}, start, { content: blocks.filter(Boolean), stop_reason: delta.stop_reason ?? "end_turn", stop_sequence: null, usage: end.usage ?? start?.usage });
}
