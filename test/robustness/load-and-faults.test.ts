import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responseSteps, startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { signedInConfigDir, startServe, type ServeHandle } from "../helpers/serve.js";

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
const chat = (url: string, content: string, signal?: AbortSignal, extra: Record<string, unknown> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    signal,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-5.5", stream: true, reasoning_format: "none", messages: [{ role: "user", content }], ...extra }),
  });

/** The text of an SSE chat stream, and whether it ended properly with [DONE]. */
function readChat(sse: string): { text: string; done: boolean; error?: string } {
  let text = "";
  let error: string | undefined;
  for (const frame of sse.split("\n\n")) {
    if (!frame.startsWith("data: ") || frame === "data: [DONE]") continue;
    const data = JSON.parse(frame.slice(6));
    if (data.error) error = data.error.message;
    text += data.choices?.[0]?.delta?.content ?? "";
  }
  return { text, done: sse.trimEnd().endsWith("data: [DONE]"), error };
}

describe("200 concurrent streams with random client disconnects", () => {
  let serve: ServeHandle;
  beforeAll(async () => {
    serve = await startServe(fake);
  });
  afterAll(() => serve.stop());

  it("completes every surviving stream in order, aborts every abandoned upstream, and returns to its memory baseline", { timeout: 60_000 }, async () => {
    const pid = serve.run.child.pid!;
    // warm up so the baseline includes the code paths and connection pools
    await Promise.all(Array.from({ length: 20 }, (_, i) => chat(serve.url, `warm ${i}`).then((r) => r.text())));
    const baseline = rssMb(pid);
    const before = fake.codex.calls.length;
    const text = (i: number) => `stream number ${i} ` + "with a body long enough to take a while ".repeat(2);
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const disconnect = i % 5 === 0 || i % 7 === 0; // about a third
        const controller = new AbortController();
        if (disconnect) setTimeout(() => controller.abort(), 20 + ((i * 37) % 400));
        try {
          const res = await chat(serve.url, `[[scenario:slow]] ${text(i)}`, controller.signal);
          const body = await res.text();
          return { i, disconnect, aborted: false, body };
        } catch {
          return { i, disconnect, aborted: true, body: "" };
        }
      }),
    );
    const calls = fake.codex.calls.slice(before);
    const callFor = (i: number) => calls.find((c) => JSON.stringify(c.body.input).includes(`stream number ${i} `))!;
    await new Promise((r) => setTimeout(r, 300));
    for (const o of outcomes) {
      if (o.aborted) {
        // a client that left before its request reached the backend leaves nothing to abort
        const call = callFor(o.i);
        if (call && !call.finished) expect(call.aborted, `upstream of stream ${o.i}`).toBe(true);
      } else {
        const parsed = readChat(o.body);
        expect(parsed.error, `stream ${o.i}`).toBeUndefined();
        expect(parsed.done, `stream ${o.i}`).toBe(true);
        expect(parsed.text).toBe(`You said: ${text(o.i).trim()}`);
      }
    }
    expect(outcomes.filter((o) => o.aborted).length).toBeGreaterThan(30);
    expect(calls.filter((c) => c.aborted).length).toBeGreaterThan(20);
    expect(outcomes.filter((o) => !o.aborted).length).toBeGreaterThan(100);
    // still healthy, nothing unhandled
    expect((await fetch(`${serve.url}/health`)).status).toBe(200);
    expect(serve.run.stderr()).not.toMatch(/Unhandled|uncaught|TypeError|RangeError|Warning/i);
    // memory: back near the baseline once the streams are gone
    let after = rssMb(pid);
    for (let i = 0; i < 20 && after > baseline + 40; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = rssMb(pid);
    }
    expect(after).toBeLessThan(baseline + 40);
  });
});

describe("clients that stop reading", () => {
  let serve: ServeHandle;
  beforeAll(async () => {
    serve = await startServe(fake);
  });
  afterAll(() => serve.stop());

  it("pause their backend streams instead of buffering the answers, and release everything when they leave", { timeout: 30_000 }, async () => {
    const pid = serve.run.child.pid!;
    const { port } = new URL(serve.url);
    const baseline = rssMb(pid);
    const before = fake.codex.calls.length;
    const body = Buffer.from(JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "[[scenario:long-60000]]" }] }));
    const clients = Array.from({ length: 8 }, () => {
      const socket = connect(Number(port), "127.0.0.1");
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
      socket.write(body);
      socket.pause(); // reads nothing
      return socket;
    });
    // a busy machine can take seconds to get all eight to the backend
    for (let i = 0; i < 200 && fake.codex.calls.length - before < 8; i++) await new Promise((r) => setTimeout(r, 100));
    const calls = fake.codex.calls.slice(before);
    expect(calls).toHaveLength(8);
    // time enough for a proxy that kept reading to have taken the whole answers
    await new Promise((r) => setTimeout(r, 1500));
    // the backend could not write whole answers: the proxy stopped reading them
    expect(calls.every((c) => !c.finished)).toBe(true);
    expect(rssMb(pid)).toBeLessThan(baseline + 80);
    clients.forEach((c) => c.destroy());
    for (let i = 0; i < 20 && !calls.every((c) => c.aborted); i++) await new Promise((r) => setTimeout(r, 100));
    expect(calls.every((c) => c.aborted)).toBe(true);
    expect((await fetch(`${serve.url}/health`)).status).toBe(200);
  });
});

