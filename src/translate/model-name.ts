import type { ModelInfo } from "./responses/types.js";
import { InvalidRequestError } from "./errors.js";
import { KNOWN_EFFORTS } from "./reasoning-settings.js";

export interface ResolvedModel {
  /** the slug sent upstream, suffix stripped */
  slug: string;
  info?: ModelInfo;
  /** effort from a name suffix: `gpt-5.5-high`, `gpt-5.5:high`, `gpt-5.5(high)`, `gpt-5.5/high` */
  suffixEffort?: string;
  /** a `-fast` suffix asked for the priority tier: `gpt-5.5-fast`, `gpt-5.5-high-fast` */
  suffixFast?: boolean;
}

/** The backend's name for the Fast tier. */
export const PRIORITY_TIER = "priority";
const FAST_SUFFIX = /[-:/ ]fast$/i;

/** Split `gpt-5.5-high` into model and effort; a name with no effort suffix is returned whole. */
export function splitEffortSuffix(name: string, efforts: string[] = KNOWN_EFFORTS): { model: string; effort?: string } {
  const m = /^(.+?)(?:[-:/ ]([a-z]+)|\(([a-z]+)\))$/i.exec(name.trim());
  const effort = (m?.[2] ?? m?.[3])?.toLowerCase();
  if (m && effort && efforts.includes(effort)) return { model: m[1]!, effort };
  return { model: name.trim() };
}

/**
 * Find the model a client asked for. `authoritative` means `models` came from the backend for this account,
 * so an unknown name is rejected here with the list; with only the bundled list, the backend decides.
 */
export function resolveModel(name: string, models: ModelInfo[], authoritative: boolean): ResolvedModel {
  // a model whose own name ends in -fast wins over the suffix
  if (FAST_SUFFIX.test(name) && !models.some((m) => m.slug.toLowerCase() === name.toLowerCase())) {
    return Object.assign({}, resolveModel(name.replace(FAST_SUFFIX, ""), models, authoritative), { suffixFast: true });
  }
  const byName = (slug: string) => models.find((m) => m.slug.toLowerCase() === slug.toLowerCase());
  const exact = byName(name);
  if (exact) return { slug: exact.slug, info: exact };
  const efforts = [...new Set([...KNOWN_EFFORTS, ...models.flatMap((m) => m.efforts)])];
  const { model, effort } = splitEffortSuffix(name, efforts);
  const info = byName(model);
  if (info || !authoritative) return { slug: info?.slug ?? model, info, suffixEffort: effort };
  throw unknownModel(name, models);
}

/**
 * The service tier to send: the request's `service_tier` > a `-fast` suffix > the server default. `auto` and
 * `default` are the standard tier (nothing sent); Fast on a model whose catalog entry lacks it is a 400.
 */
export function resolveServiceTier(model: ResolvedModel, requested: unknown, models: ModelInfo[], authoritative: boolean, serverDefault?: string): string | undefined {
  let tier: string | undefined;
  if (requested !== undefined && requested !== null) {
    const value = typeof requested === "string" ? requested.toLowerCase() : requested;
    if (value === "priority" || value === "fast") tier = PRIORITY_TIER;
    else if (value !== "auto" && value !== "default") {
      throw new InvalidRequestError(
        `\`service_tier\` must be auto, default or priority (the ChatGPT plan has no ${JSON.stringify(requested)} tier)`,
        "service_tier",
        "invalid_value",
      );
    }
  } else if (model.suffixFast) tier = PRIORITY_TIER;
  else if (serverDefault === PRIORITY_TIER) tier = PRIORITY_TIER;
  // a list saved before tiers were read has none: the backend decides then
  if (tier && authoritative && model.info?.serviceTiers && !model.info.serviceTiers.includes(tier)) {
    const asked = requested !== undefined && requested !== null;
    // the server default applies where it can; a client that asked for Fast on this model learns which have it
    if (!asked && !model.suffixFast) return undefined;
    const fast = models.filter((m) => m.visible && m.serviceTiers?.includes(tier)).map((m) => m.slug);
    throw new InvalidRequestError(
      `The model '${model.slug}' does not offer the Fast (priority) tier. Models that do: ${fast.join(", ") || "none"} (e.g. ${fast[0] ?? "gpt-5.5"}-fast).`,
      asked ? "service_tier" : "model",
      "invalid_value",
    );
  }
  return tier;
}

export function unknownModel(name: string, models: ModelInfo[]): InvalidRequestError {
  const available = models.filter((m) => m.visible).map((m) => m.slug);
  return new InvalidRequestError(
    `The model '${name}' is not available for this ChatGPT account. Available models: ${available.join(", ") || "none"} ` +
      "(add -low, -medium, -high… to choose the reasoning effort, e.g. " +
      `${available[0] ?? "gpt-5.5"}-high).`,
    "model",
    "model_not_found",
  );
}

/**
 * Pick the reasoning effort: request > name suffix > server default > model default. An effort the model does
 * not list is clamped to the nearest one it does (clients such as the OpenAI Agents SDK send `none` by default).
 */
export function resolveEffort(
  model: ResolvedModel,
  requested: { value?: unknown; param: string }[],
  serverDefault?: string,
): string | undefined {
  for (const { value, param } of requested) {
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") throw new InvalidRequestError(`\`${param}\` must be a string`, param, "invalid_type");
    return clampEffort(value.toLowerCase(), model, param);
  }
  if (model.suffixEffort) return clampEffort(model.suffixEffort, model, "model");
  if (serverDefault) return clampEffort(serverDefault, model, "reasoning_effort");
  return model.info?.defaultEffort ?? undefined;
}

/**
 * The model's own effort nearest to `effort` on the {@link KNOWN_EFFORTS} scale; a tie goes to the higher one
 * (the caller asked for at least that much thought). Only a value that is no effort at all is a 400.
 */
export function clampEffort(effort: string, model: ResolvedModel, param: string): string {
  const valid = model.info?.efforts.length ? model.info.efforts : KNOWN_EFFORTS;
  if (valid.includes(effort)) return effort;
  const rank = KNOWN_EFFORTS.indexOf(effort);
  const ranked = valid.filter((e) => KNOWN_EFFORTS.includes(e));
  if (rank < 0 || !ranked.length) {
    throw new InvalidRequestError(
      `'${effort}' is not a reasoning effort. Efforts for ${model.slug}: ${valid.join(", ")}.`,
      param,
      "invalid_value",
    );
  }
  // distance on the scale, the higher effort first on a tie
  const cost = (e: string) => Math.abs(KNOWN_EFFORTS.indexOf(e) - rank) * 2 - (KNOWN_EFFORTS.indexOf(e) > rank ? 1 : 0);
  return ranked.reduce((best, e) => (cost(e) < cost(best) ? e : best));
}
