import { InvalidRequestError, expectType } from "../errors.js";
import type { TranslateContext } from "../responses/build.js";
import { chatToResponses, type ChatTranslation } from "../openai-chat/request.js";
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

export interface OllamaTranslation extends ChatTranslation {
  /** Ollama streams unless told not to */
  stream: boolean;
  /** the model name as the client wrote it */
  model: string;
}

function formatOption(format: unknown): Record<string, unknown> | undefined {
  if (format === undefined || format === null || format === "") return undefined;
  if (format === "json") return { type: "json_object" };
  if (typeof format === "object" && !Array.isArray(format)) return { type: "json_schema", json_schema: { name: "response", schema: format, strict: false } };
  throw new InvalidRequestError('`format` must be "json" or a JSON schema object', "format", "invalid_value");
}

function common(req: Record<string, unknown>) {
  if (req.stream !== undefined && req.stream !== null) expectType(req.stream, "boolean", "stream");
  return {
    model: stripOllamaTag(req.model),
    ...ollamaThinkOptions(req.think),
    response_format: formatOption(req.format),
    tools: req.tools,
    // options (temperature, num_ctx, …) and keep_alive have no meaning for the backend: accepted, unused
  };
}

/** `POST /api/chat` → the chat path. Tool results are paired with the calls before them by name. */
export function ollamaChatToResponses(body: unknown, ctx: TranslateContext): OllamaTranslation {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new InvalidRequestError("The request body must be a JSON object");
  const req = body as Record<string, unknown>;
  if (req.messages === undefined || req.messages === null) throw new InvalidRequestError("`messages` is required", "messages", "missing_required_parameter");
  expectType(req.messages, "array", "messages");
  const pending: { id: string; name: string }[] = [];
  let callCount = 0;
  const messages = (req.messages as unknown[]).map((raw, i) => {
    const param = `messages[${i}]`;
    expectType(raw, "object", param);
    const m = raw as Record<string, unknown>;
    const content = m.content ?? "";
    if (typeof content !== "string") throw new InvalidRequestError(`\`${param}.content\` must be a string`, `${param}.content`, "invalid_type");
    if (m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length) {
      const toolCalls = (m.tool_calls as Record<string, unknown>[]).map((tc) => {
        const fn = (tc.function ?? {}) as Record<string, unknown>;
        const id = typeof tc.id === "string" ? tc.id : `call_${callCount++}`;
        pending.push({ id, name: String(fn.name ?? "") });
        return { id, type: "function", function: { name: fn.name, arguments: typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments ?? {}) } };
      });
      return { role: "assistant", content, tool_calls: toolCalls };
    }
    if (m.role === "tool") {
      const name = m.tool_name ?? m.name;
      const at = pending.findIndex((p) => p.name === name);
      const call = at >= 0 ? pending.splice(at, 1)[0] : pending.shift();
      if (!call) throw new InvalidRequestError("A `tool` message must follow an assistant message with `tool_calls`", param, "invalid_value");
      return { role: "tool", tool_call_id: call.id, content };
    }
    if (Array.isArray(m.images) && m.images.length) {
      return {
        role: m.role,
        content: [{ type: "text", text: content }, ...m.images.map((img, j) => ({ type: "image_url", image_url: { url: imageDataUrl(img, `${param}.images[${j}]`) } }))],
      };
    }
    return { role: m.role, content };
  });
  const chat = chatToResponses({ ...common(req), messages }, ctx);
  return { ...chat, stream: req.stream !== false, model: String(req.model ?? chat.request.model) };
}

/** `POST /api/generate` → a one-turn chat (`system` + `prompt` + `images`). */
export function ollamaGenerateToResponses(body: unknown, ctx: TranslateContext): OllamaTranslation {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new InvalidRequestError("The request body must be a JSON object");
  const req = body as Record<string, unknown>;
  if (req.suffix !== undefined && req.suffix !== null && req.suffix !== "") {
    throw new InvalidRequestError("`suffix` (fill-in-the-middle) is not supported by the Codex backend", "suffix", "unsupported_parameter");
  }
  if (req.prompt !== undefined && typeof req.prompt !== "string") throw new InvalidRequestError("`prompt` must be a string", "prompt", "invalid_type");
  if (req.system !== undefined && req.system !== null && typeof req.system !== "string") throw new InvalidRequestError("`system` must be a string", "system", "invalid_type");
  const images = Array.isArray(req.images) ? req.images : [];
  const user = images.length
    ? [{ type: "text", text: req.prompt ?? "" }, ...images.map((img, j) => ({ type: "image_url", image_url: { url: imageDataUrl(img, `images[${j}]`) } }))]
    : String(req.prompt ?? "");
  const messages = [...(typeof req.system === "string" && req.system ? [{ role: "system", content: req.system }] : []), { role: "user", content: user }];
  const chat = chatToResponses({ ...common(req), messages }, ctx);
  return { ...chat, stream: req.stream !== false, model: String(req.model ?? chat.request.model) };
}
