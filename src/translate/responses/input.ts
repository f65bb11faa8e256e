import { InvalidRequestError } from "../errors.js";
import { stripThinkBlocks } from "../reasoning.js";
import type { InputItem } from "./types.js";

// The Responses input items the chat-shaped families (Chat Completions, legacy completions, Ollama) build, in the
// one shape the backend reads, so each family maps its own fields straight onto them.

export const textPart = (text: string): Record<string, unknown> => ({ type: "input_text", text });

export const imagePart = (url: string, detail: unknown = "auto"): Record<string, unknown> => ({
  type: "input_image",
  image_url: url,
  detail: ["low", "high", "auto"].includes(detail as string) ? detail : "auto",
});

export const userMessage = (content: Record<string, unknown>[]): InputItem => ({ type: "message", role: "user", content });

/** Assistant text from the history, without the reasoning the proxy wrote into it as `<think>` blocks (none when empty). */
export function assistantMessage(text: string): InputItem[] {
  const answer = stripThinkBlocks(text);
  return answer ? [{ type: "message", role: "assistant", content: [{ type: "output_text", text: answer }] }] : [];
}

/** A function call from the history: `fn` is `{name, arguments}`, the arguments a JSON string or an object. */
export function functionCall(id: string, fn: unknown, param: string): InputItem {
  const call = (fn ?? {}) as Record<string, unknown>;
  if (typeof call.name !== "string" || !call.name) throw new InvalidRequestError(`\`${param}.name\` is required`, `${param}.name`, "missing_required_parameter");
  const args = typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments ?? {});
  return { type: "function_call", call_id: id, name: call.name, arguments: args };
}

export const functionCallOutput = (id: string, output: string | Record<string, unknown>[]): InputItem => ({ type: "function_call_output", call_id: id, output });
