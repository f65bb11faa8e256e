import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responseSteps } from "../fake-backend/index.js";
import { FakeBackendProcess } from "../fake-backend/process.js";
import type { RecordedResponsesCall } from "../fake-backend/codex.js";
import { signedInConfigDirOf, startServe, type ServeHandle } from "../helpers/serve.js";
import { waitFor } from "../helpers/wait.js";

// These tests load the proxy hard; the fake backend runs in its own process so that it never competes with
// the test's clients for one event loop (on a busy or one-core machine that made every timing meaningless).
let fake: FakeBackendProcess;
beforeAll(async () => {
  fake = await FakeBackendProcess.start();
});
afterAll(() => fake.close());

const callCount = () => fake.get<number>("codex.calls.length");
const callsSince = (index: number) => fake.call<RecordedResponsesCall[]>("codex.calls.slice", index);

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
const chat = (url: string, content: string, signal?: AbortSignal, extra: Record<string, unknown> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    signal,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-5.5", stream: true, reasoning_format: "none", messages: [{ role: "user", content }], ...extra }),
  });

/** Read a streamed answer until what has arrived so far satisfies `enough` (or the stream ends). */
async function readUntil(res: Response, enough: (seen: string) => boolean): Promise<void> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  for (let seen = ""; !enough(seen); ) {
    const { done, value } = await reader.read();
    if (done) return;
    seen += decoder.decode(value, { stream: true });
  }
}

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
    const before = await callCount();
    const text = (i: number) => `stream number ${i} ` + "with a body long enough to take a while ".repeat(2);
    // About a third of the clients leave: some as soon as they have sent the request (it may or may not have
    // reached the backend), most after the first few chunks of their answer (the backend is mid-stream then).
    // Leaving is tied to progress, not to a clock, so a slow machine changes nothing.
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const leave = i % 7 === 0 ? "at-once" : i % 5 === 0 ? "mid-stream" : undefined;
        const controller = new AbortController();
        try {
          const pending = chat(serve.url, `[[scenario:slow]] ${text(i)}`, controller.signal);
          if (leave === "at-once") setImmediate(() => controller.abort());
          const res = await pending;
          if (leave === "mid-stream") {
            await readUntil(res, (seen) => seen.includes('"content"') && seen.length >= (i % 3) * 200);
            controller.abort();
          }
          const body = await res.text();
          return { i, leave, aborted: false, body };
        } catch {
          return { i, leave, aborted: true, body: "" };
        }
      }),
    );
    // every backend stream has ended one way or the other once the proxy has let go of it
    const calls = await waitFor(async () => {
      const all = await callsSince(before);
      return all.every((c) => c.finished || c.aborted) && all;
    }, { what: "every backend stream to finish or be aborted" });
    const callFor = (i: number) => calls.find((c) => JSON.stringify(c.body.input).includes(`stream number ${i} `));
    for (const o of outcomes) {
      if (o.aborted) {
        // a client that left before its request reached the backend leaves nothing to abort
        const call = callFor(o.i);
        if (call && !call.finished) expect(call.aborted, `upstream of stream ${o.i}`).toBe(true);
      } else {
        expect(o.leave, `stream ${o.i} was not left`).not.toBe("mid-stream");
        const parsed = readChat(o.body);
        expect(parsed.error, `stream ${o.i}`).toBeUndefined();
        expect(parsed.done, `stream ${o.i}`).toBe(true);
        expect(parsed.text).toBe(`You said: ${text(o.i).trim()}`);
      }
    }
    // the clients that left mid-stream had a backend stream running: the proxy aborted it (an answer of about
    // 25 deltas, 50 ms apart, can only have finished first if the proxy took over a second to notice)
    const midStream = outcomes.filter((o) => o.leave === "mid-stream").map((o) => callFor(o.i));
    expect(midStream.length).toBeGreaterThan(30);
    expect(midStream.every((c) => c !== undefined)).toBe(true);
    expect(midStream.filter((c) => c!.aborted).length).toBeGreaterThan(midStream.length / 2);
    expect(outcomes.filter((o) => !o.aborted).length).toBeGreaterThan(100);
    // still healthy, nothing unhandled
    expect((await fetch(`${serve.url}/health`)).status).toBe(200);
    expect(serve.run.stderr()).not.toMatch(/Unhandled|uncaught|TypeError|RangeError|Warning/i);
    // memory: back near the baseline once the streams are gone
    const settled = await waitFor(() => rssMb(pid) < baseline + 40, { intervalMs: 250, what: "RSS back near the baseline" }).catch(() => false);
    expect(settled, `RSS ${rssMb(pid)} MB, baseline ${baseline} MB`).toBe(true);
  });
});

