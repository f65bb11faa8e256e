import { InvalidRequestError, expectType } from "../errors.js";
import { buildResponsesRequest, type TranslateContext } from "./build.js";
import type { InputItem, ResponsesRequest } from "./types.js";

export interface ResponsesTranslation {
  request: ResponsesRequest;
  /** the Responses API streams only when asked */
  stream: boolean;
}

/** Fields a Responses client may send that have no meaning without server-side storage. */
const STATEFUL = ["previous_response_id", "conversation", "prompt"];

/**
 * A Responses API request from a client → what the Codex backend accepts, changing as little as possible:
 * `store:false`, `stream:true`, instructions present, item ids stripped, rejected fields dropped, and an effort
 * suffix on the model name turned into `reasoning.effort`.
 */
export function responsesToBackend(body: unknown, ctx: TranslateContext): ResponsesTranslation {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new InvalidRequestError("The request body must be a JSON object");
  const req = body as Record<string, unknown>;
  for (const key of STATEFUL) {
    if (req[key] !== undefined && req[key] !== null) {
      throw new InvalidRequestError(
        `\`${key}\` is not supported: the Codex backend stores nothing (store:false), so send the whole conversation in \`input\``,
        key,
        "unsupported_parameter",
      );
    }
  }
  if (req.background === true) throw new InvalidRequestError("`background` responses are not supported", "background", "unsupported_parameter");
  if (req.stream !== undefined && req.stream !== null) expectType(req.stream, "boolean", "stream");
  if (req.instructions !== undefined && req.instructions !== null) expectType(req.instructions, "string", "instructions");
  if (req.input === undefined || req.input === null) throw new InvalidRequestError("`input` is required", "input", "missing_required_parameter");

  const input: InputItem[] =
    typeof req.input === "string"
      ? [{ type: "message", role: "user", content: [{ type: "input_text", text: req.input }] }]
      : normalizeInput(req.input);
  const reasoning = req.reasoning && typeof req.reasoning === "object" ? (req.reasoning as Record<string, unknown>) : {};
  const text = req.text && typeof req.text === "object" ? (req.text as Record<string, unknown>) : {};
  if (req.include !== undefined && req.include !== null) expectType(req.include, "array", "include");
  if (req.tools !== undefined && req.tools !== null) expectType(req.tools, "array", "tools");

  const request = buildResponsesRequest(
    {
      model: req.model,
      instructions: typeof req.instructions === "string" ? [req.instructions] : [],
      input,
      tools: (req.tools as unknown[] | undefined)?.map((t, i) => flattenTool(t, `tools[${i}]`)),
      toolChoice: req.tool_choice,
      parallelToolCalls: typeof req.parallel_tool_calls === "boolean" ? req.parallel_tool_calls : undefined,
      effort: [{ value: reasoning.effort, param: "reasoning.effort" }],
      // a Responses client gets the summary it asked for, and none it did not
      summary: typeof reasoning.summary === "string" ? reasoning.summary : "none",
      textFormat: text.format && typeof text.format === "object" ? (text.format as Record<string, unknown>) : undefined,
      verbosity: text.verbosity,
      cacheKey: req.prompt_cache_key,
      serviceTier: req.service_tier,
      include: ((req.include as unknown[] | undefined) ?? []).filter((v): v is string => typeof v === "string"),
      extra: req.client_metadata && typeof req.client_metadata === "object" ? { client_metadata: req.client_metadata } : undefined,
    },
    ctx,
  );
  return { request, stream: req.stream === true };
}

/**
 * Strip item ids (with `store:false` the backend cannot resolve them), drop reasoning items that carry no
 * `encrypted_content` (they could only be resolved by id), and send system messages as developer messages
 * (the backend refuses the system role in `input`).
 */
function normalizeInput(raw: unknown): InputItem[] {
  expectType(raw, "array", "input");
  const out: InputItem[] = [];
  (raw as unknown[]).forEach((value, i) => {
    expectType(value, "object", `input[${i}]`);
    const { id: _id, ...item } = value as Record<string, unknown>;
    const type = item.type ?? (item.role ? "message" : undefined);
    if (type === "item_reference") {
      throw new InvalidRequestError("`item_reference` items cannot be resolved (the backend stores nothing): send the item itself", `input[${i}]`, "unsupported_value");
    }
    if (typeof type !== "string") throw new InvalidRequestError(`\`input[${i}].type\` is required`, `input[${i}].type`, "missing_required_parameter");
    if (type === "reasoning" && !item.encrypted_content) return;
    if (type === "message") {
      if (item.role === "system") item.role = "developer";
      checkMessageContent(item.content, `input[${i}].content`);
    }
    out.push(Object.assign(item, { type }));
  });
  return out;
}

/** A message's content is a string or a list of typed parts; anything else would only earn a backend 400. */
function checkMessageContent(content: unknown, param: string): void {
  if (typeof content === "string") return;
  if (!Array.isArray(content)) throw new InvalidRequestError(`\`${param}\` must be a string or an array of content parts`, param, "invalid_type");
  content.forEach((part, j) => {
    if (!part || typeof part !== "object" || typeof (part as Record<string, unknown>).type !== "string") {
      throw new InvalidRequestError(`\`${param}[${j}]\` must be a content part object with a \`type\``, `${param}[${j}]`, "invalid_value");
    }
  });
}

/** Chat-style `{type:"function",function:{…}}` tools are accepted too; Responses tools pass unchanged. */
function flattenTool(raw: unknown, param: string): Record<string, unknown> {
  expectType(raw, "object", param);
  const tool = raw as Record<string, unknown>;
  if (tool.type === "function" && tool.function && typeof tool.function === "object" && tool.name === undefined) {
    return { type: "function", ...(tool.function as Record<string, unknown>) };
  }
  return tool;
}
