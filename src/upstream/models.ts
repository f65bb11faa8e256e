import type { ModelInfo } from "../translate/responses/types.js";

export type { ModelInfo };

/** `GET {base}/models?client_version=…` → `{"models":[…]}` in the Codex `ModelInfo` shape. */
export function parseModelsResponse(body: unknown): ModelInfo[] {
  const list = (body as { models?: unknown })?.models;
  if (!Array.isArray(list)) throw new Error("the /models answer has no `models` array");
  const models: ModelInfo[] = [];
  for (const raw of list as Record<string, unknown>[]) {
    if (!raw || typeof raw.slug !== "string") continue;
    const levels = Array.isArray(raw.supported_reasoning_levels) ? (raw.supported_reasoning_levels as unknown[]) : [];
    const efforts = levels
      .map((l) => (typeof l === "string" ? l : (l as { effort?: unknown })?.effort))
      .filter((e): e is string => typeof e === "string");
    models.push({
      slug: raw.slug,
      displayName: typeof raw.display_name === "string" ? raw.display_name : raw.slug,
      contextWindow: typeof raw.context_window === "number" ? raw.context_window : null,
      efforts,
      defaultEffort: typeof raw.default_reasoning_level === "string" ? raw.default_reasoning_level : null,
      supportsSummaries: raw.supports_reasoning_summaries !== false,
      supportsVerbosity: raw.support_verbosity === true,
      inputModalities: Array.isArray(raw.input_modalities) ? (raw.input_modalities as string[]) : ["text", "image"],
      visible: raw.visibility === undefined || raw.visibility === "list",
      priority: typeof raw.priority === "number" ? raw.priority : 100,
    });
  }
  return models.sort((a, b) => a.priority - b.priority);
}

const EFFORTS = ["low", "medium", "high", "xhigh"];
const bundled = (slug: string, name: string, priority: number, defaultEffort: string, efforts = EFFORTS, contextWindow = 272_000): ModelInfo => ({
  slug,
  displayName: name,
  contextWindow,
  efforts,
  defaultEffort,
  supportsSummaries: true,
  supportsVerbosity: true,
  inputModalities: ["text", "image"],
  visible: true,
  priority,
});

/**
 * The offline fallback, from the Codex CLI's bundled catalogs (2026): used only when the backend's `/models`
 * cannot be reached. The backend's list is the truth for an account.
 */
export const BUNDLED_MODELS: ModelInfo[] = [
  bundled("gpt-5.6-sol", "GPT-5.6-Sol", 1, "low", [...EFFORTS, "max", "ultra"], 372_000),
  bundled("gpt-5.6-terra", "GPT-5.6-Terra", 2, "medium", [...EFFORTS, "max", "ultra"], 372_000),
  bundled("gpt-5.6-luna", "GPT-5.6-Luna", 3, "medium", [...EFFORTS, "max"], 372_000),
  bundled("gpt-5.5", "GPT-5.5", 4, "medium"),
  bundled("gpt-5.4", "GPT-5.4", 5, "medium"),
  bundled("gpt-5.4-mini", "GPT-5.4-Mini", 6, "medium"),
];
