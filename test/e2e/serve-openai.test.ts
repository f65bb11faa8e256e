import OpenAI from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { useServedOpenAI, type ServeHandle } from "../helpers/serve.js";
import { waitFor } from "../helpers/wait.js";

let fake: FakeBackend;
let serve: ServeHandle;
let client: OpenAI;
useServedOpenAI((served) => ({ fake, serve, client } = served));
beforeEach(() => {
  fake.codex.queue.length = 0;
});

const lastCall = () => fake.codex.calls.at(-1)!;
const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string" } }, required: ["city"] },
  },
};

describe("POST /v1/chat/completions through the openai SDK", () => {
  it("answers a non-stream request, with usage, and sends the backend exactly what it needs", async () => {
    const res = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: "Answer in English." },
        { role: "user", content: "Hello there" },
      ],
      max_tokens: 100,
      temperature: 0.2,
      metadata: { app: "test" },
      user: "someone",
    });
    expect(res.object).toBe("chat.completion");
    expect(res.choices[0]!.message.content).toContain("You said: Hello there");
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(res.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 12 } });

    const { body, headers } = lastCall();
    expect(body).toMatchObject({ model: "gpt-5.5", store: false, stream: true, instructions: "Be brief.\n\nAnswer in English.", include: ["reasoning.encrypted_content"], reasoning: { effort: "medium", summary: "auto" } });
    expect(body.input).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "Hello there" }] }]);
    for (const dropped of ["max_tokens", "temperature", "metadata", "user", "messages"]) expect(body).not.toHaveProperty(dropped);
    expect(typeof body.prompt_cache_key).toBe("string");
    expect(headers.authorization).toMatch(/^Bearer ey/);
    expect(headers["chatgpt-account-id"]).toBe("acc-123");
    expect(headers.originator).toBe("codex_cli_rs");
    expect(headers.accept).toBe("text/event-stream");
  });

  it("streams chunks, ends with a usage chunk and [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "Stream please" }],
      stream: true,
      stream_options: { include_usage: true },
      reasoning_format: "none",
    } as never);
    let text = "";
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>) {
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("You said: Stream please");
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 30 });
    expect(lastCall().body.reasoning).toEqual({ effort: "medium" }); // no summary asked when nobody sees it
  });

  it("keeps the same prompt_cache_key across turns of one conversation", async () => {
    const first = [{ role: "system" as const, content: "Sys" }, { role: "user" as const, content: "Turn one" }];
    await client.chat.completions.create({ model: "gpt-5.5", messages: first });
    const key1 = lastCall().body.prompt_cache_key;
    await client.chat.completions.create({ model: "gpt-5.5", messages: [...first, { role: "assistant", content: "Reply" }, { role: "user", content: "Turn two" }] });
    expect(lastCall().body.prompt_cache_key).toBe(key1);
    await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "Another chat" }] });
    expect(lastCall().body.prompt_cache_key).not.toBe(key1);
  });

  describe("reasoning output", () => {
    const ask = (extra: Record<string, unknown> = {}, options?: OpenAI.RequestOptions) =>
      client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:reasoning]] why" }], ...extra } as never, options);

    it("defaults to reasoning_content, leaving content to the answer; <think> tags are opt-in", async () => {
      const res = (await ask()) as OpenAI.ChatCompletion;
      expect(res.choices[0]!.message.content).toBe("You said: why");
      expect((res.choices[0]!.message as unknown as Record<string, unknown>).reasoning_content).toBe("**Planning** the reply.\n\nChecking the details.");
      const tags = (await ask({ reasoning_format: "think-tags" })) as OpenAI.ChatCompletion;
      expect(tags.choices[0]!.message.content).toBe("<think>\n**Planning** the reply.\n\nChecking the details.\n</think>\n\nYou said: why");
    });

    it("shows each of several reasoning items separated, and strips them all from the history", async () => {
      const several = (extra: Record<string, unknown>) =>
        client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:multi_reasoning]] go" }], tools: [weatherTool], ...extra } as never);
      const field = ((await several({})) as OpenAI.ChatCompletion).choices[0]!.message;
      expect((field as unknown as Record<string, unknown>).reasoning_content).toBe("Plan A\n\nPlan B\n\nThen the tool.");
      expect(field.content).toBe("Let me check.");
      let streamed = "";
      let content = "";
      for await (const c of (await several({ stream: true })) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>) {
        streamed += (c.choices[0]?.delta as Record<string, string> | undefined)?.reasoning_content ?? "";
        content += c.choices[0]?.delta?.content ?? "";
      }
      expect(streamed).toBe("Plan A\n\nPlan B\n\nThen the tool.");
      expect(content).toBe("Let me check.");

      const tags = ((await several({ reasoning_format: "think-tags" })) as OpenAI.ChatCompletion).choices[0]!.message;
      expect(tags.content).toBe("<think>\nPlan A\n</think>\n\nLet me check.\n\n<think>\nPlan B\n\nThen the tool.\n</think>\n\n");
      const call = tags.tool_calls![0]!;
      await client.chat.completions.create({
        model: "gpt-5.5",
        messages: [
          { role: "user", content: "go" },
          { role: "assistant", content: tags.content, tool_calls: tags.tool_calls },
          { role: "tool", tool_call_id: call.id, content: "18C" },
        ],
        tools: [weatherTool],
      });
      expect((lastCall().body.input as Record<string, unknown>[])[1]).toEqual({ type: "message", role: "assistant", content: [{ type: "output_text", text: "Let me check." }] });
    });

    it("never puts reasoning into the content of a JSON answer, even with think-tags", async () => {
      for (const stream of [false, true]) {
        const body = { response_format: { type: "json_object" }, reasoning_format: "think-tags", stream };
        let content = "";
        let reasoning = "";
        if (stream) {
          for await (const c of (await ask(body)) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>) {
            content += c.choices[0]?.delta?.content ?? "";
            reasoning += (c.choices[0]?.delta as Record<string, string> | undefined)?.reasoning_content ?? "";
          }
        } else {
          const message = ((await ask(body)) as OpenAI.ChatCompletion).choices[0]!.message;
          content = message.content!;
          reasoning = (message as unknown as Record<string, string>).reasoning_content!;
        }
        expect(JSON.parse(content)).toEqual({ answer: "You said: why" });
        expect(reasoning).toContain("**Planning** the reply.");
      }
    });

    it("uses reasoning_content when the request asks (field or header)", async () => {
      for (const res of [(await ask({ reasoning_format: "reasoning_content" })) as OpenAI.ChatCompletion, (await ask({}, { headers: { "x-reasoning-format": "reasoning_content" } })) as OpenAI.ChatCompletion]) {
        const message = res.choices[0]!.message as unknown as Record<string, unknown>;
        expect(message.content).toBe("You said: why");
        expect(message.reasoning_content).toBe("**Planning** the reply.\n\nChecking the details.");
      }
    });

    it("streams reasoning_content deltas", async () => {
      const stream = (await ask({ stream: true, reasoning_format: "reasoning_content" })) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>;
      let reasoning = "";
      let content = "";
      for await (const c of stream) {
        reasoning += (c.choices[0]?.delta as Record<string, string> | undefined)?.reasoning_content ?? "";
        content += c.choices[0]?.delta?.content ?? "";
      }
      expect(reasoning).toBe("**Planning** the reply.\n\nChecking the details.");
      expect(content).toBe("You said: why");
    });

    it("hides reasoning with none", async () => {
      const res = (await ask({ reasoning_format: "none" })) as OpenAI.ChatCompletion;
      expect(res.choices[0]!.message.content).toBe("You said: why");
      expect(res.choices[0]!.message).not.toHaveProperty("reasoning_content");
    });
  });

  describe("reasoning effort", () => {
    it("takes it from the model suffix, stripped before the request goes upstream", async () => {
      for (const model of ["gpt-5.5-high", "gpt-5.5:high", "gpt-5.5(high)"]) {
        await client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
        expect(lastCall().body).toMatchObject({ model: "gpt-5.5", reasoning: { effort: "high" } });
      }
    });

    it("prefers reasoning_effort, then reasoning.effort, over the suffix", async () => {
      await client.chat.completions.create({ model: "gpt-5.5-high", reasoning_effort: "low", messages: [{ role: "user", content: "hi" }] });
      expect((lastCall().body.reasoning as Record<string, unknown>).effort).toBe("low");
      await client.chat.completions.create({ model: "gpt-5.5-high", reasoning: { effort: "xhigh" }, messages: [{ role: "user", content: "hi" }] } as never);
      expect((lastCall().body.reasoning as Record<string, unknown>).effort).toBe("xhigh");
      await client.chat.completions.create({ model: "gpt-5.6-sol", reasoning_effort: "ultra" as never, messages: [{ role: "user", content: "hi" }] });
      expect(lastCall().body).toMatchObject({ model: "gpt-5.6-sol", reasoning: { effort: "ultra" } });
    });

    it("clamps an effort the model does not list, as the Agents SDK sends it, and names the one used", async () => {
      const { data, response } = await client.chat.completions
        .create({ model: "gpt-5.5", reasoning_effort: "none", verbosity: "low", messages: [{ role: "user", content: "hi" }] })
        .withResponse();
      expect(data.choices[0]!.message.content).toBe("You said: hi");
      expect(response.headers.get("x-codex-proxy-reasoning-effort")).toBe("low");
      expect(lastCall().body).toMatchObject({ model: "gpt-5.5", reasoning: { effort: "low" }, text: { verbosity: "low" } });

      const stream = await client.chat.completions.create({ model: "gpt-5.5-ultra", messages: [{ role: "user", content: "hi" }], stream: true }).withResponse();
      for await (const _ of stream.data);
      expect(stream.response.headers.get("x-codex-proxy-reasoning-effort")).toBe("xhigh");
      expect(lastCall().body).toMatchObject({ model: "gpt-5.5", reasoning: { effort: "xhigh" } });
    });

    it("rejects what is no effort at all, naming the model's efforts", async () => {
      const error = await client.chat.completions.create({ model: "gpt-5.5", reasoning_effort: "banana" as never, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain("Efforts for gpt-5.5: low, medium, high, xhigh");
      expect((error as InstanceType<typeof OpenAI.APIError>).param).toBe("reasoning_effort");
    });
  });

  describe("tools", () => {
    it("streams a tool call in the exact OpenAI delta shape, accepted by .stream().finalChatCompletion()", async () => {
      const runner = client.chat.completions.stream({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:tool]] weather in Paris?" }], tools: [weatherTool], tool_choice: "auto" });
      const deltas: OpenAI.ChatCompletionChunk[] = [];
      runner.on("chunk", (c) => deltas.push(c));
      const final = await runner.finalChatCompletion();
      const call = final.choices[0]!.message.tool_calls![0]!;
      expect(final.choices[0]!.finish_reason).toBe("tool_calls");
      expect(call.type).toBe("function");
      expect(call.function.name).toBe("get_weather");
      expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris", unit: "celsius" });
      const toolDeltas = deltas.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
      expect(toolDeltas[0]).toEqual({ index: 0, id: call.id, type: "function", function: { name: "get_weather", arguments: "" } });
      for (const d of toolDeltas.slice(1)) expect(Object.keys(d).sort()).toEqual(["function", "index"]);
      expect(lastCall().body.tools).toEqual([{ type: "function", name: "get_weather", description: "Weather for a city", parameters: weatherTool.function.parameters, strict: false }]);
      expect(lastCall().body.tool_choice).toBe("auto");
      expect(lastCall().body.parallel_tool_calls).toBe(true);
    });

    it("returns parallel tool calls non-streamed", async () => {
      const res = await client.chat.completions.create({
        model: "gpt-5.5",
        messages: [{ role: "user", content: "[[scenario:parallel_tools]] two cities" }],
        tools: [weatherTool, { ...weatherTool, function: { ...weatherTool.function, name: "get_time" } }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
        parallel_tool_calls: true,
      });
      const calls = res.choices[0]!.message.tool_calls!;
      expect(calls.map((c) => (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.name)).toEqual(["get_weather", "get_time"]);
      expect(new Set(calls.map((c) => c.id)).size).toBe(2);
      expect(res.choices[0]!.message.content).toBeNull();
      expect(lastCall().body.tool_choice).toEqual({ type: "function", name: "get_weather" });
    });

    it("answers a freeform (custom) tool in the client's own shape, streamed and not, and takes it back", async () => {
      const patchTool = { type: "custom" as const, custom: { name: "apply_patch", description: "Patch files", format: { type: "grammar" as const, grammar: { syntax: "lark" as const, definition: "start: /[\\s\\S]+/" } } } };
      const ask = { model: "gpt-5.5", messages: [{ role: "user" as const, content: "[[scenario:custom_tool]] add hi.txt" }], tools: [patchTool] };
      const res = await client.chat.completions.create(ask);
      const call = res.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageCustomToolCall;
      expect(call).toMatchObject({ type: "custom", custom: { name: "apply_patch", input: "*** Begin Patch\n*** Add File: hi.txt\n+hi\n*** End Patch" } });
      expect(res.choices[0]!.finish_reason).toBe("tool_calls");
      expect(lastCall().body.tools).toEqual([{ type: "custom", name: "apply_patch", description: "Patch files", format: { type: "grammar", syntax: "lark", definition: "start: /[\\s\\S]+/" } }]);

      const deltas: Record<string, unknown>[] = [];
      for await (const c of await client.chat.completions.create({ ...ask, stream: true })) deltas.push(...((c.choices[0]?.delta?.tool_calls ?? []) as never[]));
      expect(deltas[0]).toMatchObject({ index: 0, type: "custom", custom: { name: "apply_patch", input: "" } });
      expect(deltas.length).toBeGreaterThan(2);
      expect(deltas.map((d) => (d.custom as Record<string, string>).input).join("")).toBe(call.custom.input);

      const next = await client.chat.completions.create({
        ...ask,
        messages: [...ask.messages, { role: "assistant", content: null, tool_calls: [call] }, { role: "tool", tool_call_id: call.id, content: "Patched hi.txt" }],
      });
      expect(next.choices[0]!.message.content).toBe("Tool result: Patched hi.txt");
      expect((lastCall().body.input as unknown[]).slice(1)).toEqual([
        { type: "custom_tool_call", call_id: call.id, name: "apply_patch", input: call.custom.input },
        { type: "custom_tool_call_output", call_id: call.id, output: "Patched hi.txt" },
      ]);
    });

    it("sends assistant tool calls and tool results from the history as function items", async () => {
      await client.chat.completions.create({
        model: "gpt-5.5",
        messages: [
          { role: "user", content: "weather?" },
          { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
          { role: "tool", tool_call_id: "call_1", content: "18C and sunny" },
          { role: "user", content: "thanks" },
        ],
        tools: [weatherTool],
      });
      expect(lastCall().body.input).toEqual([
        { type: "message", role: "user", content: [{ type: "input_text", text: "weather?" }] },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
        { type: "function_call_output", call_id: "call_1", output: "18C and sunny" },
        { type: "message", role: "user", content: [{ type: "input_text", text: "thanks" }] },
      ]);
    });
  });

  it("sends images as input_image (data and http URLs)", async () => {
    const png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: png, detail: "low" } }, { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } }] }],
    });
    expect((lastCall().body.input as Record<string, unknown>[])[0]!.content).toEqual([
      { type: "input_text", text: "What is this?" },
      { type: "input_image", image_url: png, detail: "low" },
      { type: "input_image", image_url: "https://example.com/cat.jpg", detail: "auto" },
    ]);
  });

  it("maps response_format and verbosity to text", async () => {
    await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "json please" }],
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object", properties: { a: { type: "string" } } }, strict: true } },
      verbosity: "high",
    } as never);
    expect(lastCall().body.text).toEqual({ verbosity: "high", format: { type: "json_schema", name: "answer", schema: { type: "object", properties: { a: { type: "string" } } }, strict: true } });
  });

  it("maps response.incomplete to finish_reason length and content_filter", async () => {
    const length = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:incomplete]]" }] });
    expect(length.choices[0]!.finish_reason).toBe("length");
    expect(length.choices[0]!.message.content).toBe("Truncated answ");
    const filtered = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:filter]]" }] });
    expect(filtered.choices[0]!.finish_reason).toBe("content_filter");
  });
});

