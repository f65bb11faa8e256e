// Builders for the Codex backend's SSE event stream (upstream-protocol.md §3).
export type Step =
  | { event: Record<string, unknown> }
  | { pause: number }
  /** destroy the socket mid-stream */
  | { cut: true }
  /** write raw bytes (malformed SSE, invalid JSON) */
  | { raw: string };

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_tokens_details: { cached_tokens: number } | null;
  output_tokens_details: { reasoning_tokens: number } | null;
}

export const defaultUsage = (): Usage => ({
  input_tokens: 120,
  input_tokens_details: { cached_tokens: 64 },
  output_tokens: 30,
  output_tokens_details: { reasoning_tokens: 12 },
  total_tokens: 150,
});

let seq = 0;
const id = (prefix: string) => `${prefix}_${(++seq).toString(16).padStart(8, "0")}${Math.random().toString(16).slice(2, 10)}`;

export interface ResponseScript {
  reasoning?: string[];
  text?: string;
  /** split text into deltas of this many characters @default 4 */
  chunk?: number;
  calls?: { name: string; arguments: string; callId?: string }[];
  usage?: Usage | null;
  /** end with response.incomplete and this reason instead of response.completed */
  incomplete?: string;
  /** end with response.failed carrying this error */
  failed?: { code: string; message: string; [field: string]: unknown };
  /** stop after this many steps without a terminal event (a cut stream) */
  cutAfter?: number;
  /** pause between deltas, ms */
  delay?: number;
}

/** A whole response as the backend streams it: created, reasoning, message deltas, function calls, completed. */
export function responseSteps(model: string, script: ResponseScript): Step[] {
  const responseId = id("resp");
  const steps: Step[] = [];
  const push = (event: Record<string, unknown>) => {
    steps.push({ event });
    if (script.delay) steps.push({ pause: script.delay });
  };
  push({ type: "response.created", response: { id: responseId, object: "response", created_at: Math.floor(Date.now() / 1000), status: "in_progress", model, output: [], usage: null } });
  push({ type: "response.in_progress", response: { id: responseId, status: "in_progress" } });
  let index = 0;
  if (script.reasoning?.length) {
    const rs = id("rs");
    push({ type: "response.output_item.added", output_index: index, item: { type: "reasoning", id: rs, summary: [] } });
    script.reasoning.forEach((part, s) => {
      push({ type: "response.reasoning_summary_part.added", item_id: rs, output_index: index, summary_index: s, part: { type: "summary_text", text: "" } });
      for (const piece of split(part, script.chunk ?? 4)) {
        push({ type: "response.reasoning_summary_text.delta", item_id: rs, output_index: index, summary_index: s, delta: piece });
      }
      push({ type: "response.reasoning_summary_text.done", item_id: rs, output_index: index, summary_index: s, text: part });
    });
    push({
      type: "response.output_item.done",
      output_index: index,
      item: { type: "reasoning", id: rs, summary: script.reasoning.map((text) => ({ type: "summary_text", text })), encrypted_content: "gAAAAB" + Buffer.from(rs).toString("base64") },
    });
    index++;
  }
  if (script.text !== undefined) {
    const msg = id("msg");
    push({ type: "response.output_item.added", output_index: index, item: { type: "message", role: "assistant", id: msg, status: "in_progress", content: [] } });
    push({ type: "response.content_part.added", item_id: msg, output_index: index, content_index: 0, part: { type: "output_text", text: "" } });
    for (const piece of split(script.text, script.chunk ?? 4)) {
      push({ type: "response.output_text.delta", item_id: msg, output_index: index, content_index: 0, delta: piece });
    }
    push({ type: "response.output_text.done", item_id: msg, output_index: index, content_index: 0, text: script.text });
    push({ type: "response.output_item.done", output_index: index, item: { type: "message", role: "assistant", id: msg, status: "completed", content: [{ type: "output_text", text: script.text, annotations: [] }] } });
    index++;
  }
  for (const call of script.calls ?? []) {
    const fc = id("fc");
    const callId = call.callId ?? id("call");
    push({ type: "response.output_item.added", output_index: index, item: { type: "function_call", id: fc, call_id: callId, name: call.name, arguments: "", status: "in_progress" } });
    for (const piece of split(call.arguments, script.chunk ?? 4)) {
      push({ type: "response.function_call_arguments.delta", item_id: fc, output_index: index, delta: piece });
    }
    push({ type: "response.function_call_arguments.done", item_id: fc, output_index: index, arguments: call.arguments });
    push({ type: "response.output_item.done", output_index: index, item: { type: "function_call", id: fc, call_id: callId, name: call.name, arguments: call.arguments, status: "completed" } });
    index++;
  }
  const usage = script.usage === undefined ? defaultUsage() : script.usage;
  if (script.failed) {
    push({ type: "response.failed", response: { id: responseId, object: "response", status: "failed", error: script.failed, usage: null } });
  } else if (script.incomplete) {
    push({ type: "response.incomplete", response: { id: responseId, status: "incomplete", incomplete_details: { reason: script.incomplete }, usage } });
  } else {
    push({ type: "response.completed", response: { id: responseId, object: "response", status: "completed", model, usage } });
  }
  if (script.cutAfter !== undefined) {
    const kept = steps.filter((s) => "event" in s).slice(0, script.cutAfter);
    return [...kept, { cut: true }];
  }
  return steps;
}

function split(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [""];
}

export function sseFrame(event: Record<string, unknown>): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
