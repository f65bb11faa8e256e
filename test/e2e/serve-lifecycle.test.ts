import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { accountFile } from "../helpers/accounts.js";
import type { AddressInfo } from "node:net";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responseSteps, startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { signedInConfigDir, startServe } from "../helpers/serve.js";
import { waitFor } from "../helpers/wait.js";

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

const chat = (url: string, content = "hi", headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content }] }) });

/** The error the openai SDK raises for one chat completion. */
const chatError = async (url: string) =>
  (await new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 }).chat.completions
    .create({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }] })
    .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;

describe("tokens while serving", () => {
  it("refreshes an expired token once for many concurrent requests", async () => {
    const { configDir } = signedInConfigDir(fake, -60);
    const serve = await startServe(fake, [], { configDir });
    try {
      const before = fake.issuer.refreshCount;
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => chat(serve.url, `req ${i}`)));
      expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
      expect(fake.issuer.refreshCount - before).toBe(1);
    } finally {
      await serve.stop();
    }
  });

  it("after a backend 401, refreshes once and retries", async () => {
    const serve = await startServe(fake);
    try {
      const before = fake.issuer.refreshCount;
      fake.codex.queue.push({ status: 401, body: { detail: "Unauthorized" } });
      const res = await chat(serve.url, "after 401");
      expect(res.status).toBe(200);
      expect(fake.issuer.refreshCount - before).toBe(1);
    } finally {
      await serve.stop();
    }
  });

  it("a dead refresh token is a clear 401 that says to sign in again", async () => {
    const { configDir, refreshToken } = signedInConfigDir(fake, -60);
    fake.issuer.setRefreshState(refreshToken, "invalidated");
    const serve = await startServe(fake, [], { configDir });
    try {
      const error = await chatError(serve.url);
      expect(error.status).toBe(401);
      expect(error.message).toContain("Sign in again: codex-proxy login");
    } finally {
      await serve.stop();
    }
  });

  it("a corrupt token store is a 401 naming the file and the fix, not a 502", async () => {
    const { configDir } = signedInConfigDir(fake);
    // corrupt before the start: tokens already in memory would answer without reading the store again
    writeFileSync(join(configDir, "auth.json"), "{ not json");
    const serve = await startServe(fake, [], { configDir });
    try {
      const error = await chatError(serve.url);
      expect(error.status).toBe(401);
      expect(error.message).toContain(`The token store ${join(configDir, "auth.json")} is corrupt`);
      expect(error.message).toContain("codex-proxy login");
    } finally {
      await serve.stop();
    }
  });

  it("starts without a login, and picks up a login made while it runs", async () => {
    const configDir = join(tempDir(), "config");
    const serve = await startServe(fake, [], { configDir });
    try {
      expect(serve.run.stderr()).toContain("Not signed in");
      const before = await chat(serve.url);
      expect(before.status).toBe(401);
      expect(((await before.json()) as { error: { message: string } }).error.message).toContain("codex-proxy login");
      const file = join(tempDir(), "auth.json");
      writeFileSync(file, JSON.stringify({ tokens: { ...fake.issuer.issueTokens(), account_id: "acc-123" }, last_refresh: new Date().toISOString() }));
      expect((await runCli(["login", "--import", file], serve.env)).code).toBe(0);
      expect((await chat(serve.url)).status).toBe(200);
    } finally {
      await serve.stop();
    }
  });
});

