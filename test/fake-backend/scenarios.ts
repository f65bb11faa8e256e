// The fake's default answers, picked by a `[[scenario:NAME]]` marker in the last user message.
import type { Reply } from "./codex.js";
import { responseSteps, type ResponseScript, type Step } from "./events.js";
import { hostedToolItems } from "./hosted.js";

/** The last user text of a Responses input. */
export function lastUserText(body: Record<string, unknown>): string {
  const input = (body.input as Record<string, unknown>[] | undefined) ?? [];
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i]!;
    if (item.type === "message" && item.role === "user") {
      const content = item.content;
      if (typeof content === "string") return content;
      return (content as Record<string, unknown>[]).map((c) => (c.type === "input_text" ? String(c.text) : "")).join("");
    }
  }
  return "";
}

/** An answer that never ends: text deltas for as long as the reader takes them (made lazily, not held). */
function* endlessSteps(model: string): Generator<Step> {
  const [created, inProgress, added, partAdded, delta] = responseSteps(model, { text: "tok " });
  yield* [created!, inProgress!, added!, partAdded!];
  for (;;) yield delta!;
}

/**
 * The default reply. A `[[scenario:NAME]]` marker in the last user message picks a behaviour, so a real client
 * can drive every path: text (default), reasoning, tool, parallel_tools, failed, context, incomplete,
 * incomplete_empty, filter, usage_limit, stream_usage_limit, rate_limit, error500, cut, truncated, malformed, hang
 * (no answer at all), not_sse (JSON with 200), blocked (a 403 web page), slow, think-N (silence for N ms after the
 * answer opens), long-N (N deltas), endless (deltas
 * until the reader leaves), multi_reasoning (reasoning → text → reasoning → tool call or text), custom_tool (a
 * freeform tool call with streamed input).
 */
