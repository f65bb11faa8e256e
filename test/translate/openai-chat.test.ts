import { describe, expect, it } from "vitest";
import { chatToResponses } from "../../src/translate/openai-chat/request.js";
import { ChatStreamTranslator, chunkSerializer } from "../../src/translate/openai-chat/stream.js";
import { aggregateChatChunks } from "../../src/translate/openai-chat/aggregate.js";
import { clampEffort, resolveModel, splitEffortSuffix } from "../../src/translate/model-name.js";
import { InvalidRequestError } from "../../src/translate/errors.js";
import type { TranslateContext } from "../../src/translate/responses/build.js";
import { BUNDLED_MODELS } from "../../src/upstream/models.js";
import { responseSteps } from "../fake-backend/events.js";

const ctx: TranslateContext = { models: BUNDLED_MODELS, modelsAuthoritative: true, defaults: { summary: "auto", format: "think-tags" } };
const translate = (body: Record<string, unknown>) => chatToResponses({ model: "gpt-5.5", ...body }, ctx);

describe("chatToResponses", () => {
  it("sends a neutral instruction when there is no system message", () => {
    expect(translate({ messages: [{ role: "user", content: "hi" }] }).request.instructions).toBe("You are a helpful assistant.");
  });

  it("pairs legacy function calls and results", () => {
    const { request } = translate({
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: null, function_call: { name: "lookup", arguments: '{"q":1}' } },
        { role: "function", name: "lookup", content: "found" },
      ],
      functions: [{ name: "lookup", parameters: { type: "object" } }],
      function_call: { name: "lookup" },
    });
    expect(request.input.slice(1)).toEqual([
      { type: "function_call", call_id: "call_legacy_0", name: "lookup", arguments: '{"q":1}' },
      { type: "function_call_output", call_id: "call_legacy_0", output: "found" },
    ]);
    expect(request.tools).toEqual([{ type: "function", name: "lookup", parameters: { type: "object" }, strict: false }]);
    expect(request.tool_choice).toEqual({ type: "function", name: "lookup" });
  });

  it("drops <think> blocks the proxy produced earlier from assistant history", () => {
    const { request } = translate({
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: "<think>\nplanning\n</think>\n\nThe answer" },
        { role: "user", content: "more" },
      ],
    });
    expect(request.input[1]).toEqual({ type: "message", role: "assistant", content: [{ type: "output_text", text: "The answer" }] });
  });

  it("drops every <think> block of an answer with several reasoning items from the history", () => {
    const { request } = translate({
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: "<think>\nPlan A\n</think>\n\nLet me check.\n\n<think>\nPlan B\n</think>\n\n" },
      ],
    });
    expect(request.input[1]).toEqual({ type: "message", role: "assistant", content: [{ type: "output_text", text: "Let me check." }] });
  });

  it("never puts reasoning into the content of a JSON answer", () => {
    for (const response_format of [{ type: "json_object" }, { type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } }]) {
      expect(translate({ messages: [{ role: "user", content: "q" }], response_format }).reasoningFormat).toBe("reasoning_content");
      expect(translate({ messages: [{ role: "user", content: "q" }], response_format, reasoning_format: "none" }).reasoningFormat).toBe("none");
    }
    expect(translate({ messages: [{ role: "user", content: "q" }] }).reasoningFormat).toBe("think-tags");
  });

  it("takes freeform tools, and their calls and results back, in the backend's shapes", () => {
    const { request } = translate({
      messages: [
        { role: "user", content: "patch it" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_p", type: "custom", custom: { name: "apply_patch", input: "*** Begin Patch" } }] },
        { role: "tool", tool_call_id: "call_p", content: "Done" },
      ],
      tools: [{ type: "custom", custom: { name: "apply_patch", description: "Patch files", format: { type: "grammar", grammar: { syntax: "lark", definition: "start: /.+/" } } } }],
      tool_choice: { type: "custom", custom: { name: "apply_patch" } },
    });
    expect(request.tools).toEqual([{ type: "custom", name: "apply_patch", description: "Patch files", format: { type: "grammar", syntax: "lark", definition: "start: /.+/" } }]);
    expect(request.tool_choice).toEqual({ type: "custom", name: "apply_patch" });
    expect(request.input.slice(1)).toEqual([
      { type: "custom_tool_call", call_id: "call_p", name: "apply_patch", input: "*** Begin Patch" },
      { type: "custom_tool_call_output", call_id: "call_p", output: "Done" },
    ]);
  });

  it("keeps images in tool results as parts", () => {
    const { request } = translate({
      messages: [
        { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "shot", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "c1", content: [{ type: "text", text: "see" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] },
      ],
    });
    expect(request.input[1]).toEqual({
      type: "function_call_output",
      call_id: "c1",
      output: [{ type: "input_text", text: "see" }, { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "auto" }],
    });
  });

  it("names the field of every bad input", () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ messages: [{ role: "user", content: [{ type: "audio" }] }] }, "messages[0].content[0].type"],
      [{ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "ftp://x" } }] }] }, "messages[0].content[0].image_url.url"],
      [{ messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id"],
      [{ messages: [{ role: "user", content: "x" }], tools: [{ type: "retrieval" }] }, "tools[0].type"],
      [{ messages: [{ role: "user", content: "x" }], tools: [{ type: "function", function: {} }] }, "tools[0].function.name"],
      [{ messages: [{ role: "user", content: "x" }], tool_choice: 42 }, "tool_choice"],
      [{ messages: [{ role: "user", content: "x" }], response_format: { type: "xml" } }, "response_format.type"],
      [{ messages: [{ role: "user", content: "x" }], verbosity: "loud" }, "verbosity"],
      [{ messages: [{ role: "user", content: "x" }], reasoning_format: "html" }, "reasoning_format"],
      [{ messages: [{ role: "user", content: "x" }], reasoning_effort: 3 }, "reasoning_effort"],
      [{ messages: [{ role: "user", content: "x" }], reasoning_effort: "banana" }, "reasoning_effort"],
      [{ messages: [{ role: "user", content: "x" }], tools: [{ type: "custom", custom: { name: "p", format: { type: "grammar" } } }] }, "tools[0].custom.format.grammar"],
      [{ messages: [{ role: "assistant", tool_calls: [{ id: "c", type: "custom", custom: { name: "p", input: 3 } }] }] }, "messages[0].tool_calls[0].custom.input"],
    ];
    for (const [body, param] of bad) {
      const error = (() => {
        try {
          translate(body);
        } catch (e) {
          return e;
        }
      })();
      expect(error, JSON.stringify(body)).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).param).toBe(param);
    }
  });

  it("lets the backend decide about unknown models when only the bundled list is known", () => {
    const offline = { ...ctx, modelsAuthoritative: false };
    expect(chatToResponses({ model: "gpt-7-preview-high", messages: [{ role: "user", content: "x" }] }, offline).request).toMatchObject({
      model: "gpt-7-preview",
      reasoning: { effort: "high" },
    });
  });
});