describe("models and usage", () => {
  it("saves the backend's usage-limit headers to usage.json", async () => {
    const serve = await startServe(fake);
    try {
      expect((await chat(serve.url)).status).toBe(200);
      const path = accountFile(serve.configDir, "usage.json");
      // written after the answer, off the request's path
      const usage = await waitFor(() => JSON.parse(readFileSync(path, "utf8")) as Record<string, { usedPercent: number; windowMinutes: number }>, { what: "usage.json" });
      expect(usage?.primary).toMatchObject({ usedPercent: 12.5, windowMinutes: 300 });
      expect(usage?.secondary).toMatchObject({ usedPercent: 40, windowMinutes: 10080 });
    } finally {
      await serve.stop();
    }
  });

  it("falls back to the bundled model list when the backend's /models fails, and lets the backend judge names", async () => {
    fake.codex.modelsStatus = 500;
    const serve = await startServe(fake);
    try {
      const models = (await (await fetch(`${serve.url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toContain("gpt-5.6-terra");
      const res = await fetch(`${serve.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/'gpt-4o' is not available.*Available models/);
    } finally {
      fake.codex.modelsStatus = 200;
      await serve.stop();
    }
  });
});

describe("access", () => {
  it("requires one of the configured API keys, as Bearer or x-api-key; /health and /healthz stay open", async () => {
    const serve = await startServe(fake, ["--api-key", "key-one"], { env: { CODEX_PROXY_API_KEY: "ignored-env-key" } });
    try {
      const none = await chat(serve.url);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ error: { code: "invalid_api_key", type: "authentication_error" } });
      expect((await chat(serve.url, "x", { authorization: "Bearer wrong" })).status).toBe(401);
      expect((await chat(serve.url, "x", { authorization: "Bearer key-one" })).status).toBe(200);
      expect((await chat(serve.url, "x", { "x-api-key": "key-one" })).status).toBe(200);
      expect((await chat(serve.url, "x", { authorization: "Bearer ignored-env-key" })).status).toBe(401); // the flag wins
      expect((await fetch(`${serve.url}/health`)).status).toBe(200);
      expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${serve.url}/v1/models`)).status).toBe(401);
    } finally {
      await serve.stop();
    }
  });

  it("takes comma-separated keys from CODEX_PROXY_API_KEY", async () => {
    const serve = await startServe(fake, [], { env: { CODEX_PROXY_API_KEY: "a-key, b-key" } });
    try {
      expect((await chat(serve.url, "x", { authorization: "Bearer b-key" })).status).toBe(200);
      expect((await chat(serve.url)).status).toBe(401);
    } finally {
      await serve.stop();
    }
  });

  it("answers CORS only for configured origins", async () => {
    const serve = await startServe(fake, ["--cors", "http://app.example"]);
    try {
      const preflight = await fetch(`${serve.url}/v1/chat/completions`, {
        method: "OPTIONS",
        headers: { origin: "http://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type, authorization" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("http://app.example");
      const allowed = await chat(serve.url, "x", { origin: "http://app.example" });
      expect(allowed.headers.get("access-control-allow-origin")).toBe("http://app.example");
      // a browser client may read the effort the answer was made with
      expect(allowed.headers.get("access-control-expose-headers")).toContain("x-codex-proxy-reasoning-effort");
      expect(allowed.headers.get("x-codex-proxy-reasoning-effort")).toBe("medium");
      const other = await chat(serve.url, "x", { origin: "http://evil.example" });
      expect(other.status).toBe(403);
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
      // streamed answers and errors carry it too
      const streamed = await fetch(`${serve.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "http://app.example" },
        body: JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "x" }] }),
      });
      expect(streamed.headers.get("content-type")).toContain("text/event-stream");
      expect(streamed.headers.get("access-control-allow-origin")).toBe("http://app.example");
      expect(await streamed.text()).toContain("data: [DONE]");
      const failed = await fetch(`${serve.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", origin: "http://app.example" }, body: "{" });
      expect(failed.status).toBe(400);
      expect(failed.headers.get("access-control-allow-origin")).toBe("http://app.example");
    } finally {
      await serve.stop();
    }
  });

  it("refuses a non-loopback host without an API key", async () => {
    const { configDir } = signedInConfigDir(fake);
    const result = await runCli(["serve", "--host", "0.0.0.0", "--port", "0"], cliEnv({ CODEX_PROXY_CONFIG_DIR: configDir }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Refusing to serve on 0.0.0.0 without an API key");
    expect(result.stderr).toContain("--insecure-no-auth");
  });

  it("a busy port is an error, not a silent move to another port", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const { configDir } = signedInConfigDir(fake);
      const result = await runCli(["serve", "--port", String(port)], cliEnv({ CODEX_PROXY_CONFIG_DIR: configDir }));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`Port ${port} on 127.0.0.1 is in use by PID \\d+`));
    } finally {
      blocker.close();
    }
  });
});

describe("graceful shutdown", () => {
  it("on SIGTERM lets an open stream finish, then exits 0", async () => {
    const serve = await startServe(fake);
    fake.codex.queue.push({ steps: responseSteps("gpt-5.5", { text: "a slow but complete answer", chunk: 3, delay: 40 }) });
    const res = await fetch(`${serve.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "x" }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    const exit = serve.stop("SIGTERM");
    let body = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      body += new TextDecoder().decode(value);
    }
    expect(body).toContain("data: [DONE]");
    expect(await exit).toBe(0);
  });

  it("a kept-alive connection does not hold the exit: idle ones close at once, busy ones when their answer ends", async () => {
    // a grace far beyond the test's timeout: only closing the kept-alive connections can let serve exit in time
    const serve = await startServe(fake, ["--shutdown-timeout", "10m"]);
    const agent = new Agent({ keepAlive: true });
    const post = (stream: boolean) =>
      new Promise<IncomingMessage>((resolve, reject) =>
        httpRequest(`${serve.url}/v1/chat/completions`, { method: "POST", agent, headers: { "content-type": "application/json" } }, resolve)
          .on("error", reject)
          .end(JSON.stringify({ model: "gpt-5.5", stream, messages: [{ role: "user", content: "x" }] })),
      );
    const idle = await post(false);
    await new Promise((done) => idle.resume().on("end", done)); // this socket goes back to the pool, open
    fake.codex.queue.push({ steps: responseSteps("gpt-5.5", { text: "a slow but complete answer", chunk: 3, delay: 40 }) });
    const busy = await post(true);
    busy.setEncoding("utf8");
    const exit = serve.stop("SIGTERM");
    let body = "";
    for await (const chunk of busy) body += chunk;
    expect(body).toContain("data: [DONE]");
    expect(await exit).toBe(0);
    agent.destroy();
  });

  it("aborts streams still open at the deadline with an error frame", async () => {
    const serve = await startServe(fake, ["--shutdown-timeout", "300ms"]);
    fake.codex.queue.push({ steps: responseSteps("gpt-5.5", { text: "x".repeat(200), chunk: 1, delay: 50 }) });
    const res = await fetch(`${serve.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "x" }] }),
    });
    const call = fake.codex.calls.at(-1)!;
    const reader = res.body!.getReader();
    await reader.read(); // the stream is open and under way
    expect(await serve.stop("SIGTERM")).toBe(0);
    let text = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
    expect(text).toContain("shutting down");
    // the answer would take 200 × 50 ms: only the 300 ms deadline can have ended it
    await waitFor(() => call.aborted, { what: "the upstream stream to be aborted" });
    expect(call.finished).toBe(false);
  });
});
