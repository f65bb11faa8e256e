import { InvalidRequestError, expectType } from "../errors.js";
import type { TranslateContext } from "../responses/build.js";
import { chatRequest, type ChatTranslation } from "../openai-chat/request.js";
import { textPart, userMessage } from "../responses/input.js";
import type { ChatChunk, FinishReason } from "../openai-chat/stream.js";
import type { ChatCompletion } from "../openai-chat/aggregate.js";
import type { ChatUsage } from "../usage.js";

export interface CompletionChunk {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: { index: 0; text: string; finish_reason: Exclude<FinishReason, "tool_calls"> | null; logprobs: null }[];
  usage?: ChatUsage;
}

/**
 * A legacy Completions request is a one-message chat: the prompt becomes the user message, and the answer
 * comes back as `text`. The options (model, effort, usage, errors) are the chat path's.
 */
export function completionsToResponses(body: unknown, ctx: TranslateContext): ChatTranslation & { echo?: string } {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new InvalidRequestError("The request body must be a JSON object");
  const req = body as Record<string, unknown>;
  if (req.prompt === undefined || req.prompt === null) throw new InvalidRequestError("`prompt` is required", "prompt", "missing_required_parameter");
  let prompt: string;
  if (typeof req.prompt === "string") prompt = req.prompt;
  else {
    expectType(req.prompt, "array", "prompt");
    const prompts = req.prompt as unknown[];
    if (prompts.length !== 1 || typeof prompts[0] !== "string") {
      throw new InvalidRequestError("`prompt` must be a string or an array of one string (one completion per request)", "prompt", "unsupported_value");
    }
    prompt = prompts[0];
  }
  if (req.suffix !== undefined && req.suffix !== null && req.suffix !== "") {
    throw new InvalidRequestError("`suffix` (fill-in-the-middle) is not supported by the Codex backend", "suffix", "unsupported_parameter");
  }
  if (req.best_of !== undefined && req.best_of !== null && req.best_of !== 1) {
    throw new InvalidRequestError("`best_of` must be 1", "best_of", "unsupported_value");
  }
  // legacy completions show no reasoning: a `reasoning_format` the client sent has no meaning here
  const chat = chatRequest(req, () => ({ instructions: [], input: [userMessage([textPart(prompt)])] }), ctx, { fixed: "none" });
  return Object.assign(chat, { echo: req.echo === true ? prompt : undefined });
}

// legacy completions know no tools
const legacyFinish = (reason: FinishReason | null) => (reason === "tool_calls" ? "stop" : reason);

/** The aggregated chat answer → the non-stream completion (the prompt first when `echo` asked for it). */
export function toCompletion(chat: ChatCompletion, echo = "") {
  const choice = chat.choices[0]!;
  return {
    id: chat.id.replace(/^chatcmpl-/, "cmpl-"),
    object: "text_completion" as const,
    created: chat.created,
    model: chat.model,
    choices: [{ index: 0, text: echo + (choice.message.content ?? ""), finish_reason: legacyFinish(choice.finish_reason), logprobs: null }],
    usage: chat.usage,
  };
}

/** A chat chunk → a completion chunk (`undefined` when it carries nothing a completion shows). */
export function toCompletionChunk(chunk: ChatChunk): CompletionChunk | undefined {
  const choice = chunk.choices[0];
  const base = { id: chunk.id.replace(/^chatcmpl-/, "cmpl-"), object: "text_completion" as const, created: chunk.created, model: chunk.model };
  if (!choice) return chunk.usage ? Object.assign(base, { choices: [], usage: chunk.usage }) : undefined;
  const text = choice.delta.content ?? "";
  if (!text && !choice.finish_reason) return undefined;
  return Object.assign(base, { choices: [{ index: 0 as const, text, finish_reason: legacyFinish(choice.finish_reason), logprobs: null }] });
}
