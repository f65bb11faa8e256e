import { InvalidRequestError, expectType } from "../errors.js";
import { buildResponsesRequest, type TranslateContext } from "../responses/build.js";
import { assistantMessage, functionCall, functionCallOutput, imagePart, textPart, userMessage } from "../responses/input.js";
import type { InputItem, ResponsesRequest } from "../responses/types.js";
import { chatTools, chatWebSearch } from "../openai-chat/tools.js";
import type { ReasoningFormat } from "../reasoning-settings.js";
import { ollamaThinkOptions } from "../reasoning.js";

/** Ollama model names may carry a tag; the only tag we have is `latest`. */
export function stripOllamaTag(name: unknown): unknown {
  return typeof name === "string" ? name.replace(/:latest$/i, "") : name;
}

/** Base64 image (Ollama sends no data: prefix) → a data URL with the type read from its first bytes. */
export function imageDataUrl(b64: unknown, param: string): string {
  if (typeof b64 !== "string" || !b64) throw new InvalidRequestError(`\`${param}\` must be a base64 string`, param, "invalid_type");
  if (b64.startsWith("data:image/")) return b64;
  const head = Buffer.from(b64.slice(0, 16), "base64");
  const type =
    head[0] === 0x89 && head[1] === 0x50 ? "png" : head[0] === 0xff && head[1] === 0xd8 ? "jpeg" : head.subarray(0, 3).toString() === "GIF" ? "gif" : head.subarray(8, 12).toString() === "WEBP" ? "webp" : "png";
  return `data:image/${type};base64,${b64}`;
}

export interface OllamaTranslation {
  request: ResponsesRequest;
  /** Ollama streams unless told not to */
  stream: boolean;
  reasoningFormat: ReasoningFormat;
  /** the model name as the client wrote it */
  model: string;
}

function formatOption(format: unknown): Record<string, unknown> | undefined {
  if (format === undefined || format === null || format === "") return undefined;
  if (format === "json") return { type: "json_object" };
  if (typeof format === "object" && !Array.isArray(format)) return { type: "json_schema", name: "response", schema: format, strict: false };
  throw new InvalidRequestError('`format` must be "json" or a JSON schema object', "format", "invalid_value");
}

export function objectBody(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new InvalidRequestError("The request body must be a JSON object");
  return body as Record<string, unknown>;
}

/** The options both Ollama endpoints share (model, think, format, tools) around the conversation, built once they are checked. */
function translate(req: Record<string, unknown>, conversation: () => { instructions: string[]; input: InputItem[] }, ctx: TranslateContext): OllamaTranslation {
  if (req.stream !== undefined && req.stream !== null) expectType(req.stream, "boolean", "stream");
  const think = ollamaThinkOptions(req.think);
  const textFormat = formatOption(req.format);
  // options (temperature, num_ctx, …) and keep_alive have no meaning for the backend: accepted, unused
  const webSearch = chatWebSearch(undefined, ctx.defaults.webSearch);
  const request = buildResponsesRequest(
    {
      model: stripOllamaTag(req.model),
      ...conversation(),
      tools: [...(chatTools(req.tools, undefined) ?? []), ...(webSearch ? [webSearch] : [])],
      effort: [{ value: think.reasoning_effort, param: "think" }],
      summary: think.reasoning_format === "none" ? "none" : undefined,
      textFormat,
    },
    ctx,
  );
  return { request, stream: req.stream !== false, reasoningFormat: think.reasoning_format, model: String(req.model ?? request.model) };
}

/** `POST /api/chat`. */
export function ollamaChatToResponses(body: unknown, ctx: TranslateContext): OllamaTranslation {
  const req = objectBody(body);
  if (req.messages === undefined || req.messages === null) throw new InvalidRequestError("`messages` is required", "messages", "missing_required_parameter");
  expectType(req.messages, "array", "messages");
  const messages = req.messages as unknown[];
  return translate(req, () => ollamaMessagesToInput(messages), ctx);
}

/** Ollama messages → instructions and input items. Tool results are paired with the calls before them by name. */
function ollamaMessagesToInput(messages: unknown[]): { instructions: string[]; input: InputItem[] } {
  if (messages.length === 0) throw new InvalidRequestError("`messages` must not be empty", "messages", "invalid_value");
  const instructions: string[] = [];
  const input: InputItem[] = [];
  const pending: { id: string; name: string }[] = [];
  let callCount = 0;
  messages.forEach((raw, i) => {
    const param = `messages[${i}]`;
    expectType(raw, "object", param);
    const message = raw as Record<string, unknown>;
    const content = message.content ?? "";
    if (typeof content !== "string") throw new InvalidRequestError(`\`${param}.content\` must be a string`, `${param}.content`, "invalid_type");
    const images = Array.isArray(message.images) ? message.images : [];
    if (images.length && message.role !== "user" && message.role !== "tool") {
      throw new InvalidRequestError(`\`${param}.images\`: images are read on user messages only`, `${param}.images`, "invalid_value");
    }
    switch (message.role) {
      case "system":
      case "developer":
        instructions.push(content);
        break;
      case "user":
        input.push(userMessage([textPart(content), ...images.map((image, j) => imagePart(imageDataUrl(image, `${param}.images[${j}]`)))]));
        break;
      case "assistant": {
        input.push(...assistantMessage(content));
        const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
        calls.forEach((rawCall, j) => {
          const callParam = `${param}.tool_calls[${j}]`;
          expectType(rawCall, "object", callParam);
          const call = rawCall as Record<string, unknown>;
          // Ollama's calls carry no id: the results find theirs by name
          const id = typeof call.id === "string" && call.id ? call.id : `call_${callCount++}`;
          const item = functionCall(id, call.function, `${callParam}.function`);
          pending.push({ id, name: String(item.name) });
          input.push(item);
        });
        break;
      }
      case "tool": {
        const name = message.tool_name ?? message.name;
        const at = pending.findIndex((p) => p.name === name);
        const call = at >= 0 ? pending.splice(at, 1)[0] : pending.shift();
        if (!call) throw new InvalidRequestError("A `tool` message must follow an assistant message with `tool_calls`", param, "invalid_value");
        input.push(functionCallOutput(call.id, content));
        break;
      }
      default:
        throw new InvalidRequestError(`\`${param}.role\` must be one of system, user, assistant, tool; got ${JSON.stringify(message.role)}`, `${param}.role`, "invalid_value");
    }
  });
  return { instructions, input };
}

/** `POST /api/generate`: one turn, `system` as the instructions and `prompt` with its `images` as the user message. */
export function ollamaGenerateToResponses(body: unknown, ctx: TranslateContext): OllamaTranslation {
  const req = objectBody(body);
  if (req.suffix !== undefined && req.suffix !== null && req.suffix !== "") {
    throw new InvalidRequestError("`suffix` (fill-in-the-middle) is not supported by the Codex backend", "suffix", "unsupported_parameter");
  }
  if (req.prompt !== undefined && typeof req.prompt !== "string") throw new InvalidRequestError("`prompt` must be a string", "prompt", "invalid_type");
  if (req.system !== undefined && req.system !== null && typeof req.system !== "string") throw new InvalidRequestError("`system` must be a string", "system", "invalid_type");
  const images = Array.isArray(req.images) ? req.images : [];
  return translate(
    req,
    () => ({
      instructions: typeof req.system === "string" && req.system ? [req.system] : [],
      input: [userMessage([textPart(String(req.prompt ?? "")), ...images.map((image, j) => imagePart(imageDataUrl(image, `images[${j}]`)))])],
    }),
    ctx,
  );
}
