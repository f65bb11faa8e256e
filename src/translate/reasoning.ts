// How reasoning is written into an answer, and taken out again when the answer comes back in the history.

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