describe("upstream faults", () => {
  let serve: ServeHandle;
  beforeAll(async () => {
    serve = await startServe(fake, ["--idle-timeout", "400ms"]);
  });
  afterAll(() => serve.stop());

  const families = [
    { path: "/v1/chat/completions", body: (c: string) => ({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: c }] }), error: /"error":\{"message":"([^"]+)"/ },
    { path: "/v1/completions", body: (c: string) => ({ model: "gpt-5.5", stream: true, prompt: c }), error: /"error":\{"message":"([^"]+)"/ },
    { path: "/v1/responses", body: (c: string) => ({ model: "gpt-5.5", stream: true, input: c }), error: /"type":"(?:error|response\.failed)".*"message":"([^"]+)"/ },
    { path: "/api/chat", body: (c: string) => ({ model: "gpt-5.5", messages: [{ role: "user", content: c }] }), error: /\{"error":"([^"]+)"\}/ },
    { path: "/api/generate", body: (c: string) => ({ model: "gpt-5.5", prompt: c }), error: /\{"error":"([^"]+)"\}/ },
    { path: "/v1/messages", body: (c: string) => ({ model: "claude-x", max_tokens: 10, stream: true, messages: [{ role: "user", content: c }] }), error: /"type":"error","error":\{"type":"\w+","message":"([^"]+)"/ },
  ];
  const faults: [string, RegExp][] = [
    ["stall", /sent nothing for 400ms/],
    ["cut", /closed the stream before response\.completed|stream broke/],
    ["truncated", /closed the stream before response\.completed/],
    ["malformed", /invalid event \(not JSON\)/],
    ["failed", /Something went wrong upstream/],
  ];

  for (const family of families) {
    for (const [scenario, message] of faults) {
      it(`${family.path}: ${scenario} → a clear error after the partial answer, and the server stays up`, async () => {
        const res = await fetch(`${serve.url}${family.path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(family.body(`[[scenario:${scenario}]] x`)) });
        expect(res.status).toBe(200); // the stream had started
        const text = await res.text();
        const error = family.error.exec(text)?.[1];
        expect(error, text.slice(-300)).toMatch(message);
        expect(text.indexOf(error!)).toBeGreaterThan(text.search(/Stalled|This stream|Broken|Partial|response\.output_text\.delta|"content":"[^"]|"response":"[^"]|text_delta/)); // the error comes after what was already sent
        expect((await fetch(`${serve.url}/health`)).status).toBe(200);
      });
    }
  }

  // faults before the answer starts: one family is enough, the error path is shared
  const post = (content: string) =>
    fetch(`${serve.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content }] }) });

  it("a backend that never answers is a 504 after the idle limit, not retried (the client's own retry policy sees it)", async () => {
    const before = fake.codex.calls.length;
    const started = Date.now();
    const res = await post("[[scenario:hang]] x");
    expect(res.status).toBe(504);
    expect((await res.json()).error.message).toMatch(/sent nothing for 400ms/);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(fake.codex.calls.length - before).toBe(1);
  });

  it("a 403 web page (a bot check or proxy in between) is a 502 that says so, not a request to sign in again", async () => {
    const res = await post("[[scenario:blocked]] x");
    expect(res.status).toBe(502);
    const message = (await res.json()).error.message as string;
    expect(message).toMatch(/403 with a web page \("Just a moment\.\.\."\).*proxy, VPN or bot check/);
    expect(message).not.toMatch(/<html|sign in/i);
  });

  it("a 200 that is not an event stream is a clear 502, never an empty answer", async () => {
    const res = await post("[[scenario:not_sse]] x");
    expect(res.status).toBe(502);
    expect((await res.json()).error.message).toMatch(/closed the stream before response\.completed/);
    expect((await fetch(`${serve.url}/health`)).status).toBe(200);
  });
});

describe("graceful shutdown with 20 open streams", () => {
  it("lets them finish within the deadline, exits 0, and leaves no listening socket", { timeout: 30_000 }, async () => {
    const serve = await startServe(fake, ["--shutdown-timeout", "5s"]);
    const port = Number(new URL(serve.url).port);
    for (let i = 0; i < 20; i++) fake.codex.queue.push({ steps: responseSteps("gpt-5.5", { text: `answer ${i} `.repeat(8), chunk: 6, delay: 30 }) });
    const streams = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(serve.url, `s${i}`)));
    const bodies = streams.map((r) => r.text());
    const exit = serve.stop("SIGTERM");
    const texts = (await Promise.all(bodies)).map(readChat);
    for (const t of texts) {
      expect(t.done).toBe(true);
      expect(t.error).toBeUndefined();
    }
    expect(await exit).toBe(0);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.on("connect", () => (socket.destroy(), resolve(false)));
      socket.on("error", () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});

describe("token refresh under load", () => {
  it("500 concurrent requests with an expired token cause exactly one refresh", { timeout: 60_000 }, async () => {
    const { configDir } = signedInConfigDir(fake, -60);
    const serve = await startServe(fake, [], { configDir });
    try {
      const before = fake.issuer.refreshCount;
      fake.issuer.refreshDelayMs = 100;
      const statuses = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          fetch(`${serve.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: `r${i}` }] }) }).then(async (r) => {
            await r.text();
            return r.status;
          }),
        ),
      );
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(fake.issuer.refreshCount - before).toBe(1);
    } finally {
      fake.issuer.refreshDelayMs = 0;
      await serve.stop();
    }
  });
});
