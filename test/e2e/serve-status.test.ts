import { connect } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { startServedFake, type ServeHandle } from "../helpers/serve.js";
import { waitFor } from "../helpers/wait.js";

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
    // (the message says "in N min", so the two can differ by a minute)
    const shape = (e: any) => ({ ...e.error, message: e.error.message.replace(/\(in [^)]*\)/, "") });
    expect(shape(plain)).toEqual(shape(limited));
    expect(limited!.error.message).toMatch(/usage limit is reached \(plus plan\); it resets at/);
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

describe("/v1/responses relays the backend's answers as sent", () => {
  const post = (body: unknown, headers: Record<string, string> = { authorization: "Bearer status-key" }) =>
    fetch(`${serve.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

  it("a 429 usage_limit_reached: the backend's status, body and usage headers (what the Codex CLI reads)", async () => {
    const before = fake.codex.calls.length;
    const res = await post({ model: "gpt-5.5", input: "[[scenario:usage_limit]]" });
    expect(res.status).toBe(429);
    expect(res.statusText).toBe("Too Many Requests");
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    // the body as upstream-protocol.md §4.1 has it, byte for byte (the fake serializes it with JSON.stringify)
    const sent = JSON.parse(text);
    expect(text).toBe(JSON.stringify(sent));
    expect(sent).toEqual({ error: { type: "usage_limit_reached", plan_type: "pro", resets_at: expect.any(Number), message: "The usage limit has been reached" } });
    expect(res.headers.get("x-codex-primary-used-percent")).toBe("100.0");
    expect(res.headers.get("x-codex-active-limit")).toBe("codex");
    expect(res.headers.get("x-codex-secondary-window-minutes")).toBe("10080");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    // and the retry advice the other routes give: the SDKs behind Responses (openai, Agents, LangChain) honour it
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(3000);
    expect(fake.codex.calls.length - before).toBe(1); // never retried
  });

  it("the openai SDK does not retry a usage limit on /v1/responses; a plain rate limit keeps the backend's retry-after", async () => {
    const before = fake.codex.calls.length;
    const retrying = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "status-key", maxRetries: 2 });
    await expect(retrying.responses.create({ model: "gpt-5.5", input: "[[scenario:usage_limit]]" })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    expect(fake.codex.calls.length - before).toBe(1);
    const limited = await post({ model: "gpt-5.5", input: "[[scenario:rate_limit]]" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(limited.headers.get("x-should-retry")).toBeNull();
  });

  it("a 5xx that retries did not cure: the backend's last status and body", { timeout: 30_000 }, async () => {
    const before = fake.codex.calls.length;
    for (let i = 0; i < 4; i++) fake.codex.queue.push({ status: 500, body: "upstream exploded", headers: { "content-type": "text/plain" } });
    const res = await post({ model: "gpt-5.5", input: "hi" });
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(await res.text()).toBe("upstream exploded");
    expect(res.headers.get("x-codex-primary-used-percent")).toBe("12.5");
    expect(fake.codex.calls.length - before).toBe(4);
  });

  it("a backend 401 still refreshes the login and retries first: the final answer is what is relayed", async () => {
    const refreshes = fake.issuer.refreshCount;
    fake.codex.queue.push({ status: 401, body: { detail: "Unauthorized" } });
    const res = await openai.responses.create({ model: "gpt-5.5", input: "after a 401" });
    expect(res.output_text).toBe("You said: after a 401");
    expect(fake.issuer.refreshCount).toBe(refreshes + 1);
  });

  it("usage headers, request id and model go out on answers, streamed or not", async () => {
    const plain = await openai.responses.create({ model: "gpt-5.5", input: "hello" }).withResponse();
    expect(plain.data.output_text).toBe("You said: hello");
    const streamed = await openai.responses.create({ model: "gpt-5.5", input: "hello", stream: true }).withResponse();
    for await (const _ of streamed.data);
    for (const { response } of [plain, streamed]) {
      expect(response.headers.get("x-codex-primary-used-percent")).toBe("12.5");
      expect(response.headers.get("x-codex-plan-type")).toBe(fake.issuer.account.plan);
      expect(response.headers.get("openai-model")).toBe("gpt-5.5");
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("a failure inside the stream is relayed as the backend's event, not turned into a status", async () => {
    const stream = await openai.responses.create({ model: "gpt-5.5", input: "[[scenario:stream_usage_limit]]", stream: true });
    const events: { type: string; response?: any }[] = [];
    for await (const event of stream) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: "response.failed", response: { error: { code: "usage_limit_reached", plan_type: "plus", resets_at: expect.any(Number) } } });
  });

  it("the proxy's own errors stay in the OpenAI format", async () => {
    for (const [res, status, code] of [
      [await post("{"), 400, "invalid_json"],
      [await post({ model: "no-such-model", input: "hi" }), 400, "model_not_found"],
      [await post({ model: "gpt-5.5", input: "hi" }, {}), 401, "invalid_api_key"],
    ] as const) {
      expect(res.status).toBe(status);
      expect((await res.json()).error).toMatchObject({ message: expect.any(String), type: expect.any(String), code });
    }
  });
});

describe("a failure that is the backend's very first event", () => {
  it("is not retried when retrying cannot help (a usage limit), and keeps its status", async () => {
    const before = fake.codex.calls.length;
    const failed = { type: "response.failed", response: { id: "resp_1", status: "failed", error: { code: "usage_limit_reached", message: "You've hit your usage limit." } } };
    fake.codex.queue.push({ steps: [{ event: failed }] });
    const limited = await failure(openai.chat.completions.create({ model: "gpt-5.5", stream: true, messages: user("first event fails") }));
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(fake.codex.calls.length - before).toBe(1);
    // and /v1/responses relays the backend's stream as it came
    fake.codex.queue.push({ steps: [{ event: failed }] });
    const events = [];
    const { data, response } = await openai.responses.create({ model: "gpt-5.5", input: "first event fails", stream: true }).withResponse();
    for await (const event of data) events.push(event);
    expect(events).toEqual([failed]);
    expect(response.headers.get("x-codex-primary-used-percent")).toBe("12.5");
    expect(fake.codex.calls.length - before).toBe(2);
  });
});

describe("a model that thinks in silence", () => {
  const think = (content: string, signal?: AbortSignal) =>
    fetch(`${serve.url}/v1/chat/completions`, {
      method: "POST",
      signal,
      headers: { "content-type": "application/json", authorization: "Bearer status-key" },
      body: JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content }] }),
    });
  const callFor = (marker: string) => fake.codex.calls.find((c) => JSON.stringify(c.body.input).includes(marker));

  it("gets its 200 after the hold limit, before any output, and the answer follows", { timeout: 90_000 }, async () => {
    const res = await think("[[scenario:think-20000]] hold-limit");
    // the status came while the backend had sent only the opening events
    expect(res.status).toBe(200);
    expect(callFor("hold-limit")!.written).toBe(2);
    const text = await res.text();
    expect(text).toContain("After a long thought".slice(0, 4));
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("a client that leaves during the hold aborts the backend and is no server error", async () => {
    const controller = new AbortController();
    const pending = think("[[scenario:think-20000]] leaves-early", controller.signal).catch(() => undefined);
    const call = await waitFor(() => callFor("leaves-early")?.written === 2 && callFor("leaves-early"), { what: "the backend to open the answer" });
    controller.abort();
    await pending;
    await waitFor(() => call.aborted, { what: "the backend request to be aborted" });
    // a request after it has its log line only once the server has dealt with the one that left
    // (the log goes to stderr, written synchronously to the pipe, in order)
    const logged = serve.run.stderr().length;
    await fetch(`${serve.url}/health`);
    await waitFor(() => serve.run.stderr().slice(logged).includes("GET /health 200"), { what: "the next request's log line" });
    expect(serve.run.stderr() + serve.run.stdout()).not.toMatch(/→ 500|Internal server error/);
  });
});
