import { InvalidRequestError, expectType } from "../errors.js";
import { buildResponsesRequest, type TranslateContext } from "../responses/build.js";
import type { InputItem, ResponsesRequest } from "../responses/types.js";
import { anthropicShowsThinking, effortForThinkingBudget } from "../reasoning.js";

export interface AnthropicTranslation {
  request: ResponsesRequest;
  stream: boolean;
  /** show reasoning as thinking blocks */
  thinking: boolean;
  /** the model name as the client wrote it */
  model: string;
}

/** Claude clients ask for Claude models: those names go to a configurable Codex model. */
export function codexModelFor(name: unknown, ctx: TranslateContext): unknown {
  if (typeof name !== "string" || !/^claude/i.test(name)) return name;
  return ctx.defaults.claudeModel ?? ctx.defaults.model ?? ctx.models.find((m) => m.visible)?.slug ?? name;
}

/**
 * An Anthropic Messages request → a Responses request. System blocks become instructions; content blocks keep
 * their order (text and images grouped into messages, `tool_use` and `tool_result` as function items);
 * `thinking` and `output_config.effort` pick the effort. Unknown fields are ignored, never rejected.
 */
export function messagesToResponses(body: unknown, ctx: TranslateContext): AnthropicTranslation {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new InvalidRequestError("The request body must be a JSON object");
  const req = body as Record<string, unknown>;
  if (typeof req.model !== "string" || !req.model) throw new InvalidRequestError("model: Field required", "model", "missing_required_parameter");
  if (req.messages === undefined) throw new InvalidRequestError("messages: Field required", "messages", "missing_required_parameter");
  expectType(req.messages, "array", "messages");
  if (req.stream !== undefined && req.stream !== null) expectType(req.stream, "boolean", "stream");

  const instructions = systemText(req.system);
  const input: InputItem[] = [];
  (req.messages as unknown[]).forEach((raw, i) => {
    const param = `messages.${i}`;
    expectType(raw, "object", param);
    const m = raw as Record<string, unknown>;
    if (m.role === "system") {
      // Claude Code puts context in system messages between turns: the backend takes those as developer messages
      input.push({ type: "message", role: "developer", content: [{ type: "input_text", text: systemText(m.content) }] });
      return;
    }
    if (m.role !== "user" && m.role !== "assistant") throw new InvalidRequestError(`${param}.role: must be "user", "assistant" or "system"`, `${param}.role`, "invalid_value");
    input.push(...messageItems(m.role, m.content, param));
  });

  const thinking = (req.thinking && typeof req.thinking === "object" ? req.thinking : {}) as Record<string, unknown>;
  const outputConfig = (req.output_config && typeof req.output_config === "object" ? req.output_config : {}) as Record<string, unknown>;
  const showThinking = anthropicShowsThinking(thinking);
  const choice = (req.tool_choice && typeof req.tool_choice === "object" ? req.tool_choice : undefined) as Record<string, unknown> | undefined;
  const request = buildResponsesRequest(
    {
      model: codexModelFor(req.model, ctx),
      instructions: [instructions],
      input,
      tools: anthropicTools(req.tools),
      // the sources of each search, for the web_search_tool_result block
      include: hasWebSearch(req.tools) ? ["web_search_call.action.sources"] : undefined,
      toolChoice: toolChoice(choice),
      parallelToolCalls: choice?.disable_parallel_tool_use === true ? false : undefined,
      effort: [
        { value: anthropicEffort(outputConfig.effort), param: "output_config.effort" },
        { value: effortForThinkingBudget(thinking.budget_tokens), param: "thinking.budget_tokens" },
      ],
      summary: showThinking ? undefined : "none",
    },
    ctx,
  );
  return { request, stream: req.stream === true, thinking: showThinking, model: req.model };
}

function anthropicEffort(effort: unknown): unknown {
  // Claude's "max" is the top of its scale; the Codex scale's matching step is xhigh
  return effort === "max" ? "xhigh" : effort;
}

function systemText(system: unknown): string {
  if (system === undefined || system === null) return "";
  if (typeof system === "string") return system;
  expectType(system, "array", "system");
  return (system as Record<string, unknown>[])
    .filter((b) => b?.type === "text" && typeof b.text === "string")
    .map((b) => b.text as string)
    .join("\n\n");
}