describe("clampEffort", () => {
  const model = (slug: string, efforts?: string[]) => {
    const resolved = resolveModel(slug, BUNDLED_MODELS, true);
    return efforts ? { ...resolved, info: { ...resolved.info!, efforts } } : resolved;
  };

  it("clamps an effort the model does not list to the nearest one it does, ties upward", () => {
    expect(clampEffort("none", model("gpt-5.5"), "p")).toBe("low");
    expect(clampEffort("minimal", model("gpt-5.5"), "p")).toBe("low");
    expect(clampEffort("max", model("gpt-5.5"), "p")).toBe("xhigh");
    expect(clampEffort("ultra", model("gpt-5.6-luna"), "p")).toBe("max");
    expect(clampEffort("medium", model("gpt-5.5", ["low", "high"]), "p")).toBe("high");
    expect(clampEffort("minimal", model("gpt-5.5", ["none", "medium"]), "p")).toBe("none");
    expect(clampEffort("high", model("gpt-5.5"), "p")).toBe("high");
  });

  it("rejects what is no effort at all, from any field and from the server default", () => {
    expect(() => clampEffort("banana", model("gpt-5.5"), "reasoning_effort")).toThrow(/'banana' is not a reasoning effort/);
    expect(() => translate({ messages: [{ role: "user", content: "x" }], reasoning: { effort: "banana" } })).toThrow(InvalidRequestError);
    const none = chatToResponses({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }] }, { ...ctx, defaults: { ...ctx.defaults, effort: "none" } });
    expect(none.request.reasoning).toMatchObject({ effort: "low" });
  });
});

describe("splitEffortSuffix", () => {
  it("recognises the suffix forms and leaves model names alone", () => {
    expect(splitEffortSuffix("gpt-5.5-xhigh")).toEqual({ model: "gpt-5.5", effort: "xhigh" });
    expect(splitEffortSuffix("gpt-5.4/medium")).toEqual({ model: "gpt-5.4", effort: "medium" });
    expect(splitEffortSuffix("gpt-5.5(LOW)")).toEqual({ model: "gpt-5.5", effort: "low" });
    expect(splitEffortSuffix("gpt-5.4-mini")).toEqual({ model: "gpt-5.4-mini" });
    expect(splitEffortSuffix("gpt-5.6-luna")).toEqual({ model: "gpt-5.6-luna" });
  });
});

