import type { ModelInfo } from "../translate/responses/types.js";

export type { ModelInfo };

/** The Codex CLI version whose protocol this proxy speaks; `CODEX_PROXY_CLIENT_VERSION` overrides it. */
export const CODEX_CLIENT_VERSION = "0.169.0";

/** Whether version `a` (x.y.z) is newer than `b`. */
export function isNewerVersion(a: string, b: string): boolean {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
}

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
      ...(typeof raw.minimal_client_version === "string" ? { minimalClientVersion: raw.minimal_client_version } : {}),
      serviceTiers: serviceTiers(raw.service_tiers),
    });
  }
  return models.sort((a, b) => a.priority - b.priority);
}

/** `service_tiers: [{"id":"priority","name":"Fast",…}]` (or plain ids) → the tier ids. */
function serviceTiers(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((t) => (typeof t === "string" ? t : (t as { id?: unknown })?.id)).filter((t): t is string => typeof t === "string");
}

const EFFORTS = ["low", "medium", "high", "xhigh"];
const bundled = (slug: string, name: string, priority: number, defaultEffort: string, minimalClientVersion: string, efforts = EFFORTS, contextWindow = 272_000): ModelInfo => ({
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
  minimalClientVersion,
  // the 2026 catalogs offer the Fast tier on these models (upstream-protocol.md §5.2)
  serviceTiers: ["priority"],
});

/**
 * The offline fallback, from the Codex CLI's bundled catalogs (2026): used only when the backend's `/models`
 * cannot be reached. The backend's list is the truth for an account.
 */
export const BUNDLED_MODELS: ModelInfo[] = [
  // minimal client versions as the Codex catalogs list them (upstream-protocol.md §5)
  bundled("gpt-5.6-sol", "GPT-5.6-Sol", 1, "low", "0.144.0", [...EFFORTS, "max", "ultra"], 372_000),
  bundled("gpt-5.6-terra", "GPT-5.6-Terra", 2, "medium", "0.144.0", [...EFFORTS, "max", "ultra"], 372_000),
  bundled("gpt-5.6-luna", "GPT-5.6-Luna", 3, "medium", "0.144.0", [...EFFORTS, "max"], 372_000),
  bundled("gpt-5.5", "GPT-5.5", 4, "medium", "0.124.0"),
  bundled("gpt-5.4", "GPT-5.4", 5, "medium", "0.98.0"),
  bundled("gpt-5.4-mini", "GPT-5.4-Mini", 6, "medium", "0.98.0"),
];
