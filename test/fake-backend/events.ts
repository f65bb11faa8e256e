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

/** One output item: a reasoning item with its summary parts, a message, a function call or a freeform tool call. */
export type OutputItem =
  | { reasoning: string[] }
  | { text: string; annotations?: Record<string, unknown>[] }
  /** a hosted web search (`web_search_call`); `sources` only when the request included them */
  | { search: { query: string; sources?: string[] } }
  /** the opaque summary of a conversation, the answer to a `compaction_trigger` input item */
  | { compaction: string }
  /** a hosted image generation (`image_generation_call`) with `partials` partial images first */
  | { image: { result: string; revisedPrompt: string; partials?: number; size?: string; quality?: string; background?: string; outputFormat?: string } }
  | { call: { name: string; arguments: string; callId?: string } }
  | { custom: { name: string; input: string; callId?: string } };

export interface ResponseScript {
  /** the output items in order; without it: reasoning, then text, then calls */
  items?: OutputItem[];
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
  /** the tier that served the answer, named in the response objects @default "default" */
  serviceTier?: string;
}

/** A whole response as the backend streams it: created, reasoning, message deltas, function calls, completed. */
export function responseSteps(model: string, script: ResponseScript): Step[] {
  const responseId = id("resp");
  const steps: Step[] = [];
  const push = (event: Record<string, unknown>) => {
    steps.push({ event });
    if (script.delay) steps.push({ pause: script.delay });
  };
  push({ type: "response.created", response: { id: responseId, object: "response", created_at: Math.floor(Date.now() / 1000), status: "in_progress", model, output: [], usage: null, service_tier: script.serviceTier ?? "default" } });
  push({ type: "response.in_progress", response: { id: responseId, status: "in_progress" } });
  const items: OutputItem[] = script.items ?? [
    ...(script.reasoning?.length ? [{ reasoning: script.reasoning }] : []),
    ...(script.text !== undefined ? [{ text: script.text }] : []),
    ...(script.calls ?? []).map((call) => ({ call })),
  ];
  items.forEach((item, index) => {
    if ("reasoning" in item) reasoningSteps(item.reasoning, index, script.chunk ?? 4, push);
    else if ("text" in item) messageSteps(item.text, index, script.chunk ?? 4, push, item.annotations);
    else if ("search" in item) searchSteps(item.search, index, push);
    else if ("image" in item) imageSteps(item.image, index, push);
    else if ("compaction" in item) {
      const cmp = { type: "compaction", id: id("cmp"), encrypted_content: item.compaction };
      push({ type: "response.output_item.added", output_index: index, item: cmp });
      push({ type: "response.output_item.done", output_index: index, item: cmp });
    }
    else if ("call" in item) callSteps({ type: "function_call", name: item.call.name, callId: item.call.callId, text: item.call.arguments }, index, script.chunk ?? 4, push);
    else callSteps({ type: "custom_tool_call", name: item.custom.name, callId: item.custom.callId, text: item.custom.input }, index, script.chunk ?? 4, push);
  });
  const usage = script.usage === undefined ? defaultUsage() : script.usage;
  if (script.failed) {
    push({ type: "response.failed", response: { id: responseId, object: "response", status: "failed", error: script.failed, usage: null } });
  } else if (script.incomplete) {
    push({ type: "response.incomplete", response: { id: responseId, status: "incomplete", incomplete_details: { reason: script.incomplete }, usage } });
  } else {
    push({ type: "response.completed", response: { id: responseId, object: "response", status: "completed", model, usage, service_tier: script.serviceTier ?? "default" } });
  }
  if (script.cutAfter !== undefined) {
    const kept = steps.filter((s) => "event" in s).slice(0, script.cutAfter);
    return [...kept, { cut: true }];
  }
  return steps;
}

type Push = (event: Record<string, unknown>) => void;

function reasoningSteps(summary: string[], index: number, chunk: number, push: Push): void {
  const rs = id("rs");
  push({ type: "response.output_item.added", output_index: index, item: { type: "reasoning", id: rs, summary: [] } });
  summary.forEach((part, s) => {
    push({ type: "response.reasoning_summary_part.added", item_id: rs, output_index: index, summary_index: s, part: { type: "summary_text", text: "" } });
    for (const piece of split(part, chunk)) {
      push({ type: "response.reasoning_summary_text.delta", item_id: rs, output_index: index, summary_index: s, delta: piece });
    }
    push({ type: "response.reasoning_summary_text.done", item_id: rs, output_index: index, summary_index: s, text: part });
  });
  push({
    type: "response.output_item.done",
    output_index: index,
    item: { type: "reasoning", id: rs, summary: summary.map((text) => ({ type: "summary_text", text })), encrypted_content: "gAAAAB" + Buffer.from(rs).toString("base64") },
  });
}

