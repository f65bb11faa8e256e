import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import OpenAI from "openai";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, streamText, tool } from "ai";
import { describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { useServedOpenAI, type ServeHandle } from "../helpers/serve.js";
import { validateAgainst } from "../helpers/openapi.js";

let fake: FakeBackend;
let serve: ServeHandle;
let client: OpenAI;
useServedOpenAI((served) => ({ fake, serve, client } = served));
const lastCall = () => fake.codex.calls.at(-1)!;

describe("POST /v1/responses through the openai SDK", () => {
  it("aggregates a non-stream response from the backend's stream", async () => {
    const res = await client.responses.create({ model: "gpt-5.5", input: "Hello responses", instructions: "Be nice.", max_output_tokens: 50, temperature: 0.1 });
    expect(res.status).toBe("completed");
    expect(res.output_text).toBe("You said: Hello responses");
    expect(res.usage).toMatchObject({ input_tokens: 120, output_tokens: 30 });
    expect(lastCall().body).toMatchObject({ model: "gpt-5.5", stream: true, store: false, instructions: "Be nice." });
    expect(lastCall().body).not.toHaveProperty("max_output_tokens");
    expect(lastCall().body).not.toHaveProperty("temperature");
    expect(validateAgainst("Response", res)).toEqual([]);
  });

  it("streams the backend's events as they are", async () => {
    const stream = await client.responses.create({ model: "gpt-5.5-high", input: "[[scenario:reasoning]] stream it", stream: true, reasoning: { summary: "auto" } });
    const types: string[] = [];
    let text = "";
    let reasoning = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.reasoning_summary_text.delta") reasoning += event.delta;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(text).toBe("You said: stream it");
    expect(reasoning).toContain("**Planning** the reply.");
    expect(lastCall().body).toMatchObject({ model: "gpt-5.5", reasoning: { effort: "high", summary: "auto" }, include: ["reasoning.encrypted_content"] });
  });

  it("fills every lifecycle event's response, so responses.stream() (Agents SDK, LangChain, Continue) gets the final answer", async () => {
    const text = client.responses.stream({ model: "gpt-5.5", input: "final answer please" });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of text) events.push(event);
    expect((await text.finalResponse()).output_text).toBe("You said: final answer please");
    const inProgress = events.find((e) => e.type === "response.in_progress") as OpenAI.Responses.ResponseInProgressEvent;
    expect(inProgress.response).toMatchObject({ id: expect.any(String), object: "response", created_at: expect.any(Number), model: "gpt-5.5", output: [] });
    const completed = events.find((e) => e.type === "response.completed") as OpenAI.Responses.ResponseCompletedEvent;
    expect(validateAgainst("Response", completed.response)).toEqual([]);

    const tools = client.responses.stream({
      model: "gpt-5.5",
      input: "[[scenario:tool]] weather?",
      tools: [{ type: "function", name: "get_weather", strict: false, parameters: { type: "object", properties: { city: { type: "string" } } } }],
    });
    const call = (await tools.finalResponse()).output.find((item) => item.type === "function_call");
    expect(call).toMatchObject({ type: "function_call", name: "get_weather", arguments: expect.stringContaining("Paris") });
  });

  it("accepts the Agents SDK's defaults for gpt-5.x (effort none, verbosity low), clamped and named", async () => {
    for (const stream of [false, true]) {
      const { data, response } = await client.responses
        .create({ model: "gpt-5.5", input: "Hi agent", reasoning: { effort: "none" }, text: { verbosity: "low" }, stream } as never)
        .withResponse();
      if (stream) for await (const _ of data as unknown as AsyncIterable<unknown>);
      else expect((data as OpenAI.Responses.Response).output_text).toBe("You said: Hi agent");
      expect(response.headers.get("x-codex-proxy-reasoning-effort")).toBe("low");
      expect(lastCall().body).toMatchObject({ model: "gpt-5.5", reasoning: { effort: "low" }, text: { verbosity: "low" } });
    }
    const error = await client.responses.create({ model: "gpt-5.5", input: "x", reasoning: { effort: "banana" as never } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.APIError>).param).toBe("reasoning.effort");
  });

  it("carries a multi-turn conversation with reasoning items and function calls, ids stripped", async () => {
    const first = await client.responses.create({
      model: "gpt-5.5",
      input: "[[scenario:tool]] weather?",
      tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } }, strict: false }],
      reasoning: { summary: "auto" },
    });
    const call = first.output.find((o) => o.type === "function_call")!;
    expect(call).toMatchObject({ name: "get_weather" });
    expect(first.output.find((o) => o.type === "reasoning")).toHaveProperty("encrypted_content");
    const second = await client.responses.create({
      model: "gpt-5.5",
      input: [
        { role: "user", content: "[[scenario:tool]] weather?" },
        ...(first.output as never[]),
        { type: "function_call_output", call_id: (call as { call_id: string }).call_id, output: "18C" },
      ],
    });
    expect(second.output_text).toBe("Tool result: 18C");
    const sent = lastCall().body.input as Record<string, unknown>[];
    expect(sent.map((i) => i.type)).toEqual(["message", "reasoning", "function_call", "function_call_output"]);
    for (const item of sent) expect(item).not.toHaveProperty("id");
    expect(sent[1]).toHaveProperty("encrypted_content");
  });

  it("forwards an in-stream response.failed as it is", async () => {
    const stream = await client.responses.create({ model: "gpt-5.5", input: "[[scenario:failed]]", stream: true });
    const events: { type: string }[] = [];
    for await (const event of stream) events.push(event);
    const last = events.at(-1) as { type: string; response: { error: { code: string; message: string } } };
    expect(last.type).toBe("response.failed");
    expect(last.response.error).toEqual({ code: "server_error", message: "Something went wrong upstream" });
  });

  it("rejects what cannot work without server-side storage, and bad input, with clear 400s", async () => {
    const bad = [
      { model: "gpt-5.5", input: "x", previous_response_id: "resp_1" },
      { model: "gpt-5.5", input: [{ type: "item_reference", id: "msg_1" }] },
      { model: "gpt-5.5" },
      { model: "gpt-5.5", input: 42 },
      { model: "gpt-5.5", input: "x", reasoning: { effort: "banana" } },
    ];
    for (const body of bad) {
      const error = (await client.responses.create(body as never).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(error.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("the Codex CLI's own request", () => {
  it("is accepted as Codex CLI 0.169.0 sends it (developer messages, server ids, encrypted reasoning, client_metadata)", async () => {
    const capture = JSON.parse(readFileSync(resolve(import.meta.dirname, "../fixtures/codex-cli-0.169.0-requests.json"), "utf8"));
    const turn = capture.turns[1].body as Record<string, unknown>;
    // the capture elides long values: make them valid again
    const body = JSON.parse(JSON.stringify(turn), (key, value) => (key === "parameters" && typeof value === "string" ? { type: "object", properties: {} } : value));
    const res = await fetch(`${serve.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer x" }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("event: response.completed");
    const sent = lastCall().body;
    expect(sent).toMatchObject({ model: "gpt-5.5", store: false, stream: true, tool_choice: "auto", parallel_tool_calls: true, prompt_cache_key: turn.prompt_cache_key, client_metadata: turn.client_metadata });
    expect(typeof sent.instructions).toBe("string");
    expect((sent.input as Record<string, unknown>[]).filter((i) => i.type === "reasoning")[0]).toHaveProperty("encrypted_content");
  });
});

describe("the Vercel AI SDK's default OpenAI provider (Responses API)", () => {
  it("generates and streams text, and calls tools", async () => {
    const openai = createOpenAI({ baseURL: `${serve.url}/v1`, apiKey: "x" });
    const generated = await generateText({ model: openai("gpt-5.5"), prompt: "Hi from the AI SDK" });
    expect(generated.text).toBe("You said: Hi from the AI SDK");
    expect(fake.codex.calls.at(-1)!.headers["content-type"]).toBe("application/json");

    const streamed = streamText({ model: openai("gpt-5.5"), prompt: "Streaming AI SDK" });
    let text = "";
    for await (const t of streamed.textStream) text += t;
    expect(text).toBe("You said: Streaming AI SDK");

    const withTool = await generateText({
      model: openai("gpt-5.5"),
      prompt: "[[scenario:tool]] weather in Paris",
      tools: { get_weather: tool({ description: "weather", inputSchema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }) }) },
    });
    expect(withTool.toolCalls[0]).toMatchObject({ toolName: "get_weather", input: { city: "Paris", unit: "celsius" } });
  });
});
