// The reasoning settings a user can choose (flags, environment, config file, request fields): a leaf module,
// so that `config.ts` reads them without loading any translator.

/** How a Chat Completions answer shows reasoning: inline `<think>` blocks, a `reasoning_content` field, or not at all. */
export type ReasoningFormat = "think-tags" | "reasoning_content" | "none";
export const REASONING_FORMATS: readonly ReasoningFormat[] = ["think-tags", "reasoning_content", "none"];
/** The backend's `reasoning.summary` values; "none" asks for no summary. */
export const REASONING_SUMMARIES = ["auto", "concise", "detailed", "none"] as const;
/** Every reasoning effort any Codex model has accepted, lowest first. */
export const KNOWN_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"];
