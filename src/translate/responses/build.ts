import { hash } from "node:crypto";
import type { ModelInfo, InputItem, ResponsesRequest } from "./types.js";
import type { ReasoningFormat } from "../reasoning-settings.js";
import { resolveEffort, resolveModel, resolveServiceTier } from "../model-name.js";
import { InvalidRequestError } from "../errors.js";

/** Sent when the client gave no instructions: the backend requires the key, and a neutral text works. */
export const DEFAULT_INSTRUCTIONS = "You are a helpful assistant.";

/** What every client family's translator knows about the server and the account. */
export interface TranslateContext {
  /** the account's models */
  models: ModelInfo[];
  /** `models` came from the backend for this account, so unknown names can be rejected early */
  modelsAuthoritative: boolean;
  defaults: {
    /** server default effort (`--reasoning-effort`) */
    effort?: string;
    /** `--reasoning-summary` @default "auto" */
    summary: string;
    /** `--reasoning-format` @default "reasoning_content" */
    format: ReasoningFormat;
    /** used when a request names no model (`--default-model`) */
    model?: string;
    /** the Codex model for `claude-*` names (`--claude-model`) */
    claudeModel?: string;
    /** `--service-tier priority`: Fast for every request that does not say otherwise */
    serviceTier?: string;
    /** `--web-search`: chat requests search unless they say otherwise */
    webSearch?: boolean;
  };
}

/** The parts a family translator fills in; {@link buildResponsesRequest} adds everything the backend insists on. */
export interface RequestParts {
  model: unknown;
  instructions: string[];
  input: InputItem[];
  tools?: Record<string, unknown>[];
  toolChoice?: unknown;
  parallelToolCalls?: boolean;
  /** candidate effort fields in priority order, with the name to report in errors */
  effort?: { value?: unknown; param: string }[];
  /** request a reasoning summary (off when the client will not see reasoning) */
  summary?: string;
  textFormat?: Record<string, unknown>;
  verbosity?: unknown;
  /** a client-provided conversation key */
  cacheKey?: unknown;
  serviceTier?: unknown;
  /** more `include` entries the client asked for */
  include?: string[];
  /** fields passed through as they are (e.g. the Codex CLI's `client_metadata`) */
  extra?: Record<string, unknown>;
}

/**
 * The one place that turns a translated request into what the Codex backend accepts: the model slug with its
 * effort suffix stripped and the effort validated, `store:false`, `stream:true`, non-empty instructions,
 * `include` for encrypted reasoning, and a stable `prompt_cache_key` for the conversation.
 */
export function buildResponsesRequest(parts: RequestParts, ctx: TranslateContext): ResponsesRequest {
  const name = parts.model ?? ctx.defaults.model;
  if (typeof name !== "string" || !name.trim()) {
    throw new InvalidRequestError("`model` is required (a model name such as gpt-5.5)", "model", "missing_required_parameter");
  }
  const model = resolveModel(name.trim(), ctx.models, ctx.modelsAuthoritative);
  const effort = resolveEffort(model, parts.effort ?? [], ctx.defaults.effort);
  const instructions = parts.instructions.filter((s) => s.trim()).join("\n\n") || DEFAULT_INSTRUCTIONS;
  const summary = parts.summary ?? ctx.defaults.summary;
  const reasoningOn = effort !== "none";
  const request: ResponsesRequest = {
    model: model.slug,
    instructions,
    input: parts.input,
    store: false,
    stream: true,
    include: [...new Set([...(reasoningOn ? ["reasoning.encrypted_content"] : []), ...(parts.include ?? [])])],
    prompt_cache_key: typeof parts.cacheKey === "string" && parts.cacheKey ? parts.cacheKey : conversationKey(model.slug, instructions, parts.input),
  };
  if (parts.tools?.length) {
    request.tools = parts.tools;
    request.tool_choice = parts.toolChoice ?? "auto";
    request.parallel_tool_calls = parts.parallelToolCalls ?? true;
  } else if (parts.toolChoice !== undefined && parts.toolChoice !== "none" && parts.toolChoice !== "auto") {
    throw new InvalidRequestError("`tool_choice` needs `tools`", "tool_choice", "invalid_value");
  }
  const reasoning: { effort?: string; summary?: string } = {};
  if (effort) reasoning.effort = effort;
  if (reasoningOn && summary !== "none" && model.info?.supportsSummaries !== false) reasoning.summary = summary;
  if (Object.keys(reasoning).length) request.reasoning = reasoning;
  const text: ResponsesRequest["text"] = {};
  if (parts.verbosity !== undefined && parts.verbosity !== null) {
    if (!["low", "medium", "high"].includes(parts.verbosity as string)) {
      throw new InvalidRequestError("`verbosity` must be low, medium or high", "verbosity", "invalid_value");
    }
    text.verbosity = parts.verbosity as string;
  }
  if (parts.textFormat) text.format = parts.textFormat;
  if (Object.keys(text).length) request.text = text;
  const tier = resolveServiceTier(model, parts.serviceTier, ctx.models, ctx.modelsAuthoritative, ctx.defaults.serviceTier);
  if (tier) request.service_tier = tier;
  return Object.assign({}, parts.extra, request);
}

/**
 * A key that stays the same for every turn of one conversation: the model, the instructions and the first
 * input item. The backend's prompt cache is keyed on it, so later turns reuse the cached prefix.
 */
export function conversationKey(model: string, instructions: string, input: InputItem[]): string {
  const digest = hash("sha256", `${model}\0${instructions}\0${JSON.stringify(input[0] ?? null)}`, "hex");
  return `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
}
