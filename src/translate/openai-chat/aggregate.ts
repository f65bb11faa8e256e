import type { ChatUsage } from "../usage.js";
import type { ChatChunk, FinishReason, UrlCitation } from "./stream.js";

/** A function call, or a freeform (`custom`) tool call with text input. */
export type ToolCall =
  | { id: string; type: "function"; function: { name: string; arguments: string } }
  | { id: string; type: "custom"; custom: { name: string; input: string } };

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: 0;
    message: {
      role: "assistant";
      content: string | null;
      refusal: string | null;
      reasoning_content?: string;
      tool_calls?: ToolCall[];
      annotations?: UrlCitation[];
    };
    finish_reason: FinishReason;
    logprobs: null;
  }[];
  usage: ChatUsage;
  service_tier: string;
}

/** Chunks of one stream → the non-stream response, so both modes say exactly the same thing. */
export function aggregateChatChunks(chunks: ChatChunk[], usage: ChatUsage): ChatCompletion {
  const first = chunks[0];
  let content = "";
  let reasoning = "";
  let refusal = "";
  let finish: FinishReason = "stop";
  const calls: ToolCall[] = [];
  const annotations: UrlCitation[] = [];
  for (const chunk of chunks) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    const d = choice.delta;
    if (d.content) content += d.content;
    if (d.reasoning_content) reasoning += d.reasoning_content;
    if (d.refusal) refusal += d.refusal;
    if (d.annotations) annotations.push(...d.annotations);
    for (const tc of d.tool_calls ?? []) {
      const call = (calls[tc.index] ??= "custom" in tc ? { id: "", type: "custom", custom: { name: "", input: "" } } : { id: "", type: "function", function: { name: "", arguments: "" } });
      if (tc.id) call.id = tc.id;
      if (call.type === "custom" && "custom" in tc) {
        if (tc.custom.name) call.custom.name = tc.custom.name;
        call.custom.input += tc.custom.input;
      } else if (call.type === "function" && "function" in tc) {
        if (tc.function.name) call.function.name = tc.function.name;
        call.function.arguments += tc.function.arguments;
      }
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  const message: ChatCompletion["choices"][0]["message"] = {
    role: "assistant",
    content: content || (calls.length ? null : ""),
    refusal: refusal || null,
  };
  if (reasoning) message.reasoning_content = reasoning;
  if (calls.length) message.tool_calls = calls;
  if (annotations.length) message.annotations = annotations;
  return {
    id: first?.id ?? "",
    object: "chat.completion",
    created: first?.created ?? Math.floor(Date.now() / 1000),
    model: first?.model ?? "",
    choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
    usage,
    service_tier: chunks.at(-1)?.service_tier ?? "default",
  };
}
