import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { cliEnv, runCli, startCli } from "../helpers/cli.js";
import { signedInConfigDir, startServe } from "../helpers/serve.js";
import { accountDir } from "../helpers/accounts.js";

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

const envFor = (configDir: string, extra: Record<string, string> = {}) =>
  cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: configDir, ...extra });

describe("codex-proxy models", () => {
  it("lists the account's models with context, efforts and default, and caches them", async () => {
    const { configDir } = signedInConfigDir(fake);
    const before = fake.codex.modelsCalls;
    const out = await runCli(["models"], envFor(configDir));
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/from the backend/);
    expect(out.stdout).toMatch(/gpt-5\.6-sol\s+372k\s+low medium high xhigh max ultra\s+low/);
    expect(out.stdout).not.toContain("codex-auto-review");
    expect(existsSync(join(accountDir(configDir, fake.issuer.account), "models-cache.json"))).toBe(true);
    const json = JSON.parse((await runCli(["models", "--json"], envFor(configDir))).stdout);
    expect(json.source).toBe("cache");
    expect(json.models[0]).toEqual({ id: "gpt-5.5", name: "GPT-5.5", contextWindow: 272000, efforts: ["low", "medium", "high", "xhigh"], defaultEffort: "medium", serviceTiers: ["priority"], accounts: ["user@example.com"] });
    expect(fake.codex.modelsCalls - before).toBe(1); // the second run used the cache
    await runCli(["models", "--refresh"], envFor(configDir));
    expect(fake.codex.modelsCalls - before).toBe(2);
  });

  it("falls back to the bundled list when offline, and says so", async () => {
    const { configDir } = signedInConfigDir(fake);
    const out = await runCli(["models", "--json"], envFor(configDir, { CODEX_PROXY_UPSTREAM_URL: "http://127.0.0.1:9/backend-api/codex" }));
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.source).toBe("bundled");
    expect(json.error).toMatch(/Cannot reach the Codex backend/);
    expect(json.models.map((m: { id: string }) => m.id)).toContain("gpt-5.5");
  });
});

describe("CODEX_PROXY_CLIENT_VERSION", () => {
  it("is the client_version and user-agent version the backend sees, so it shows the models that version may use", async () => {
    fake.codex.models.push({ slug: "gpt-6-astra", efforts: ["low", "medium", "high"], defaultEffort: "medium", contextWindow: 400_000, minimalClientVersion: "0.170.0" });
    const ids = async (url: string) => (await new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 }).models.list()).data.map((m) => m.id);
    const modelsRequests = () => fake.requests.filter((r) => r.path.endsWith("/codex/models"));
    const before = modelsRequests().length;
    const standard = await startServe(fake);
    try {
      expect(await ids(standard.url)).not.toContain("gpt-6-astra");
    } finally {
      await standard.stop();
    }
    expect(modelsRequests().slice(before).map((r) => r.query)).toEqual(["?client_version=0.169.0"]);
    const newer = await startServe(fake, [], { env: { CODEX_PROXY_CLIENT_VERSION: "0.170.0" } });
    try {
      expect(await ids(newer.url)).toContain("gpt-6-astra");
      const seen = modelsRequests().slice(before + 1);
      expect(seen.map((r) => r.query)).toEqual(["?client_version=0.170.0"]);
      expect(seen[0]!.headers["user-agent"]).toMatch(/^codex_cli_rs\/0\.170\.0 /);
      const client = new OpenAI({ baseURL: `${newer.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const res = await client.chat.completions.create({ model: "gpt-6-astra", messages: [{ role: "user", content: "hi" }] });
      expect(res.choices[0]!.message.content).toContain("hi");
      expect(fake.codex.calls.at(-1)!.headers["user-agent"]).toMatch(/^codex_cli_rs\/0\.170\.0 /);
    } finally {
      fake.codex.models.pop();
      await newer.stop();
    }
  });

  it("a saved list fetched with another version is fetched again, not served", async () => {
    fake.codex.models.push({ slug: "gpt-6-astra", efforts: ["low", "medium", "high"], defaultEffort: "medium", contextWindow: 400_000, minimalClientVersion: "0.170.0" });
    try {
      const { configDir } = signedInConfigDir(fake);
      const list = async (env: Record<string, string> = {}) => JSON.parse((await runCli(["models", "--json"], envFor(configDir, env))).stdout) as { source: string; models: { id: string }[] };
      expect((await list({ CODEX_PROXY_CLIENT_VERSION: "0.170.0" })).models.map((m) => m.id)).toContain("gpt-6-astra");
      expect((await list({ CODEX_PROXY_CLIENT_VERSION: "0.170.0" })).source).toBe("cache");
      const again = await list();
      expect(again.source).toBe("backend");
      expect(again.models.map((m) => m.id)).not.toContain("gpt-6-astra");
    } finally {
      fake.codex.models.pop();
    }
  });

  it("must be a version: anything else stops serve with a clear message", async () => {
    const { configDir } = signedInConfigDir(fake);
    const run = startCli(["serve", "--port", "0"], envFor(configDir, { CODEX_PROXY_CLIENT_VERSION: "0.170" }));
    onTestFinished(() => void (run.child.exitCode === null && run.child.kill()));
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('CODEX_PROXY_CLIENT_VERSION must be a Codex CLI version such as 0.169.0, got "0.170"');
  });
});

describe("usage limits", () => {
  it("status shows the 5-hour and weekly windows after --refresh, as bars and in JSON", async () => {
    const { configDir } = signedInConfigDir(fake);
    fake.codex.usage = { primary: 91.5, secondary: 40 };
    try {
      const empty = await runCli(["status"], envFor(configDir));
      expect(empty.stdout).toContain("Usage limits: none seen yet");
      const out = await runCli(["status", "--refresh"], envFor(configDir));
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/5-hour\s+█{18}░{2}\s+92%\s+resets \d{4}-\d\d-\d\d \d\d:\d\d \(in (1h 59m|2h)\)/);
      expect(out.stdout).toMatch(/weekly\s+█{8}░{12}\s+40%/);
      const json = JSON.parse((await runCli(["status", "--json"], envFor(configDir))).stdout);
      expect(json.usage.primary).toMatchObject({ name: "5-hour", usedPercent: 91.5, windowMinutes: 300 });
      expect(json.usage.secondary).toMatchObject({ name: "weekly", usedPercent: 40, windowMinutes: 10080 });
      expect(JSON.parse(readFileSync(join(accountDir(configDir, fake.issuer.account), "usage.json"), "utf8")).primary.usedPercent).toBe(91.5);
    } finally {
      fake.codex.usage = { primary: 12.5, secondary: 40 };
    }
  });

  it("serve exposes them at GET /v1/usage and warns past 90%", async () => {
    fake.codex.usage = { primary: 95, secondary: 10 };
    const serve = await startServe(fake);
    try {
      await fetch(`${serve.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }] }) }).then((r) => r.text());
      const after = (await (await fetch(`${serve.url}/v1/usage`)).json()) as { usage: { primary: { usedPercent: number } } };
      expect(after.usage.primary.usedPercent).toBe(95);
      await serve.run.waitFor(/Codex 5-hour usage limit at 95%/);
    } finally {
      fake.codex.usage = { primary: 12.5, secondary: 40 };
      await serve.stop();
    }
  });
});