describe("errors in the OpenAI shape", () => {
  async function raw(path: string, body: string, headers: Record<string, string> = { "content-type": "application/json" }) {
    const res = await fetch(`${serve.url}${path}`, { method: "POST", headers, body });
    return { status: res.status, headers: res.headers, body: (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } } };
  }

  it("malformed JSON, wrong types, missing fields and n>1 are 400s", async () => {
    const cases: [string, RegExp, string | null][] = [
      ["{not json", /not valid JSON/, null],
      ['{"model":"gpt-5.5"}', /`messages` is required/, "messages"],
      ['{"model":"gpt-5.5","messages":"hi"}', /`messages` must be an array/, "messages"],
      ['{"model":"gpt-5.5","messages":[{"role":"wizard","content":"x"}]}', /role/, "messages[0].role"],
      ['{"model":"gpt-5.5","messages":[{"role":"user","content":5}]}', /must be a string or an array/, "messages[0].content"],
      ['{"model":"gpt-5.5","n":2,"messages":[{"role":"user","content":"x"}]}', /`n` must be 1/, "n"],
      ['{"messages":[{"role":"user","content":"x"}]}', /`model` is required/, "model"],
      ['{"model":"gpt-5.5","stream":"yes","messages":[{"role":"user","content":"x"}]}', /`stream` must be a boolean/, "stream"],
      ["[1,2]", /JSON object/, null],
    ];
    for (const [body, message, param] of cases) {
      const res = await raw("/v1/chat/completions", body);
      expect(res.status, body).toBe(400);
      expect(res.body.error.message, body).toMatch(message);
      expect(res.body.error.type).toBe("invalid_request_error");
      expect(res.body.error.param).toBe(param);
    }
  });

  it("accepts a JSON body sent as a form (curl -d) and on the path without /v1", async () => {
    const res = await fetch(`${serve.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: "curl" }] }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as OpenAI.ChatCompletion).choices[0]!.message.content).toContain("You said: curl");
  });

  it("an unknown model is a 400 that lists the account's models", async () => {
    const error = (await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/'gpt-4o' is not available .* Available models: gpt-5\.5, gpt-5\.6-sol, gpt-5\.4-mini/);
    expect(error.code).toBe("model_not_found");
  });

  it("an unknown route is a 404 in the same shape", async () => {
    const res = await fetch(`${serve.url}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });

  it("a usage limit is a 429 with the reset time, retry-after and x-should-retry: false; the SDK does not retry it", async () => {
    const before = fake.codex.calls.length;
    const res = await raw("/v1/chat/completions", JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:usage_limit]]" }] }));
    expect(res.status).toBe(429);
    expect(res.body.error.message).toMatch(/usage limit is reached \(pro plan\); it resets at .* \(in (59m|1h)/);
    expect(res.body.error.code).toBe("usage_limit_reached");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(3500);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(fake.codex.calls.length - before).toBe(1);
    const retrying = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "unused", maxRetries: 2 });
    const error = (await retrying.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:usage_limit]]" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(429);
    expect(fake.codex.calls.length - before).toBe(2);
  });

  it("other 429s keep the backend's retry-after and leave retrying to the client", async () => {
    const error = (await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:rate_limit]]" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(429);
    expect(error.headers?.get("retry-after")).toBe("7");
    expect(error.headers?.get("x-should-retry")).toBeNull();
  });

  it("5xx answers are retried before anything was sent to the client", async () => {
    fake.codex.queue.push({ status: 502, body: { detail: "bad gateway" } }, { status: 500, body: { detail: "oops" } });
    const before = fake.codex.calls.length;
    const res = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "retry me" }] });
    expect(res.choices[0]!.message.content).toContain("retry me");
    expect(fake.codex.calls.length - before).toBe(3);
  });

  it("a backend that keeps failing is a 502", async () => {
    for (let i = 0; i < 4; i++) fake.codex.queue.push({ status: 500, body: { detail: "down" } });
    const error = (await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(502);
    expect(error.message).toContain("The Codex backend failed (500: down)");
  });

  it("a context-length failure before any output is a 400 when not streaming", async () => {
    const error = (await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:context]]" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(400);
    expect(error.message).toContain("exceeds the context window");
  });

  for (const scenario of ["failed", "cut", "malformed"]) {
    it(`a stream that ${scenario === "failed" ? "fails" : scenario === "cut" ? "is cut off" : "turns malformed"} mid-way ends with an error the SDK raises`, async () => {
      const stream = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: `[[scenario:${scenario}]]` }], stream: true });
      let text = "";
      const error = await (async () => {
        for await (const c of stream) text += c.choices[0]?.delta?.content ?? "";
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as Error).message).toMatch(/Codex backend/);
      expect(text.length).toBeGreaterThan(0);
    });
  }
});

