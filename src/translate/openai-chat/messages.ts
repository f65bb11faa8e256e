import { InvalidRequestError, expectType } from "../errors.js";
import type { InputItem } from "../responses/types.js";
import { assistantMessage, functionCall, functionCallOutput, imagePart, textPart, userMessage } from "../responses/input.js";

/**
 * Chat messages → the Responses conversation: system and developer messages become instructions, each other
 * role its input items (content parts, tool calls and their results, legacy function calls).
 */
export function chatMessagesToInput(messages: unknown[]): { instructions: string[]; input: InputItem[] } {
  const instructions: string[] = [];
  const input: InputItem[] = [];
  const legacyCalls: { id: string; name: string }[] = [];
  /** ids of freeform tool calls in the history: their results go back as `custom_tool_call_output` */
  const customCalls = new Set<string>();
  messages.forEach((raw, i) => {
    const param = `messages[${i}]`;
    expectType(raw, "object", param);
    const msg = raw as Record<string, unknown>;
    switch (msg.role) {
      case "system":
      case "developer":
        instructions.push(textOf(msg.content, `${param}.content`));
        break;
      case "user":
        input.push(userMessage(userContent(msg.content, `${param}.content`)));
        break;
      case "assistant":
        input.push(...assistantItems(msg, param, legacyCalls, customCalls));
        break;
      case "tool": {
        if (typeof msg.tool_call_id !== "string" || !msg.tool_call_id) {
          throw new InvalidRequestError("`tool_call_id` is required on tool messages", `${param}.tool_call_id`, "missing_required_parameter");
        }
        const type = customCalls.has(msg.tool_call_id) ? "custom_tool_call_output" : "function_call_output";
        input.push({ type, call_id: msg.tool_call_id, output: toolOutput(msg.content, `${param}.content`) });
        break;
      }
      case "function": {
        // legacy function result: pair it with the latest call of that name
        const call = [...legacyCalls].reverse().find((c) => c.name === msg.name) ?? legacyCalls.at(-1);
        if (!call) throw new InvalidRequestError("A `function` message must follow an assistant `function_call`", `${param}`, "invalid_value");
        input.push(functionCallOutput(call.id, toolOutput(msg.content, `${param}.content`)));
        break;
      }
      default:
        throw new InvalidRequestError(
          `\`${param}.role\` must be one of system, developer, user, assistant, tool, function; got ${JSON.stringify(msg.role)}`,
          `${param}.role`,
          "invalid_value",
        );
    }
  });

  return { instructions, input };
}

/** Text of a string or an array of text parts. */
function textOf(content: unknown, param: string): string {
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw new InvalidRequestError(`\`${param}\` must be a string or an array of content parts`, param, "invalid_type");
  return content
    .map((part, i) => {
      const p = part as Record<string, unknown>;
      if (typeof part === "string") return part;
      if (p?.type === "text" || p?.type === "input_text" || p?.type === "output_text") {
        if (typeof p.text !== "string") throw new InvalidRequestError(`\`${param}[${i}].text\` must be a string`, `${param}[${i}].text`, "invalid_type");
        return p.text;
      }
      if (p?.type === "refusal") return typeof p.refusal === "string" ? p.refusal : "";
      throw new InvalidRequestError(`\`${param}[${i}]\` must be a text part here`, `${param}[${i}]`, "invalid_value");
    })
    .join("");
}

function userContent(content: unknown, param: string): Record<string, unknown>[] {
  if (typeof content === "string") return [textPart(content)];
  if (!Array.isArray(content)) throw new InvalidRequestError(`\`${param}\` must be a string or an array of content parts`, param, "invalid_type");
  return content.map((part, i) => contentPart(part, `${param}[${i}]`));
}

/** A user content part → a Responses input part (text, image, file). */
function contentPart(part: unknown, param: string): Record<string, unknown> {
  if (typeof part === "string") return textPart(part);
  expectType(part, "object", param);
  const p = part as Record<string, unknown>;
  switch (p.type) {
    case "text":
    case "input_text":
      if (typeof p.text !== "string") throw new InvalidRequestError(`\`${param}.text\` must be a string`, `${param}.text`, "invalid_type");
      return textPart(p.text);
    case "image_url":
    case "input_image": {
      const image = p.image_url;
      const url = typeof image === "string" ? image : (image as Record<string, unknown> | undefined)?.url;
      const detail = (typeof image === "object" && image ? (image as Record<string, unknown>).detail : undefined) ?? p.detail;
      if (typeof url !== "string" || !/^(https?:|data:image\/)/.test(url)) {
        throw new InvalidRequestError(`\`${param}.image_url.url\` must be an http(s) URL or a data:image/… URL`, `${param}.image_url.url`, "invalid_value");
      }
      return imagePart(url, detail);
    }
    case "file": {
      const file = (p.file ?? {}) as Record<string, unknown>;
      if (typeof file.file_data !== "string") {
        throw new InvalidRequestError("`file.file_data` (a data URL) is required; uploaded file ids are not supported", `${param}.file.file_data`, "invalid_value");
      }
      return { type: "input_file", file_data: file.file_data, filename: typeof file.filename === "string" ? file.filename : "file" };
    }
    default:
      throw new InvalidRequestError(`Unsupported content part type ${JSON.stringify(p.type)} (text, image_url and file are supported)`, `${param}.type`, "invalid_value");
  }
}

function assistantItems(msg: Record<string, unknown>, param: string, legacyCalls: { id: string; name: string }[], customCalls: Set<string>): InputItem[] {
  const items = assistantMessage(textOf(msg.content, `${param}.content`));
  if (msg.tool_calls !== undefined && msg.tool_calls !== null) {
    expectType(msg.tool_calls, "array", `${param}.tool_calls`);
    (msg.tool_calls as unknown[]).forEach((raw, j) => {
      const p = `${param}.tool_calls[${j}]`;
      expectType(raw, "object", p);
      const call = raw as Record<string, unknown>;
      if (typeof call.id !== "string" || !call.id) throw new InvalidRequestError(`\`${p}.id\` is required`, `${p}.id`, "missing_required_parameter");
      if (call.type === "custom") {
        expectType(call.custom, "object", `${p}.custom`);
        const custom = call.custom as Record<string, unknown>;
        if (typeof custom.name !== "string" || !custom.name) throw new InvalidRequestError(`\`${p}.custom.name\` is required`, `${p}.custom.name`, "missing_required_parameter");
        if (typeof custom.input !== "string") throw new InvalidRequestError(`\`${p}.custom.input\` must be a string`, `${p}.custom.input`, "invalid_type");
        customCalls.add(call.id);
        items.push({ type: "custom_tool_call", call_id: call.id, name: custom.name, input: custom.input });
        return;
      }
      items.push(functionCall(call.id, call.function, `${p}.function`));
    });
  }
  const legacy = msg.function_call as Record<string, unknown> | undefined;
  if (legacy && typeof legacy === "object" && typeof legacy.name === "string") {
    const id = `call_legacy_${legacyCalls.length}`;
    legacyCalls.push({ id, name: legacy.name });
    items.push({ type: "function_call", call_id: id, name: legacy.name, arguments: typeof legacy.arguments === "string" ? legacy.arguments : "{}" });
  }
  return items;
}

/** A tool result: plain text, or text and images when the client sent parts. */
function toolOutput(content: unknown, param: string): string | Record<string, unknown>[] {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  if (!Array.isArray(content)) return JSON.stringify(content);
  const parts = content.map((part, i) => contentPart(part, `${param}[${i}]`));
  return parts.every((p) => p.type === "input_text") ? parts.map((p) => p.text).join("") : parts;
}
