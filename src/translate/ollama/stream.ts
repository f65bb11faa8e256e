import type { ChatChunk } from "../openai-chat/stream.js";
import type { ChatUsage } from "../usage.js";

export interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown> };
}

/** One NDJSON line of `/api/chat` (`message`) or `/api/generate` (`response`). */
export type OllamaLine = Record<string, unknown> & { model: string; created_at: string; done: boolean };

/**
 * Chat chunks → Ollama lines. Ollama sends a tool call whole (arguments as an object), so calls are collected
 * and sent in one line before the final one; the final line carries `done_reason` and the counters.
 */
export class OllamaStreamTranslator {
  readonly #started = process.hrtime.bigint();
  #firstToken?: bigint;
  #calls: { name: string; args: string }[] = [];
  #finish: string | null = null;
  /** the web sources the answer cited, by url: Ollama has no annotations, so they are listed at the end */
  #sources = new Map<string, string>();

  constructor(
    private readonly model: string,
    private readonly kind: "chat" | "generate",
  ) {}

  #line(content: string, thinking?: string, extra: Record<string, unknown> = {}, done = false): OllamaLine {
    const created_at = new Date().toISOString();
    if (this.kind === "generate") return { model: this.model, created_at, response: content, ...(thinking ? { thinking } : {}), done, ...extra };
    return { model: this.model, created_at, message: { role: "assistant", content, ...(thinking ? { thinking } : {}), ...extra }, done };
  }

  push(chunk: ChatChunk): OllamaLine[] {
    const choice = chunk.choices[0];
    if (!choice) return [];
    const d = choice.delta;
    const out: OllamaLine[] = [];
    if (d.content || d.reasoning_content) {
      this.#firstToken ??= process.hrtime.bigint();
      out.push(this.#line(d.content ?? "", d.reasoning_content));
    }
    for (const a of d.annotations ?? []) if (!this.#sources.has(a.url_citation.url)) this.#sources.set(a.url_citation.url, a.url_citation.title);
    for (const tc of d.tool_calls ?? []) {
      const call = (this.#calls[tc.index] ??= { name: "", args: "" });
      // Ollama has only function calls: a freeform call's text input goes in as its arguments
      const fn = "function" in tc ? tc.function : { name: tc.custom.name, arguments: tc.custom.input };
      if (fn.name) call.name = fn.name;
      call.args += fn.arguments;
    }
    if (choice.finish_reason) this.#finish = choice.finish_reason;
    return out;
  }

  /** The lines after the last event: collected tool calls, then the done line. */
  end(usage: ChatUsage | undefined): OllamaLine[] {
    const out: OllamaLine[] = [];
    if (this.#sources.size) {
      const list = [...this.#sources].map(([url, title]) => `- [${title}](${url})`).join("\n");
      out.push(this.#line(`\n\nSources:\n${list}`));
    }
    if (this.#calls.length) {
      const toolCalls: OllamaToolCall[] = this.#calls.map((c) => ({ function: { name: c.name, arguments: parseArgs(c.args) } }));
      out.push(this.kind === "chat" ? this.#line("", undefined, { tool_calls: toolCalls }) : this.#line(""));
    }
    const now = process.hrtime.bigint();
    const first = this.#firstToken ?? now;
    out.push(
      Object.assign(this.#line(""), {
        done: true,
        done_reason: this.#finish === "length" ? "length" : "stop",
        total_duration: Number(now - this.#started),
        load_duration: 0,
        prompt_eval_count: usage?.prompt_tokens ?? 0,
        prompt_eval_duration: Number(first - this.#started),
        eval_count: usage?.completion_tokens ?? 0,
        eval_duration: Number(now - first),
      }),
    );
    return out;
  }
}

function parseArgs(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { arguments: text };
  }
}

/** All lines of a stream folded into the single object Ollama returns for `stream: false`. */
export function aggregateOllama(lines: OllamaLine[]): OllamaLine {
  const last = lines.at(-1)!;
  let content = "";
  let thinking = "";
  let toolCalls: unknown;
  for (const line of lines) {
    const part = (line.message ?? { content: line.response, thinking: line.thinking }) as Record<string, unknown>;
    content += (part.content as string | undefined) ?? "";
    thinking += (part.thinking as string | undefined) ?? "";
    toolCalls = part.tool_calls ?? toolCalls;
  }
  if ("response" in last) return Object.assign({}, last, { response: content }, thinking ? { thinking } : {});
  return Object.assign({}, last, { message: { role: "assistant", content, ...(thinking ? { thinking } : {}), ...(toolCalls ? { tool_calls: toolCalls } : {}) } });
}