describe("client disconnect", () => {
  it("aborts the upstream request at once", async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:slow]] a long answer that takes a while to stream" }], stream: true },
      { signal: controller.signal },
    );
    let call: ReturnType<typeof lastCall> | undefined;
    for await (const _ of stream) {
      call = lastCall(); // the answer is under way: the backend has the request
      controller.abort();
      break;
    }
    await waitFor(() => call!.aborted, { what: "the upstream request to be aborted" });
    expect(call!.finished).toBe(false);
  });
});

describe("GET /v1/models", () => {
  it("lists the account's models and their effort aliases", async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain("gpt-5.5");
    expect(ids).toContain("gpt-5.5-xhigh");
    expect(ids).toContain("gpt-5.6-sol-ultra");
    expect(ids).not.toContain("gpt-5.5-ultra");
    expect(ids).not.toContain("codex-auto-review");
    expect((await client.models.retrieve("gpt-5.5-high")).id).toBe("gpt-5.5-high");
    const missing = (await client.models.retrieve("nope").catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(missing.status).toBe(404);
  });

  it("answers /health, /healthz and / without an upstream call", async () => {
    await client.models.list(); // the catalog is in, so no startup fetch lands in the middle
    const before = fake.requests.length;
    expect(await (await fetch(`${serve.url}/health`)).json()).toMatchObject({ status: "ok", name: "codex-proxy" });
    expect(await (await fetch(`${serve.url}/healthz`)).json()).toMatchObject({ status: "ok", name: "codex-proxy" });
    const routes = ((await (await fetch(`${serve.url}/`)).json()) as { routes: string[] }).routes;
    expect(routes).toContain("POST /v1/chat/completions");
    expect(routes).toContain("GET /healthz");
    expect(fake.requests.length).toBe(before);
  });
});