describe("ChatStreamTranslator", () => {
  const run = (steps: ReturnType<typeof responseSteps>, format: "think-tags" | "reasoning_content" | "none" = "think-tags") => {
    const t = new ChatStreamTranslator({ id: "chatcmpl-1", created: 1, model: "m", reasoningFormat: format, includeUsage: true });
    const chunks = steps.flatMap((s) => ("event" in s ? t.push(s.event as never) : []));
    return { t, chunks, completion: aggregateChatChunks(chunks, t.usage!) };
  };

  it("closes <think> before a tool call that follows reasoning", () => {
    const { completion } = run(responseSteps("m", { reasoning: ["why"], calls: [{ name: "f", arguments: "{}" }] }));
    expect(completion.choices[0]!.message.content).toBe("<think>\nwhy\n</think>\n\n");
    expect(completion.choices[0]!.message.tool_calls).toHaveLength(1);
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
  });

  const several = () =>
    responseSteps("m", { items: [{ reasoning: ["Plan A"] }, { text: "Let me check." }, { reasoning: ["Plan B", "Then the tool."] }, { call: { name: "f", arguments: "{}" } }] });

  it("shows each of several reasoning items, separated, in every format", () => {
    const tags = run(several()).completion.choices[0]!.message;
    expect(tags.content).toBe("<think>\nPlan A\n</think>\n\nLet me check.\n\n<think>\nPlan B\n\nThen the tool.\n</think>\n\n");
    const field = run(several(), "reasoning_content").completion.choices[0]!.message;
    expect(field.reasoning_content).toBe("Plan A\n\nPlan B\n\nThen the tool.");
    expect(field.content).toBe("Let me check.");
    expect(field.tool_calls).toHaveLength(1);
  });

  it("streams a freeform tool call in the client's own shape, input included", () => {
    const { chunks, completion } = run(responseSteps("m", { items: [{ custom: { name: "apply_patch", input: "*** Begin Patch", callId: "call_p" } }] }));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toEqual({ index: 0, id: "call_p", type: "custom", custom: { name: "apply_patch", input: "" } });
    expect(deltas.slice(1).every((d) => "custom" in d && !d.id)).toBe(true);
    expect(completion.choices[0]!.message.tool_calls).toEqual([{ id: "call_p", type: "custom", custom: { name: "apply_patch", input: "*** Begin Patch" } }]);
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("uses the done item when the backend sent no deltas", () => {
    const t = new ChatStreamTranslator({ id: "x", created: 1, model: "m", reasoningFormat: "none", includeUsage: false });
    const chunks = [
      ...t.push({ type: "response.output_item.done", item: { type: "message", id: "msg_1", content: [{ type: "output_text", text: "whole" }] } }),
      ...t.push({ type: "response.output_item.done", output_index: 1, item: { type: "function_call", id: "fc_1", call_id: "call_9", name: "g", arguments: '{"a":1}' } }),
      ...t.push({ type: "response.completed", response: { usage: null } }),
    ];
    const c = aggregateChatChunks(chunks, t.usage!);
    expect(c.choices[0]!.message.content).toBe("whole");
    expect(c.choices[0]!.message.tool_calls).toEqual([{ id: "call_9", type: "function", function: { name: "g", arguments: '{"a":1}' } }]);
    expect(c.usage.total_tokens).toBe(0);
  });

  it("ends with a usage chunk with empty choices when asked", () => {
    const { chunks } = run(responseSteps("m", { text: "hi" }));
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 120 } });
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
  });
});

describe("chunkSerializer", () => {
  it("writes exactly what JSON.stringify writes, for every kind of chunk", () => {
    const t = new ChatStreamTranslator({ id: 'chatcmpl-"quoted"', created: 7, model: "gpt-5.5-\u00e9", reasoningFormat: "reasoning_content", includeUsage: true });
    const serialize = chunkSerializer();
    const steps = responseSteps("m", { reasoning: ["r\"1"], text: "t\n\u2028x", calls: [{ name: "f", arguments: '{"a":"\\"}' }] });
    const chunks = steps.flatMap((s) => ("event" in s ? t.push(s.event as never) : []));
    expect(chunks.length).toBeGreaterThan(8);
    for (const chunk of chunks) expect(serialize(chunk)).toBe(JSON.stringify(chunk));
  });
});