export function scenarioReply(body: Record<string, unknown>): Reply {
  const text = lastUserText(body);
  const scenario = /\[\[scenario:([\w-]+)\]\]/.exec(text)?.[1] ?? "text";
  // long-N: N text deltas as fast as possible (benchmarks); stall: stops sending mid-stream
  const long = /^long-(\d+)$/.exec(scenario);
  if (long) return { steps: responseSteps(String(body.model), { text: "tok ".repeat(Number(long[1])), chunk: 4 }) };
  if (scenario === "endless") return { steps: endlessSteps(String(body.model)) };
  // think-N: opens the answer, then nothing for N ms (a model thinking in silence), then the answer
  const think = /^think-(\d+)$/.exec(scenario);
  if (think) {
    const steps = responseSteps(String(body.model), { text: "After a long thought" });
    return { steps: [...steps.slice(0, 2), { pause: Number(think[1]) }, ...steps.slice(2)] };
  }
  if (scenario === "stall") return { steps: [...responseSteps(String(body.model), { text: "Stalled answer" }).slice(0, 6), { pause: 60_000 }] };
  const model = String(body.model);
  const summary = (body.reasoning as Record<string, unknown> | undefined)?.summary;
  const reasoning = summary ? ["**Thinking** about the question.", "Deciding on an answer."] : undefined;
  const said = `You said: ${text.replace(/\[\[scenario:[\w-]+\]\]/, "").trim()}`;
  // like a real model, a JSON format gets JSON
  const jsonFormat = ["json_object", "json_schema"].includes(String(((body.text as Record<string, unknown> | undefined)?.format as Record<string, unknown> | undefined)?.type));
  const answer = jsonFormat ? JSON.stringify({ answer: said }) : said;
  const serviceTier = typeof body.service_tier === "string" ? body.service_tier : undefined;
  const steps = (script: ResponseScript): Reply => ({ steps: responseSteps(model, { serviceTier, ...script }) });
  const tools = ((body.tools as Record<string, unknown>[] | undefined) ?? []).filter((t) => t.type === "function");
  // like a real model: after a tool result, answer with what the tool said
  const last = (body.input as Record<string, unknown>[] | undefined)?.at(-1);
  if (last?.type === "function_call_output" || last?.type === "custom_tool_call_output") {
    const output = typeof last.output === "string" ? last.output : JSON.stringify(last.output);
    return steps({ text: `Tool result: ${output.slice(0, 60)}` });
  }
  const toolName = (i: number) => String(tools[i]?.name ?? tools[0]?.name ?? "get_weather");
  // the Codex CLI's remote compaction (v2): the history ends with a trigger, the answer is one compaction item
  if (last?.type === "compaction_trigger") return steps({ items: [{ compaction: "gAAAAB" + Buffer.from(`summary of ${(body.input as unknown[]).length - 1} items`).toString("base64") }] });
  // the hosted tools run when the model is free to use them (no other scenario asked for)
  const hosted = scenario === "text" ? hostedToolItems(body, text, said) : undefined;
  if (hosted) return steps({ items: hosted });
  switch (scenario) {
    case "reasoning":
      return steps({ reasoning: ["**Planning** the reply.", "Checking the details."], text: answer });
    case "multi_reasoning":
      // several reasoning items in one answer, as the backend sends them between commentary and a tool call
      return steps({
        items: [
          { reasoning: ["Plan A"] },
          { text: "Let me check." },
          { reasoning: ["Plan B", "Then the tool."] },
          ...(tools.length ? [{ call: { name: toolName(0), arguments: '{"city":"Paris"}' } }] : [{ text: answer }]),
        ],
      });
    case "custom_tool": {
      const custom = ((body.tools as Record<string, unknown>[] | undefined) ?? []).find((t) => t.type === "custom");
      return steps({ items: [...(reasoning ? [{ reasoning }] : []), { custom: { name: String(custom?.name ?? "apply_patch"), input: "*** Begin Patch\n*** Add File: hi.txt\n+hi\n*** End Patch" } }] });
    }
    case "tool":
      return steps({ reasoning, calls: [{ name: toolName(0), arguments: toolName(0) === "exec_command" ? '{"cmd":"echo hi-from-tool"}' : '{"city":"Paris","unit":"celsius"}' }] });
    case "parallel_tools":
      return steps({ calls: [{ name: toolName(0), arguments: '{"city":"Paris"}' }, { name: toolName(1), arguments: '{"city":"Tokyo"}' }] });
    case "failed":
      return steps({ text: "Partial", failed: { code: "server_error", message: "Something went wrong upstream" } });
    case "context":
      return steps({ failed: { code: "context_length_exceeded", message: "Your input exceeds the context window of this model." } });
    case "incomplete":
      return steps({ text: "Truncated answ", incomplete: "max_output_tokens" });
    case "incomplete_empty":
      // the output budget ran out before anything was written
      return steps({ incomplete: "max_output_tokens" });
    case "stream_usage_limit":
      // the limit reported inside a 200 stream, before any output
      return steps({ failed: { code: "usage_limit_reached", type: "usage_limit_reached", plan_type: "plus", resets_at: Math.floor(Date.now() / 1000) + 1800, message: "You've hit your usage limit." } });
    case "filter":
      return steps({ text: "Filtered", incomplete: "content_filter" });
    case "usage_limit":
      // upstream-protocol.md §4.1, with the usage headers of an exhausted window
      return {
        status: 429,
        body: { error: { type: "usage_limit_reached", plan_type: "pro", resets_at: Math.floor(Date.now() / 1000) + 3600, message: "The usage limit has been reached" } },
        headers: { "x-codex-primary-used-percent": "100.0", "x-codex-active-limit": "codex" },
      };
    case "rate_limit":
      return { status: 429, body: { error: { type: "rate_limit_exceeded", message: "Too many requests" } }, headers: { "retry-after": "7" } };
    case "error500":
      return { status: 500, body: { detail: "Internal Server Error" } };
    case "cut":
      return steps({ text: "This stream is cut off before the end", cutAfter: 6 });
    case "truncated":
      // the body ends cleanly, but before response.completed
      return { steps: responseSteps(model, { text: "This answer ends too soon" }).slice(0, 6) };
    case "blocked":
      // what a bot check or corporate proxy in front of the backend answers
      return { status: 403, body: "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>", headers: { "content-type": "text/html; charset=UTF-8" } };
    case "hang":
      return { hang: true };
    case "not_sse":
      return { status: 200, body: { error: { message: "an event stream was expected" } } };
    case "malformed":
      return { steps: [...responseSteps(model, { text: "Broken stream" }).slice(0, 6), { pause: 20 }, { raw: "data: {not json\n\n" }] };
    case "slow":
      return steps({ text: answer, delay: 50 });
    default:
      return steps({ reasoning, text: answer });
  }
}
