import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { startServedFake, type ServeHandle } from "../helpers/serve.js";

let fake: FakeBackend;
let serve: ServeHandle;
let anthropic: Anthropic;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ fake, serve, stop } = await startServedFake(["--claude-model", "gpt-5.6-sol"]));
  anthropic = new Anthropic({ baseURL: serve.url, apiKey: "unused", maxRetries: 0 });
});
afterAll(() => stop?.());
const lastCall = () => fake.codex.calls.at(-1)!;
const weather = { name: "get_weather", description: "Weather for a city", input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] } };

describe("Anthropic Messages through @anthropic-ai/sdk", () => {
  it("answers messages.create, mapping claude-* to the configured Codex model", async () => {
    const msg = await anthropic.messages.create({
      model: "claude-opus-5-5",
      max_tokens: 1024,
      system: [{ type: "text", text: "You are Claude Code." }, { type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [{ role: "user", content: [{ type: "text", text: "<reminder>x</reminder>" }, { type: "text", text: "Hello Claude" }] }],
      temperature: 0.5,
      stop_sequences: ["END"],
      metadata: { user_id: "u1" },
    } as never) as Anthropic.Message;
    expect(msg.type).toBe("message");
    expect(msg.role).toBe("assistant");
    expect(msg.model).toBe("claude-opus-5-5");
    expect(msg.content).toEqual([{ type: "text", text: "You said: <reminder>x</reminder>Hello Claude" }]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage).toMatchObject({ input_tokens: 56, cache_read_input_tokens: 64, output_tokens: 30 });
    expect(lastCall().body).toMatchObject({ model: "gpt-5.6-sol", instructions: "You are Claude Code.\n\nBe brief." });
    expect(lastCall().body.reasoning).toEqual({ effort: "low" });
  });

  it("streams the exact event sequence, with thinking and text blocks", async () => {
    const stream = anthropic.messages.stream({
      model: "claude-sonnet-5",
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 20_000 },
      messages: [{ role: "user", content: "[[scenario:reasoning]] think first" }],
    });
    const types: string[] = [];
    stream.on("streamEvent", (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(types[0]).toBe("message_start");
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(final.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect((final.content[0] as Anthropic.ThinkingBlock).thinking).toBe("**Planning** the reply.\n\nChecking the details.");
    expect((final.content[0] as Anthropic.ThinkingBlock).signature).toBeTruthy();
    expect((final.content[1] as Anthropic.TextBlock).text).toBe("You said: think first");
    expect(lastCall().body.reasoning).toEqual({ effort: "high", summary: "auto" });
    const starts = types.filter((t) => t === "content_block_start").length;
    expect(types.filter((t) => t === "content_block_stop").length).toBe(starts);
  });

  it("gives each of several reasoning items its own thinking block, in place, and takes them all back out", async () => {
    const ask = { model: "claude-sonnet-5", max_tokens: 2048, thinking: { type: "enabled" as const, budget_tokens: 2000 }, tools: [weather] };
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "[[scenario:multi_reasoning]] go" }];
    for (const final of [await anthropic.messages.stream({ ...ask, messages }).finalMessage(), await anthropic.messages.create({ ...ask, messages })]) {
      expect(final.content.map((b) => b.type)).toEqual(["thinking", "text", "thinking", "tool_use"]);
      expect((final.content[0] as Anthropic.ThinkingBlock).thinking).toBe("Plan A");
      expect((final.content[1] as Anthropic.TextBlock).text).toBe("Let me check.");
      expect((final.content[2] as Anthropic.ThinkingBlock).thinking).toBe("Plan B\n\nThen the tool.");
      expect((final.content[0] as Anthropic.ThinkingBlock).signature).not.toBe((final.content[2] as Anthropic.ThinkingBlock).signature);
      expect(final.stop_reason).toBe("tool_use");
    }
    const first = await anthropic.messages.create({ ...ask, messages });
    const use = first.content.find((b) => b.type === "tool_use")!;
    await anthropic.messages.create({ ...ask, messages: [...messages, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "18C" }] }] });
    expect(JSON.stringify(lastCall().body.input)).not.toMatch(/Plan A|Plan B/);
    expect(JSON.stringify(lastCall().body.input)).toContain("Let me check.");
  });

  it("takes Claude Code's output_config.effort and adaptive thinking with display omitted", async () => {
    await anthropic.messages
      .stream({
      model: "claude-opus-5-5",
      max_tokens: 128_000,
      thinking: { type: "adaptive", display: "omitted" },
      output_config: { effort: "medium" },
      context_management: { edits: [] },
      messages: [{ role: "user", content: "[[scenario:reasoning]] x" }],
    } as never)
      .finalMessage();
    expect(lastCall().body.reasoning).toEqual({ effort: "medium" });
  });

  it("clamps an effort the model does not list, and names the effort used", async () => {
    const { data, response } = await anthropic.messages
      .create({ model: "gpt-5.5", max_tokens: 100, output_config: { effort: "none" }, messages: [{ role: "user", content: "x" }] } as never)
      .withResponse();
    expect((data as Anthropic.Message).content).toEqual([{ type: "text", text: "You said: x" }]);
    expect(response.headers.get("x-codex-proxy-reasoning-effort")).toBe("low");
    expect(lastCall().body.reasoning).toEqual({ effort: "low" });
  });

  it("uses tools: tool_use streamed as input_json_delta, tool_result sent back", async () => {
    const stream = anthropic.messages.stream({ model: "claude-sonnet-5", max_tokens: 1000, tools: [weather], tool_choice: { type: "any" }, messages: [{ role: "user", content: "[[scenario:tool]] weather?" }] });
    const partials: string[] = [];
    stream.on("inputJson", (partial) => partials.push(partial));
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    const use = final.content.find((b) => b.type === "tool_use") as Anthropic.ToolUseBlock;
    expect(use).toMatchObject({ name: "get_weather", input: { city: "Paris", unit: "celsius" } });
    expect(partials.length).toBeGreaterThan(1);
    expect(lastCall().body).toMatchObject({ tool_choice: "required", tools: [{ type: "function", name: "get_weather", parameters: weather.input_schema }] });

    const reply = await anthropic.messages.create({
      model: "claude-sonnet-5",
      max_tokens: 1000,
      tools: [weather],
      messages: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: final.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: [{ type: "text", text: "18C" }] }, { type: "text", text: "and?" }] },
      ],
    });
    expect(reply.content[0]).toMatchObject({ type: "text" });
    const input = lastCall().body.input as Record<string, unknown>[];
    expect(input.map((i) => i.type)).toEqual(["message", "function_call", "function_call_output", "message"]);
    expect(input[2]).toMatchObject({ call_id: use.id, output: "18C" });
  });

  it("sends image blocks as input_image", async () => {
    await anthropic.messages.create({
      model: "claude-haiku-5",
      max_tokens: 100,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }, { type: "text", text: "what?" }] }],
    });
    expect((lastCall().body.input as Record<string, unknown>[])[0]!.content).toEqual([
      { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
      { type: "input_text", text: "what?" },
    ]);
  });

  it("counts tokens (an estimate, marked as such)", async () => {
    const res = await anthropic.messages.countTokens({ model: "claude-sonnet-5", messages: [{ role: "user", content: "x".repeat(400) }], tools: [weather] });
    expect(res.input_tokens).toBeGreaterThan(100);
    expect((res as unknown as { estimate: boolean }).estimate).toBe(true);
  });

  it("a usage limit tells the SDK not to retry: one backend request with maxRetries 2", async () => {
    const retrying = new Anthropic({ baseURL: serve.url, apiKey: "unused", maxRetries: 2 });
    const before = fake.codex.calls.length;
    const limited = (await retrying.messages.create({ model: "claude-sonnet-5", max_tokens: 10, messages: [{ role: "user", content: "[[scenario:usage_limit]]" }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(limited.status).toBe(429);
    expect(fake.codex.calls.length - before).toBe(1);
  });

  it("reports errors in the Anthropic shape, with the right status", async () => {
    const badRequest = (await anthropic.messages.create({ model: "claude-sonnet-5", max_tokens: 10 } as never).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(badRequest.status).toBe(400);
    expect(badRequest.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const limited = (await anthropic.messages.create({ model: "claude-sonnet-5", max_tokens: 10, messages: [{ role: "user", content: "[[scenario:usage_limit]]" }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(limited.status).toBe(429);
    expect(limited.error).toMatchObject({ error: { type: "rate_limit_error" } });
    expect(limited.headers?.get("retry-after")).toBeTruthy();
    expect(limited.headers?.get("x-should-retry")).toBe("false");
    const unknown = (await anthropic.messages.create({ model: "gpt-3", max_tokens: 10, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(unknown.status).toBe(400);
    const stream = anthropic.messages.stream({ model: "claude-sonnet-5", max_tokens: 10, messages: [{ role: "user", content: "[[scenario:cut]]" }] });
    const midStream = await stream.finalMessage().catch((e: unknown) => e);
    expect(midStream).toBeInstanceOf(Anthropic.APIError);
    expect(String(midStream)).toContain("Codex backend");
  });

  it("takes Claude Code's system messages between turns as developer messages, in place", async () => {
    await anthropic.messages.create({
      model: "claude-opus-5-5",
      max_tokens: 100,
      messages: [
        { role: "user", content: [{ type: "text", text: "<system-reminder>r</system-reminder>" }, { type: "text", text: "hi" }] },
        { role: "system", content: [{ type: "text", text: "# Environment\ncwd: /project" }] },
      ],
    } as never);
    expect(lastCall().body.input).toEqual([
      { type: "message", role: "user", content: [{ type: "input_text", text: "<system-reminder>r</system-reminder>" }, { type: "input_text", text: "hi" }] },
      { type: "message", role: "developer", content: [{ type: "input_text", text: "# Environment\ncwd: /project" }] },
    ]);
  });

  it("accepts Claude Code's ?beta=true path and x-api-key header", async () => {
    const res = await fetch(`${serve.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "anything", "anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14" },
      body: JSON.stringify({ model: "claude-opus-5-5", max_tokens: 64, stream: true, messages: [{ role: "user", content: "beta" }] }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith("event: message_start")).toBe(true);
    expect(text.trimEnd().endsWith('data: {"type":"message_stop"}')).toBe(true);
  });
});
