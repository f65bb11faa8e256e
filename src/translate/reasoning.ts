// Reasoning in every family: how a request asks for it, how it is written into an answer (separated parts,
// `<think>` blocks), and how it is taken out again when the answer comes back in the history.
import { InvalidRequestError } from "./errors.js";
import { REASONING_FORMATS, type ReasoningFormat } from "./reasoning-settings.js";

/** Between two reasoning summary parts or items, and between a `<think>` block and text around it. */
export const REASONING_SEPARATOR = "\n\n";
export const THINK_OPEN = "<think>\n";
export const THINK_CLOSE = "\n</think>\n\n";

const THINK_BLOCKS = /\s*<think>[\s\S]*?<\/think>\s*/;

/** Text with every `<think>…</think>` block removed: an answer may hold one per reasoning item. */
export function stripThinkBlocks(text: string): string {
  if (!text.includes("<think>")) return text;
  return text
    .split(THINK_BLOCKS)
    .filter((piece) => piece !== "")
    .join(REASONING_SEPARATOR);
}

/**
 * Separates reasoning parts: each summary part of each reasoning item is one part, and a new part after an
 * earlier one starts with {@link REASONING_SEPARATOR}, so "Plan A" and "Plan B" never run together.
 */
export class ReasoningParts {
  #key: string | undefined;

  /** The separator to put before reasoning text of part `key` (item id and summary index). */
  before(key: string): string {
    const sep = this.#key !== undefined && key !== this.#key ? REASONING_SEPARATOR : "";
    this.#key = key;
    return sep;
  }

  /** The next part starts a new block (a new `<think>`, a new thinking block): no separator before it. */
  reset(): void {
    this.#key = undefined;
  }
}

/**
 * Writes reasoning as `<think>` blocks inside the answer's content: a block opens before the first reasoning
 * text (after a separator when answer text came before it) and closes before the next answer text.
 */
export class ThinkTags {
  #open = false;
  #parts = new ReasoningParts();

  /** The content for reasoning text of part `key`; `afterContent`: answer text was already sent. */
  write(text: string, key: string, afterContent: boolean): string {
    // reasoning after text (several reasoning items in one answer) is a block of its own, where it happened
    if (!this.#open) this.#parts.reset();
    const open = this.#open ? "" : (afterContent ? REASONING_SEPARATOR : "") + THINK_OPEN;
    this.#open = true;
    return open + this.#parts.before(key) + text;
  }

  /** The content that ends an open block, or "" when none is open. */
  close(): string {
    if (!this.#open) return "";
    this.#open = false;
    return THINK_CLOSE;
  }
}

/** A finished reasoning item's summary parts as one text, separated like streamed parts. */
export function summaryText(item: Record<string, unknown>): string {
  return ((item.summary as Record<string, unknown>[] | undefined) ?? []).map((s) => String(s.text ?? "")).join(REASONING_SEPARATOR);
}

/** Chat Completions `reasoning_format` (or the `x-reasoning-format` header), else the server's default. */
export function pickReasoningFormat(value: unknown, fallback: ReasoningFormat): ReasoningFormat {
  if (value === undefined || value === null || value === "") return fallback;
  if (typeof value === "string" && (REASONING_FORMATS as readonly string[]).includes(value)) return value as ReasoningFormat;
  throw new InvalidRequestError(`\`reasoning_format\` must be one of ${REASONING_FORMATS.join(", ")}`, "reasoning_format", "invalid_value");
}

/** Ollama `think`: true shows reasoning in `thinking`; a level also sets the effort; false or absent hides it. */
export function ollamaThinkOptions(think: unknown): { reasoning_format: ReasoningFormat; reasoning_effort?: string } {
  if (think === true) return { reasoning_format: "reasoning_content" };
  if (typeof think === "string" && think) return { reasoning_format: "reasoning_content", reasoning_effort: think };
  if (think === false || think === undefined || think === null) return { reasoning_format: "none" };
  throw new InvalidRequestError('`think` must be true, false, or an effort such as "high"', "think", "invalid_value");
}

/** Anthropic `thinking`: shown as thinking blocks when enabled, or adaptive and not omitted. */
export function anthropicShowsThinking(thinking: Record<string, unknown>): boolean {
  return thinking.type === "enabled" || (thinking.type === "adaptive" && thinking.display !== "omitted");
}

/** An Anthropic thinking budget → an effort, on Claude's usual scale. */
export function effortForThinkingBudget(budget: unknown): string | undefined {
  if (typeof budget !== "number" || budget <= 0) return undefined;
  if (budget < 4096) return "low";
  if (budget < 16_384) return "medium";
  if (budget < 32_768) return "high";
  return "xhigh";
}