function messageSteps(text: string, index: number, chunk: number, push: Push, annotations: Record<string, unknown>[] = []): void {
  const msg = id("msg");
  push({ type: "response.output_item.added", output_index: index, item: { type: "message", role: "assistant", id: msg, status: "in_progress", content: [] } });
  push({ type: "response.content_part.added", item_id: msg, output_index: index, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
  for (const piece of split(text, chunk)) {
    push({ type: "response.output_text.delta", item_id: msg, output_index: index, content_index: 0, delta: piece });
  }
  // citations follow the text they point into, each as it is added
  annotations.forEach((annotation, i) => {
    push({ type: "response.output_text.annotation.added", item_id: msg, output_index: index, content_index: 0, annotation_index: i, annotation });
  });
  push({ type: "response.output_text.done", item_id: msg, output_index: index, content_index: 0, text });
  push({ type: "response.output_item.done", output_index: index, item: { type: "message", role: "assistant", id: msg, status: "completed", content: [{ type: "output_text", text, annotations }] } });
}

/** `web_search_call`: added, in_progress, searching, completed, done (the OpenAPI spec's streaming events). */
function searchSteps(search: { query: string; sources?: string[] }, index: number, push: Push): void {
  const ws = id("ws");
  push({ type: "response.output_item.added", output_index: index, item: { type: "web_search_call", id: ws, status: "in_progress", action: { type: "search", query: search.query } } });
  for (const phase of ["in_progress", "searching", "completed"]) push({ type: `response.web_search_call.${phase}`, item_id: ws, output_index: index });
  const action = { type: "search", query: search.query, queries: [search.query], ...(search.sources ? { sources: search.sources.map((url) => ({ type: "url", url })) } : {}) };
  push({ type: "response.output_item.done", output_index: index, item: { type: "web_search_call", id: ws, status: "completed", action } });
}

/** `image_generation_call`: added, in_progress, generating, partial images, completed, done with the base64 `result`. */
function imageSteps(image: { result: string; revisedPrompt: string; partials?: number; size?: string; quality?: string; background?: string; outputFormat?: string }, index: number, push: Push): void {
  const ig = id("ig");
  const settings = { size: image.size ?? "1024x1024", quality: image.quality ?? "medium", background: image.background ?? "opaque", output_format: image.outputFormat ?? "png" };
  push({ type: "response.output_item.added", output_index: index, item: { type: "image_generation_call", id: ig, status: "in_progress", result: null } });
  push({ type: "response.image_generation_call.in_progress", item_id: ig, output_index: index });
  push({ type: "response.image_generation_call.generating", item_id: ig, output_index: index });
  for (let i = 0; i < (image.partials ?? 0); i++) {
    push({ type: "response.image_generation_call.partial_image", item_id: ig, output_index: index, partial_image_index: i, partial_image_b64: image.result, ...settings });
  }
  push({ type: "response.image_generation_call.completed", item_id: ig, output_index: index });
  push({ type: "response.output_item.done", output_index: index, item: { type: "image_generation_call", id: ig, status: "completed", result: image.result, revised_prompt: image.revisedPrompt, ...settings } });
}

/** A function call (`arguments`, streamed as argument deltas) or a freeform tool call (`input`, input deltas). */
function callSteps(call: { type: "function_call" | "custom_tool_call"; name: string; callId?: string; text: string }, index: number, chunk: number, push: Push): void {
  const custom = call.type === "custom_tool_call";
  const itemId = id(custom ? "ctc" : "fc");
  const callId = call.callId ?? id("call");
  const field = custom ? "input" : "arguments";
  const delta = custom ? "response.custom_tool_call_input.delta" : "response.function_call_arguments.delta";
  push({ type: "response.output_item.added", output_index: index, item: { type: call.type, id: itemId, call_id: callId, name: call.name, [field]: "", status: "in_progress" } });
  for (const piece of split(call.text, chunk)) push({ type: delta, item_id: itemId, output_index: index, delta: piece });
  if (!custom) push({ type: "response.function_call_arguments.done", item_id: itemId, output_index: index, arguments: call.text });
  else push({ type: "response.custom_tool_call_input.done", item_id: itemId, output_index: index, input: call.text });
  push({ type: "response.output_item.done", output_index: index, item: { type: call.type, id: itemId, call_id: callId, name: call.name, [field]: call.text, status: "completed" } });
}

function split(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [""];
}

export function sseFrame(event: Record<string, unknown>): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
