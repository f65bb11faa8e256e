import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { startServedFake, type ServeHandle } from "../helpers/serve.js";

let fake: FakeBackend;
let serve: ServeHandle;
let ollama: Ollama;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ fake, serve, stop } = await startServedFake());
  ollama = new Ollama({ host: serve.url });
});
afterAll(() => stop?.());
const lastCall = () => fake.codex.calls.at(-1)!;
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

describe("Ollama API through the ollama client", () => {
  it("lists, shows and reports versions and running models", async () => {
    const { models } = await ollama.list();
    const names = models.map((m) => m.name);
    expect(names).toContain("gpt-5.5:latest");
    expect(names).toContain("gpt-5.5-high:latest");
    expect(names).not.toContain("codex-auto-review:latest");
    const show = await ollama.show({ model: "gpt-5.5:latest" });
    expect(show.capabilities).toEqual(expect.arrayContaining(["completion", "tools", "thinking", "vision"]));
    expect((show.model_info as unknown as Record<string, unknown>)["gpt.context_length"]).toBe(272000);
    expect((await ollama.ps()).models).toEqual([]);
    expect(((await (await fetch(`${serve.url}/api/version`)).json()) as { version: string }).version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("chats without streaming, with counters in the done object", async () => {
    const res = await ollama.chat({ model: "gpt-5.5:latest", messages: [{ role: "system", content: "Sys" }, { role: "user", content: "Hello llama" }], options: { temperature: 0.3, num_ctx: 4096 }, keep_alive: "5m" });
    expect(res.message).toMatchObject({ role: "assistant", content: "You said: Hello llama" });
    expect(res).toMatchObject({ done: true, done_reason: "stop", prompt_eval_count: 120, eval_count: 30 });
    expect(res.total_duration).toBeGreaterThan(0);
    expect(lastCall().body).toMatchObject({ model: "gpt-5.5", instructions: "Sys" });
  });

  it("streams chat as NDJSON, with thinking when asked", async () => {
    const stream = await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:reasoning]] think" }], stream: true, think: true });
    let content = "";
    let thinking = "";
    let done: Record<string, unknown> | undefined;
    for await (const part of stream) {
      content += part.message.content;
      thinking += part.message.thinking ?? "";
      if (part.done) done = part as unknown as Record<string, unknown>;
    }
    expect(content).toBe("You said: think");
    expect(thinking).toBe("**Planning** the reply.\n\nChecking the details.");
    expect(done).toMatchObject({ done_reason: "stop", eval_count: 30 });
  });

  it("separates the thinking of several reasoning items, streamed and not", async () => {
    const ask = { model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:multi_reasoning]] go" }], think: true };
    const whole = await ollama.chat({ ...ask, stream: false });
    expect(whole.message.thinking).toBe("Plan A\n\nPlan B\n\nThen the tool.");
    expect(whole.message.content).toMatch(/^Let me check\./);
    let thinking = "";
    for await (const part of await ollama.chat({ ...ask, stream: true })) thinking += part.message.thinking ?? "";
    expect(thinking).toBe("Plan A\n\nPlan B\n\nThen the tool.");
  });

  it("sets the effort from think levels and hides thinking when not asked", async () => {
    const res = await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:reasoning]] x" }], think: "high" });
    expect(res.message.thinking).toContain("Planning");
    expect(lastCall().body.reasoning).toMatchObject({ effort: "high", summary: "auto" });
    const hidden = await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:reasoning]] x" }] });
    expect(hidden.message.thinking).toBeUndefined();
    expect(hidden.message.content).toBe("You said: x");
  });

  it("clamps a think level the model does not list, and names the effort used", async () => {
    const res = await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }], think: "max" as never });
    expect(res.message.content).toBe("You said: x");
    expect(lastCall().body.reasoning).toMatchObject({ effort: "xhigh" });
    for (const stream of [false, true]) {
      const raw = await fetch(`${serve.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "gpt-5.5-minimal", messages: [{ role: "user", content: "x" }], stream }) });
      expect(raw.status).toBe(200);
      expect(raw.headers.get("x-codex-proxy-reasoning-effort")).toBe("low");
      await raw.text();
    }
    const bad = await fetch(`${serve.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }], think: "banana" }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toContain("'banana' is not a reasoning effort");
  });

  it("calls tools and takes tool results back", async () => {
    const tools = [{ type: "function", function: { name: "get_weather", description: "weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
    const res = await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:tool]] weather?" }], tools });
    expect(res.message.tool_calls).toEqual([{ function: { name: "get_weather", arguments: { city: "Paris", unit: "celsius" } } }]);
    const streamed = await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:tool]] weather?" }], tools, stream: true });
    const calls = [];
    for await (const part of streamed) calls.push(...(part.message.tool_calls ?? []));
    expect(calls).toHaveLength(1);

    const followUp = await ollama.chat({
      model: "gpt-5.5",
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: "", tool_calls: res.message.tool_calls },
        { role: "tool", content: "18C", tool_name: "get_weather" } as never,
      ],
      tools,
    });
    expect(followUp.message.content).toBe("Tool result: 18C");
    const input = lastCall().body.input as Record<string, unknown>[];
    expect(input[1]).toMatchObject({ type: "function_call", name: "get_weather" });
    expect(input[2]).toMatchObject({ type: "function_call_output", call_id: input[1]!.call_id, output: "18C" });
  });

  it("sends images, and format json or a schema", async () => {
    await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "what is it", images: [PNG] }], format: "json" });
    expect((lastCall().body.input as Record<string, unknown>[])[0]!.content).toEqual([
      { type: "input_text", text: "what is it" },
      { type: "input_image", image_url: `data:image/png;base64,${PNG}`, detail: "auto" },
    ]);
    expect(lastCall().body.text).toEqual({ format: { type: "json_object" } });
    const schema = { type: "object", properties: { a: { type: "number" } } };
    await ollama.generate({ model: "gpt-5.5", prompt: "json", format: schema });
    expect(lastCall().body.text).toMatchObject({ format: { type: "json_schema", schema } });
  });

  it("generates, streamed and not", async () => {
    const res = await ollama.generate({ model: "gpt-5.5:latest", prompt: "Complete this", system: "Be terse" });
    expect(res.response).toBe("You said: Complete this");
    expect(res.done).toBe(true);
    expect(lastCall().body.instructions).toBe("Be terse");
    let text = "";
    for await (const part of await ollama.generate({ model: "gpt-5.5", prompt: "Stream this", stream: true })) text += part.response;
    expect(text).toBe("You said: Stream this");
  });

  it("answers an empty generate (a model load) without calling the backend", async () => {
    const before = fake.codex.calls.length;
    const res = await ollama.generate({ model: "gpt-5.5", prompt: "" });
    expect(res).toMatchObject({ done: true, done_reason: "load", response: "" });
    expect(fake.codex.calls.length).toBe(before);
  });

  it("answers a chat without messages (a model load) without calling the backend, streamed or not", async () => {
    const before = fake.codex.calls.length;
    const empty = await ollama.chat({ model: "gpt-5.5:latest", messages: [] });
    expect(empty).toMatchObject({ model: "gpt-5.5:latest", done: true, done_reason: "load", message: { role: "assistant", content: "" } });
    expect(Date.parse(empty.created_at as unknown as string)).toBeGreaterThan(0);
    const parts = [];
    for await (const part of await ollama.chat({ model: "gpt-5.5", messages: [], stream: true })) parts.push(part);
    expect(parts).toMatchObject([{ done: true, done_reason: "load", message: { role: "assistant", content: "" } }]);
    const missing = await fetch(`${serve.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "gpt-5.5" }) });
    expect(await missing.json()).toMatchObject({ model: "gpt-5.5", done: true, done_reason: "load" });
    const unknown = (await ollama.chat({ model: "llama3", messages: [] }).catch((e: unknown) => e)) as { status_code: number; error: string };
    expect(unknown.status_code).toBe(404);
    expect(unknown.error).toContain("'llama3' is not available");
    const noModel = (await ollama.chat({ model: "", messages: [] }).catch((e: unknown) => e)) as { status_code: number; error: string };
    expect(noModel.status_code).toBe(400);
    expect(fake.codex.calls.length).toBe(before);
  });

  it("errors come as {error} with the right status", async () => {
    const unknown = (await ollama.chat({ model: "llama3", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as { status_code: number; error: string };
    expect(unknown.status_code).toBe(404);
    expect(unknown.error).toContain("'llama3' is not available");
    const suffix = (await ollama.generate({ model: "gpt-5.5", prompt: "a", suffix: "b" }).catch((e: unknown) => e)) as { status_code: number; error: string };
    expect(suffix.status_code).toBe(400);
    const stream = await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:cut]]" }], stream: true });
    const midStream = await (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    expect(String(midStream)).toContain("Codex backend");
  });

  it("names Ollama's own fields in errors, never a Chat Completions shape", async () => {
    const asked = (messages: unknown[]) => ollama.chat({ model: "gpt-5.5", messages: messages as never }).catch((e: unknown) => e) as Promise<{ status_code: number; error: string }>;
    const systemImage = await asked([{ role: "system", content: "Sys", images: [PNG] }, { role: "user", content: "x" }]);
    expect(systemImage.status_code).toBe(400);
    expect(systemImage.error).toContain("`messages[0].images`");
    expect(systemImage.error).not.toContain("content[");
    const role = await asked([{ role: "function", content: "x" }]);
    expect(role.status_code).toBe(400);
    expect(role.error).toContain("system, user, assistant, tool;");
    const call = await asked([{ role: "user", content: "x" }, { role: "assistant", content: "", tool_calls: [null] }]);
    expect(call.status_code).toBe(400);
    expect(call.error).toContain("`messages[1].tool_calls[0]` must be an object");
  });
});

describe("Ollama API over raw HTTP, as curl sends it", () => {
  it("streams NDJSON by default and parses a form-encoded JSON body", async () => {
    const res = await fetch(`${serve.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: "curl" }] }),
    });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: "stop" });
    expect(lines.slice(0, -1).every((l) => l.done === false)).toBe(true);
  });

  it("rejects malformed bodies with {error}", async () => {
    for (const body of ["{oops", "[]", '{"model":"gpt-5.5","messages":"hi"}', '{"model":"gpt-5.5","messages":[{"role":"user","content":5}]}', '{"model":"gpt-5.5","messages":[{"role":"user","content":"x"}],"think":"maybe"}']) {
      const res = await fetch(`${serve.url}/api/chat`, { method: "POST", body });
      expect(res.status, body).toBe(400);
      expect(Object.keys((await res.json()) as object)).toEqual(["error"]);
    }
  });
});
