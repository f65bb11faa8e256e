import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responseSteps, startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { startServe, type ServeHandle } from "../helpers/serve.js";

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

/** The log lines of requests to `path`, once `count` of them are there. */
async function requestLines(serve: ServeHandle, path: string, count = 1): Promise<string[]> {
  const pattern = new RegExp(`^.*(?:GET|POST) ${path.replace(/\//g, "\\/")} \\d{3}.*$`, "gm");
  await serve.run.waitFor(new RegExp(`(?:[^]*(?:GET|POST) ${path.replace(/\//g, "\\/")} \\d{3}){${count}}`), 20_000);
  return serve.run.stderr().match(pattern) ?? [];
}

describe("serve logs one line per request", () => {
  let serve: ServeHandle;
  let client: OpenAI;
  beforeAll(async () => {
    serve = await startServe(fake);
    client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "x", maxRetries: 0 });
  });
  afterAll(() => serve.stop());

  it("a streamed answer: method, path, status, model, effort, duration and the backend's token counts, when it has ended", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-5.5-high", messages: [{ role: "user", content: "hi" }], stream: true });
    for await (const _ of stream) void _;
    const [line] = await requestLines(serve, "/v1/chat/completions");
    // the fake's default usage: 120 input, 30 output tokens
    expect(line).toMatch(/POST \/v1\/chat\/completions 200 gpt-5\.5 \(high\) \d+(?:ms|\.\ds), tokens 120 in \/ 30 out$/);
  });

  it("a non-streamed answer, an answer without a backend call, and an error with its reason", async () => {
    await client.responses.create({ model: "gpt-5.4-mini", input: "hi" });
    await client.models.list();
    const error = await client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((await requestLines(serve, "/v1/responses"))[0]).toMatch(/POST \/v1\/responses 200 gpt-5\.4-mini \(medium\) \d+(?:ms|\.\ds), tokens 120 in \/ 30 out$/);
    expect((await requestLines(serve, "/v1/models"))[0]).toMatch(/GET \/v1\/models 200 \d+(?:ms|\.\ds)$/);
    const lines = await requestLines(serve, "/v1/chat/completions", 2);
    expect(lines[1]).toMatch(/POST \/v1\/chat\/completions 400 \d+(?:ms|\.\ds): .*no-such-model/);
  });

  it("identical requests each get their own line", async () => {
    for (let i = 0; i < 12; i++) expect((await fetch(`${serve.url}/health`)).status).toBe(200);
    expect(await requestLines(serve, "/health", 12)).toHaveLength(12);
  });

  it("a stream the backend cuts says so, and says nothing of tokens it never counted", async () => {
    fake.codex.queue.push({ steps: responseSteps("gpt-5.5", { text: "a long answer that breaks", cutAfter: 6 }) });
    const stream = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "cut" }], stream: true });
    await expect(
      (async () => {
        for await (const _ of stream) void _;
      })(),
    ).rejects.toThrow();
    const lines = await requestLines(serve, "/v1/chat/completions", 3);
    expect(lines[2]).toMatch(/\[warn\] POST \/v1\/chat\/completions 200 gpt-5\.5 \(medium\) \d+(?:ms|\.\ds): The Codex backend (stream broke|closed the stream)/);
    expect(lines[2]).not.toContain("tokens");
  });
});

describe("serve --quiet", () => {
  it("prints the address only, and no request lines", async () => {
    const serve = await startServe(fake, ["--quiet"]);
    try {
      const client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "x", maxRetries: 0 });
      await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] });
      await client.models.list();
      // the stop line is an info line too: once the process is gone everything it would print is out
      expect(await serve.stop()).toBe(0);
      expect(serve.run.stdout().trim().split("\n")).toEqual([expect.stringMatching(/^✔ codex-proxy \S+ listening on http:\/\/127\.0\.0\.1:\d+$/)]);
      expect(serve.run.stderr()).not.toMatch(/\/v1\/(chat|models)/);
    } finally {
      await serve.stop();
    }
  });
});
