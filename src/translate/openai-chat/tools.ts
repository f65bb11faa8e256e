import { InvalidRequestError, expectType } from "../errors.js";

// Chat Completions tools and tool_choice → the flat shapes of the Responses API.

export function chatTools(tools: unknown, functions: unknown): Record<string, unknown>[] | undefined {
  const out: Record<string, unknown>[] = [];
  if (tools !== undefined && tools !== null) {
    expectType(tools, "array", "tools");
    (tools as unknown[]).forEach((raw, i) => {
      const param = `tools[${i}]`;
      expectType(raw, "object", param);
      const tool = raw as Record<string, unknown>;
      if (tool.type === "function") {
        out.push(functionTool(tool.function, `${param}.function`));
      } else if (tool.type === "custom") {
        out.push(customTool(tool.custom, `${param}.custom`));
      } else {
        throw new InvalidRequestError(`Unsupported tool type ${JSON.stringify(tool.type)}: use "function" or "custom"`, `${param}.type`, "invalid_value");
      }
    });
  }
  if (Array.isArray(functions)) functions.forEach((fn, i) => out.push(functionTool(fn, `functions[${i}]`)));
  return out.length ? out : undefined;
}

/**
 * `web_search_options` (any object, as in the OpenAI API) → the backend's hosted `web_search` tool, with its
 * context size and approximate location; absent, `serverDefault` (`--web-search`) decides; `null` opts out.
 */
export function chatWebSearch(options: unknown, serverDefault = false): Record<string, unknown> | undefined {
  if (options === null || (options === undefined && !serverDefault)) return undefined;
  if (options === undefined) return { type: "web_search" };
  expectType(options, "object", "web_search_options");
  const o = options as Record<string, unknown>;
  const tool: Record<string, unknown> = { type: "web_search" };
  if (o.search_context_size !== undefined && o.search_context_size !== null) {
    if (!["low", "medium", "high"].includes(o.search_context_size as string)) {
      throw new InvalidRequestError("`web_search_options.search_context_size` must be low, medium or high", "web_search_options.search_context_size", "invalid_value");
    }
    tool.search_context_size = o.search_context_size;
  }
  const location = o.user_location as Record<string, unknown> | null | undefined;
  if (location !== undefined && location !== null) {
    expectType(location, "object", "web_search_options.user_location");
    const approx = (location.approximate ?? {}) as Record<string, unknown>;
    expectType(approx, "object", "web_search_options.user_location.approximate");
    const fields = Object.fromEntries(["country", "region", "city", "timezone"].filter((k) => typeof approx[k] === "string").map((k) => [k, approx[k]]));
    tool.user_location = { type: "approximate", ...fields };
  }
  return tool;
}

/** `{type:"function",function:{name,…}}` → the flat Responses shape `{type:"function",name,…}`. */
function functionTool(fn: unknown, param: string): Record<string, unknown> {
  expectType(fn, "object", param);
  const f = fn as Record<string, unknown>;
  if (typeof f.name !== "string" || !f.name) throw new InvalidRequestError(`\`${param}.name\` is required`, `${param}.name`, "missing_required_parameter");
  const tool: Record<string, unknown> = { type: "function", name: f.name, parameters: f.parameters ?? { type: "object", properties: {} } };
  if (typeof f.description === "string") tool.description = f.description;
  tool.strict = f.strict === true;
  return tool;
}

/**
 * A freeform tool `{type:"custom",custom:{name,description,format}}` → the backend's flat shape; a grammar format
 * `{type:"grammar",grammar:{syntax,definition}}` is flat there too.
 */
function customTool(raw: unknown, param: string): Record<string, unknown> {
  expectType(raw, "object", param);
  const custom = raw as Record<string, unknown>;
  if (typeof custom.name !== "string" || !custom.name) throw new InvalidRequestError(`\`${param}.name\` is required`, `${param}.name`, "missing_required_parameter");
  const tool: Record<string, unknown> = { type: "custom", name: custom.name };
  if (typeof custom.description === "string") tool.description = custom.description;
  if (custom.format !== undefined && custom.format !== null) {
    expectType(custom.format, "object", `${param}.format`);
    const format = custom.format as Record<string, unknown>;
    if (format.type === "text") tool.format = { type: "text" };
    else if (format.type === "grammar") {
      const grammar = (format.grammar ?? format) as Record<string, unknown>;
      if (typeof grammar.definition !== "string" || (grammar.syntax !== "lark" && grammar.syntax !== "regex")) {
        throw new InvalidRequestError(`\`${param}.format.grammar\` needs a \`definition\` and a \`syntax\` (lark or regex)`, `${param}.format.grammar`, "invalid_value");
      }
      tool.format = { type: "grammar", syntax: grammar.syntax, definition: grammar.definition };
    } else throw new InvalidRequestError(`\`${param}.format.type\` must be text or grammar`, `${param}.format.type`, "invalid_value");
  }
  return tool;
}

export function chatToolChoice(choice: unknown): unknown {
  if (choice === undefined || choice === null) return undefined;
  if (choice === "auto" || choice === "none" || choice === "required") return choice;
  if (typeof choice === "object") {
    const c = choice as Record<string, unknown>;
    const name = (c.function as Record<string, unknown> | undefined)?.name ?? c.name;
    if ((c.type === "function" || c.type === undefined) && typeof name === "string") return { type: "function", name };
    if (c.type === "custom" && typeof (c.custom as Record<string, unknown>)?.name === "string") {
      return { type: "custom", name: (c.custom as Record<string, unknown>).name };
    }
    if (c.type === "allowed_tools") {
      const allowed = (c.allowed_tools ?? c) as Record<string, unknown>;
      const tools = Array.isArray(allowed.tools) ? allowed.tools : [];
      return {
        type: "allowed_tools",
        mode: allowed.mode === "required" ? "required" : "auto",
        tools: tools.map((t) => {
          const tool = t as Record<string, unknown>;
          if (tool.type === "custom") return { type: "custom", name: (tool.custom as Record<string, unknown> | undefined)?.name ?? tool.name };
          return { type: "function", name: (tool.function as Record<string, unknown> | undefined)?.name ?? tool.name };
        }),
      };
    }
  }
  throw new InvalidRequestError(
    '`tool_choice` must be "auto", "none", "required" or {"type":"function","function":{"name":…}}',
    "tool_choice",
    "invalid_value",
  );
}

export function legacyFunctionChoice(choice: unknown): unknown {
  if (choice === undefined || choice === null) return undefined;
  if (choice === "auto" || choice === "none") return choice;
  if (typeof choice === "object" && typeof (choice as Record<string, unknown>).name === "string") {
    return { type: "function", function: { name: (choice as Record<string, unknown>).name } };
  }
  return choice;
}