describe("clients that stop reading", () => {
  let serve: ServeHandle;
  beforeAll(async () => {
    serve = await startServe(fake);
  });
  afterAll(() => serve.stop());

  it("pause their backend streams instead of buffering the answers, and release everything when they leave", { timeout: 120_000 }, async () => {
    const pid = serve.run.child.pid!;
    const { port } = new URL(serve.url);
    const baseline = rssMb(pid);
    const before = await callCount();
    const body = Buffer.from(JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "[[scenario:endless]]" }] }));
    const clients = Array.from({ length: 8 }, () => {
      const socket = connect(Number(port), "127.0.0.1");
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
      socket.write(body);
      socket.pause(); // reads nothing
      return socket;
    });
    // The answers never end. A proxy that buffered them for its clients would read on without limit; one that
    // pauses its backend streams soon leaves every one of them waiting for its reader, writing nothing more.
    let previous: number[] = [];
    await waitFor(
      async () => {
        const written = (await callsSince(before)).map((c) => (c.waitedForReader ? c.written : -1));
        const still = written.length === 8 && !written.includes(-1) && written.every((n, i) => n === previous[i]);
        previous = written;
        return still;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "8 backend streams stopped, waiting for their reader" },
    );
    expect(rssMb(pid)).toBeLessThan(baseline + 80);
    clients.forEach((c) => c.destroy());
    await waitFor(async () => (await callsSince(before)).every((c) => c.aborted), { what: "every backend stream to be aborted" });
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
    const before = await callCount();
    const res = await post("[[scenario:hang]] x");
    expect(res.status).toBe(504);
    expect((await res.json()).error.message).toMatch(/sent nothing for 400ms/);
    expect((await callCount()) - before).toBe(1);
  });

  it("that 504 comes in each family's own error format", async () => {
    const message = (body: Record<string, unknown>) => String((body.error as { message?: string })?.message ?? body.error);
    for (const family of families.filter((f) => ["/api/chat", "/v1/messages"].includes(f.path))) {
      const before = await callCount();
      const res = await fetch(`${serve.url}${family.path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(family.body("[[scenario:hang]] x")) });
      expect(res.status, family.path).toBe(504);
      const body = (await res.json()) as Record<string, unknown>;
      if (family.path === "/v1/messages") expect(body).toMatchObject({ type: "error", error: { type: "timeout_error" } });
      else expect(Object.keys(body)).toEqual(["error"]);
      expect(message(body)).toMatch(/sent nothing for 400ms/);
      expect((await callCount()) - before).toBe(1);
    }
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
    for (let i = 0; i < 20; i++) await fake.call("codex.queue.push", { steps: responseSteps("gpt-5.5", { text: `answer ${i} `.repeat(8), chunk: 6, delay: 30 }) });
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
    const { configDir } = await signedInConfigDirOf(fake, -60);
    const serve = await startServe(fake, [], { configDir });
    try {
      const before = await fake.get<number>("issuer.refreshCount");
      await fake.set("issuer.refreshDelayMs", 100);
      const statuses = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          fetch(`${serve.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: `r${i}` }] }) }).then(async (r) => {
            await r.text();
            return r.status;
          }),
        ),
      );
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect((await fake.get<number>("issuer.refreshCount")) - before).toBe(1);
    } finally {
      await fake.set("issuer.refreshDelayMs", 0);
      await serve.stop();
    }
  });
});