function messageItems(role: "user" | "assistant", content: unknown, param: string): InputItem[] {
  if (typeof content === "string") {
    return [{ type: "message", role, content: [{ type: role === "user" ? "input_text" : "output_text", text: content }] }];
  }
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param}.content: must be a string or a list of content blocks`, `${param}.content`, "invalid_type");
  const items: InputItem[] = [];
  let parts: Record<string, unknown>[] = [];
  const flush = () => {
    if (parts.length) items.push({ type: "message", role, content: parts });
    parts = [];
  };
  content.forEach((raw, j) => {
    const p = `${param}.content.${j}`;
    expectType(raw, "object", p);
    const block = raw as Record<string, unknown>;
    switch (block.type) {
      case "text":
        if (typeof block.text !== "string") throw new InvalidRequestError(`${p}.text: must be a string`, `${p}.text`, "invalid_type");
        parts.push({ type: role === "user" ? "input_text" : "output_text", text: block.text });
        break;
      case "image":
        parts.push({ type: "input_image", image_url: sourceUrl(block.source, `${p}.source`, "image"), detail: "auto" });
        break;
      case "document": {
        const source = (block.source ?? {}) as Record<string, unknown>;
        if (source.type === "text" && typeof source.data === "string") parts.push({ type: "input_text", text: source.data });
        else parts.push({ type: "input_file", filename: typeof block.title === "string" ? block.title : "document.pdf", file_data: sourceUrl(block.source, `${p}.source`, "document") });
        break;
      }
      case "tool_use":
        flush();
        if (typeof block.id !== "string" || typeof block.name !== "string") throw new InvalidRequestError(`${p}: tool_use needs id and name`, p, "invalid_value");
        items.push({ type: "function_call", call_id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
        break;
      case "tool_result": {
        flush();
        if (typeof block.tool_use_id !== "string") throw new InvalidRequestError(`${p}.tool_use_id: Field required`, `${p}.tool_use_id`, "missing_required_parameter");
        items.push({ type: "function_call_output", call_id: block.tool_use_id, output: toolResultOutput(block, p) });
        break;
      }
      case "server_tool_use":
        // a search the backend ran in an earlier turn goes back as the backend's own item
        if (block.name !== "web_search" || role !== "assistant") break;
        flush();
        items.push({ type: "web_search_call", status: "completed", action: { type: "search", query: String((block.input as Record<string, unknown> | null)?.query ?? "") } });
        break;
      case "thinking":
      case "redacted_thinking":
        // Claude signatures mean nothing to the Codex backend
        break;
      default:
        // server tool results and other blocks this backend cannot use are left out
        break;
    }
  });
  flush();
  return items;
}

function sourceUrl(source: unknown, param: string, what: string): string {
  const s = (source ?? {}) as Record<string, unknown>;
  if (s.type === "base64" && typeof s.data === "string" && typeof s.media_type === "string") return `data:${s.media_type};base64,${s.data}`;
  if (s.type === "url" && typeof s.url === "string") return s.url;
  throw new InvalidRequestError(`${param}: the ${what} source must be {type:"base64",media_type,data} or {type:"url",url}`, param, "invalid_value");
}

function toolResultOutput(block: Record<string, unknown>, param: string): string | Record<string, unknown>[] {
  const prefix = block.is_error === true ? "Error: " : "";
  const content = block.content;
  if (content === undefined || content === null) return prefix;
  if (typeof content === "string") return prefix + content;
  if (!Array.isArray(content)) throw new InvalidRequestError(`${param}.content: must be a string or a list of blocks`, `${param}.content`, "invalid_type");
  const parts = (content as Record<string, unknown>[]).map((b, k) =>
    b.type === "image" ? { type: "input_image", image_url: sourceUrl(b.source, `${param}.content.${k}.source`, "image"), detail: "auto" } : { type: "input_text", text: String(b.text ?? "") },
  );
  if (parts.every((p) => p.type === "input_text")) return prefix + parts.map((p) => p.text).join("");
  return prefix ? [{ type: "input_text", text: prefix }, ...parts] : parts;
}

const isWebSearch = (t: unknown) => typeof (t as Record<string, unknown> | null)?.type === "string" && /^web_search_\d{8}$/.test(String((t as Record<string, unknown>).type));

function hasWebSearch(tools: unknown): boolean {
  return Array.isArray(tools) && tools.some(isWebSearch);
}

/**
 * Anthropic's web search server tool (`web_search_20250305`) → the backend's hosted `web_search`, with its
 * allowed domains and approximate location (the backend has no blocked-domain list or use limit).
 */
function webSearchTool(t: Record<string, unknown>): Record<string, unknown> {
  const tool: Record<string, unknown> = { type: "web_search" };
  if (Array.isArray(t.allowed_domains) && t.allowed_domains.length) tool.filters = { allowed_domains: t.allowed_domains.filter((d) => typeof d === "string") };
  const loc = t.user_location as Record<string, unknown> | null | undefined;
  if (loc && typeof loc === "object") {
    tool.user_location = { type: "approximate", ...Object.fromEntries(["country", "region", "city", "timezone"].filter((k) => typeof loc[k] === "string").map((k) => [k, loc[k]])) };
  }
  return tool;
}

/** Client tools (with `input_schema`) become function tools, web search the backend's; other server tools are left out. */
function anthropicTools(tools: unknown): Record<string, unknown>[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  expectType(tools, "array", "tools");
  const out: Record<string, unknown>[] = [];
  (tools as unknown[]).forEach((raw, i) => {
    expectType(raw, "object", `tools.${i}`);
    const t = raw as Record<string, unknown>;
    if (isWebSearch(t)) return void out.push(webSearchTool(t));
    if (t.type !== undefined && t.type !== "custom") return;
    if (typeof t.name !== "string" || !t.name) throw new InvalidRequestError(`tools.${i}.name: Field required`, `tools.${i}.name`, "missing_required_parameter");
    out.push({
      type: "function",
      name: t.name,
      ...(typeof t.description === "string" ? { description: t.description } : {}),
      parameters: t.input_schema ?? { type: "object", properties: {} },
      strict: false,
    });
  });
  return out.length ? out : undefined;
}

function toolChoice(choice: Record<string, unknown> | undefined): unknown {
  switch (choice?.type) {
    case undefined:
    case "auto":
      return undefined;
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      if (typeof choice.name !== "string") throw new InvalidRequestError("tool_choice.name: Field required", "tool_choice.name", "missing_required_parameter");
      return { type: "function", name: choice.name };
    default:
      throw new InvalidRequestError('tool_choice.type: must be "auto", "any", "tool" or "none"', "tool_choice.type", "invalid_value");
  }
}

/** A rough token count (about four characters a token), for `count_tokens`: an estimate, not the backend's. */
export function estimateTokens(request: ResponsesRequest): number {
  let chars = request.instructions.length + JSON.stringify(request.tools ?? []).length;
  let images = 0;
  for (const item of request.input) {
    const text = JSON.stringify(item, (key, value) => {
      if ((key === "image_url" || key === "file_data") && typeof value === "string") {
        images++;
        return "";
      }
      return value;
    });
    chars += text.length;
  }
  return Math.ceil(chars / 4) + images * 1000;
}
