import { InvalidRequestError, expectType } from "../errors.js";
import { buildResponsesRequest, type TranslateContext } from "../responses/build.js";
import type { InputItem, ResponsesRequest } from "../responses/types.js";
import type { ReasoningFormat } from "../reasoning-settings.js";
import { pickReasoningFormat } from "../reasoning.js";
import { chatMessagesToInput } from "./messages.js";
import { chatToolChoice, chatTools, chatWebSearch, legacyFunctionChoice } from "./tools.js";

export interface ChatTranslation {
  request: ResponsesRequest;
  stream: boolean;
  includeUsage: boolean;
  reasoningFormat: ReasoningFormat;
}

/**
 * A Chat Completions request → a Responses request. System and developer messages become `instructions`;
 * fields the backend rejects (`max_tokens`, `temperature`, `metadata`, …) are dropped.
 */
export function chatToResponses(body: unknown, ctx: TranslateContext, formatOverride?: string): ChatTranslation {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new InvalidRequestError("The request body must be a JSON object");
  const req = body as Record<string, unknown>;
  if (req.messages === undefined) throw new InvalidRequestError("`messages` is required", "messages", "missing_required_parameter");
  expectType(req.messages, "array", "messages");
  const messages = req.messages as unknown[];
  if (messages.length === 0) throw new InvalidRequestError("`messages` must not be empty", "messages", "invalid_value");
  return chatRequest(req, () => chatMessagesToInput(messages), ctx, { override: formatOverride });
}

/**
 * A Chat Completions request's options (model, tools, effort, format, stream, …) around a conversation in the
 * Responses shape: legacy completions send their prompt through here as one user message. The conversation is
 * built after the request-wide fields are checked, so a bad `stream` or `n` is the error named first.
 */
export function chatRequest(
  req: Record<string, unknown>,
  conversation: () => { instructions: string[]; input: InputItem[] },
  ctx: TranslateContext,
  /** `override`: the format when the body names none (a header's); `fixed`: the format whatever the body says */
  format: { override?: string; fixed?: string } = {},
): ChatTranslation {
  if (req.stream !== undefined && req.stream !== null) expectType(req.stream, "boolean", "stream");
  if (req.n !== undefined && req.n !== null && req.n !== 1) {
    throw new InvalidRequestError("Only one choice per request is supported (`n` must be 1)", "n", "unsupported_value");
  }
  const textFormat = responseFormat(req.response_format);
  // `<think>…</think>{json}` does not parse: a JSON answer shows its reasoning beside the content, never in it
  const asked = pickReasoningFormat(format.fixed ?? req.reasoning_format ?? format.override, ctx.defaults.format);
  const reasoningFormat = textFormat && asked === "think-tags" ? "reasoning_content" : asked;
  const { instructions, input } = conversation();


  const reasoningObj = req.reasoning && typeof req.reasoning === "object" ? (req.reasoning as Record<string, unknown>) : undefined;
  // the backend runs the search itself: it never reaches the client as a tool call to answer
  const webSearch = chatWebSearch(req.web_search_options, ctx.defaults.webSearch);
  const tools = [...(chatTools(req.tools, req.functions) ?? []), ...(webSearch ? [webSearch] : [])];
  const request = buildResponsesRequest(
    {
      model: req.model,
      instructions,
      input,
      tools,
      toolChoice: chatToolChoice(req.tool_choice ?? legacyFunctionChoice(req.function_call)),
      parallelToolCalls: typeof req.parallel_tool_calls === "boolean" ? req.parallel_tool_calls : undefined,
      effort: [
        { value: req.reasoning_effort, param: "reasoning_effort" },
        { value: reasoningObj?.effort, param: "reasoning.effort" },
      ],
      summary: reasoningFormat === "none" ? "none" : typeof reasoningObj?.summary === "string" ? reasoningObj.summary : undefined,
      textFormat,
      verbosity: req.verbosity,
      cacheKey: req.prompt_cache_key ?? req.user,
      serviceTier: req.service_tier,
    },
    ctx,
  );
  const streamOptions = req.stream_options && typeof req.stream_options === "object" ? (req.stream_options as Record<string, unknown>) : {};
  return { request, stream: req.stream === true, includeUsage: streamOptions.include_usage === true, reasoningFormat };
}

function responseFormat(format: unknown): Record<string, unknown> | undefined {
  if (format === undefined || format === null) return undefined;
  expectType(format, "object", "response_format");
  const f = format as Record<string, unknown>;
  if (f.type === "text") return undefined;
  if (f.type === "json_object") return { type: "json_object" };
  if (f.type === "json_schema") {
    const js = (f.json_schema ?? {}) as Record<string, unknown>;
    if (!js.schema || typeof js.schema !== "object") {
      throw new InvalidRequestError("`response_format.json_schema.schema` is required", "response_format.json_schema.schema", "missing_required_parameter");
    }
    return {
      type: "json_schema",
      name: typeof js.name === "string" && js.name ? js.name : "response",
      schema: js.schema,
      strict: js.strict === true,
      ...(typeof js.description === "string" ? { description: js.description } : {}),
    };
  }
  throw new InvalidRequestError("`response_format.type` must be text, json_object or json_schema", "response_format.type", "invalid_value");
}
