import { connect } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { startServedFake, type ServeHandle } from "../helpers/serve.js";

let fake: FakeBackend;
let serve: ServeHandle;
let stop: () => Promise<void>;
let openai: OpenAI;
let anthropic: Anthropic;
let ollama: Ollama;
beforeAll(async () => {
  ({ fake, serve, stop } = await startServedFake(["--api-key", "status-key"]));
  openai = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "status-key", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: serve.url, apiKey: "status-key", maxRetries: 0 });
  ollama = new Ollama({ host: serve.url, headers: { authorization: "Bearer status-key" } });
});
afterAll(() => stop?.());

/** The status line exactly as the server wrote it, read from a raw socket. */
function statusLine(method: string, path: string, body = "", headers: Record<string, string> = { authorization: "Bearer status-key" }): Promise<string> {
  const url = new URL(serve.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
      const end = received.indexOf("\r\n");
      if (end >= 0) {
        socket.destroy();
        resolve(received.slice(0, end));
      }
    });
    socket.on("error", reject);
    const head = Object.entries({ host: url.host, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), connection: "close", ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n${body}`);
  });
}

const chat = (content: string, stream = false) => JSON.stringify({ model: "gpt-5.5", stream, messages: [{ role: "user", content }] });

describe("status lines", () => {
  it("carry the standard reason phrase, on answers, streams and errors alike", { timeout: 30_000 }, async () => {
    expect(await statusLine("GET", "/health")).toBe("HTTP/1.1 200 OK");
    expect(await statusLine("POST", "/v1/chat/completions", chat("hi"))).toBe("HTTP/1.1 200 OK");
    expect(await statusLine("POST", "/v1/chat/completions", chat("hi", true))).toBe("HTTP/1.1 200 OK");
    expect(await statusLine("POST", "/v1/chat/completions", "{")).toBe("HTTP/1.1 400 Bad Request");
    expect(await statusLine("POST", "/v1/chat/completions", chat("hi"), {})).toBe("HTTP/1.1 401 Unauthorized");
    expect(await statusLine("GET", "/v1/nothing-here")).toBe("HTTP/1.1 404 Not Found");
    expect(await statusLine("POST", "/v1/chat/completions", chat("[[scenario:usage_limit]]"))).toBe("HTTP/1.1 429 Too Many Requests");
    expect(await statusLine("POST", "/v1/chat/completions", chat("[[scenario:blocked]]"))).toBe("HTTP/1.1 502 Bad Gateway");
    expect(fake.codex.calls.length).toBeGreaterThan(0);
  });
});

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e as { status?: number; status_code?: number; code?: string; headers?: Headers; error?: any });
const user = (content: string) => [{ role: "user" as const, content }];

describe("a streamed answer that fails before any output gets the status the non-stream answer gets", () => {
  it("chat completions: the openai SDK raises BadRequestError / RateLimitError", async () => {
    const context = await failure(openai.chat.completions.create({ model: "gpt-5.5", stream: true, messages: user("[[scenario:context]]") }));
    expect(context).toBeInstanceOf(OpenAI.BadRequestError);
    expect(context).toMatchObject({ status: 400, code: "context_length_exceeded" });
    const limited = await failure(openai.chat.completions.create({ model: "gpt-5.5", stream: true, messages: user("[[scenario:stream_usage_limit]]") }));
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited).toMatchObject({ status: 429, code: "usage_limit_reached" });
    expect(Number(limited!.headers!.get("retry-after"))).toBeGreaterThan(1700);
    // the same answers as without streaming
    const plain = await failure(openai.chat.completions.create({ model: "gpt-5.5", messages: user("[[scenario:stream_usage_limit]]") }));
    expect(plain).toMatchObject({ status: 429, code: "usage_limit_reached", error: limited!.error });
  });

  it("legacy completions: the same typed errors", async () => {
    const context = await failure(openai.completions.create({ model: "gpt-5.5", stream: true, prompt: "[[scenario:context]]" }));
    expect(context).toBeInstanceOf(OpenAI.BadRequestError);
    expect(context).toMatchObject({ code: "context_length_exceeded" });
    expect(await failure(openai.completions.create({ model: "gpt-5.5", stream: true, prompt: "[[scenario:stream_usage_limit]]" }))).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("anthropic: the Anthropic SDK raises BadRequestError / RateLimitError", async () => {
    const context = await failure(anthropic.messages.create({ model: "claude-sonnet-5", max_tokens: 10, stream: true, messages: user("[[scenario:context]]") }));
    expect(context).toBeInstanceOf(Anthropic.BadRequestError);
    expect(context!.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const limited = await failure(anthropic.messages.create({ model: "claude-sonnet-5", max_tokens: 10, stream: true, messages: user("[[scenario:stream_usage_limit]]") }));
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it("ollama: ollama-js raises a ResponseError with the status", async () => {
    const context = await failure(ollama.chat({ model: "gpt-5.5", stream: true, messages: user("[[scenario:context]]") }));
    expect(context).toMatchObject({ status_code: 400, error: expect.stringMatching(/context window/) });
    const limited = await failure(ollama.generate({ model: "gpt-5.5", stream: true, prompt: "[[scenario:stream_usage_limit]]" }));
    expect(limited).toMatchObject({ status_code: 429, error: expect.stringMatching(/usage limit/) });
  });

  it("an incomplete answer with no output is a 200 that says why, streamed or not", async () => {
    const stream = await openai.chat.completions.create({ model: "gpt-5.5", stream: true, messages: user("[[scenario:incomplete_empty]]") });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("");
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("length");
    const plain = await openai.chat.completions.create({ model: "gpt-5.5", messages: user("[[scenario:incomplete_empty]]") });
    expect(plain.choices[0]).toMatchObject({ finish_reason: "length", message: { content: "" } });
  });

  it("a failure after output was sent stays a 200 stream that ends with the family's error frame", async () => {
    const stream = await openai.chat.completions.create({ model: "gpt-5.5", stream: true, messages: user("[[scenario:failed]]") });
    let text = "";
    const error = await failure(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      })(),
    );
    expect(text).toBe("Partial");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String((error as Error).message)).toMatch(/Something went wrong upstream/);
  });
});
