import { spawn } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/_utils/http-client.js";
import { OAuthClient } from "../../src/auth/oauth.js";
import { TokenManager } from "../../src/auth/token-manager.js";
import { TokenStore } from "../../src/auth/token-store.js";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { BIN, cliEnv, runCli, tempDir, deadPid } from "../helpers/cli.js";
import { signedInConfigDir, startServe } from "../helpers/serve.js";
import { accountDir } from "../helpers/accounts.js";

// One login shared by several codex-proxy processes (the service, a foreground serve, status, doctor).

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());
afterEach(() => {
  fake.issuer.refreshDelayMs = 0;
  fake.issuer.accessTokenTtl = 3600;
});

const envFor = (configDir: string) =>
  cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: configDir, HOME: tempDir(), CODEX_PROXY_PORT: "0" });
/** the directory of the one account these tests sign in (the fake's default identity) */
const userDir = (configDir: string) => accountDir(configDir, fake.issuer.account);
const storedRefreshToken = (configDir: string) => (JSON.parse(readFileSync(join(userDir(configDir), "auth.json"), "utf8")) as { tokens: { refresh_token: string } }).tokens.refresh_token;

describe("one login, several processes", () => {
  it("two serve processes and a slow issuer: one refresh, both answer", async () => {
    const { configDir } = signedInConfigDir(fake, -60);
    fake.issuer.refreshDelayMs = 3000;
    const before = fake.issuer.refreshCount;
    const [a, b] = await Promise.all([startServe(fake, [], { configDir }), startServe(fake, [], { configDir })]);
    try {
      const ask = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 }).chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] });
      const answers = await Promise.all([ask(a.url), ask(b.url), ask(a.url), ask(b.url)]);
      for (const answer of answers) expect(answer.choices[0]!.message.content).toBeTruthy();
      expect(fake.issuer.refreshCount - before).toBe(1);
      expect(fake.issuer.refreshTokens.get(storedRefreshToken(configDir))).toBe("active");
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("a lock left by a killed process is taken over at once, by one of many waiting processes", async () => {
    const { configDir } = signedInConfigDir(fake, -60);
    const first = await runCli(["status"], envFor(configDir)); // moves the single-account store into accounts/
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    writeFileSync(join(userDir(configDir), "auth.json.lock"), `${await deadPid()} ${hostname()} 0123456789abcdef`, { mode: 0o600 });
    const before = fake.issuer.refreshCount;
    const started = Date.now();
    const runs = await Promise.all(Array.from({ length: 4 }, () => runCli(["status", "--refresh", "--json"], envFor(configDir))));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(fake.issuer.refreshCount - before).toBe(1);
    expect(Date.now() - started).toBeLessThan(18_000); // the old lock made everyone wait 20 s (a generous bound: a busy one-core machine)
    expect(readdirSync(userDir(configDir)).filter((f) => f.startsWith("auth.json.lock"))).toEqual([]);
  });

  it("doctor's time limit does not lose a refresh that finishes later", async () => {
    const { configDir, refreshToken } = signedInConfigDir(fake);
    fake.issuer.refreshDelayMs = 2500;
    const out = await runCli(["doctor", "--json", "--timeout", "1s"], envFor(configDir));
    const checks = (JSON.parse(out.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks;
    expect(checks.find((c) => c.name === "Token refresh")).toMatchObject({ status: "fail", detail: "no answer within 1s" });
    expect(out.stderr).toContain("Waiting for the token refresh to finish");
    expect(fake.issuer.refreshTokens.get(refreshToken)).toBe("used");
    const saved = storedRefreshToken(configDir);
    expect(saved).not.toBe(refreshToken);
    expect(fake.issuer.refreshTokens.get(saved)).toBe("active");
    fake.issuer.refreshDelayMs = 0;
    const again = await runCli(["doctor", "--json", "--timeout", "10s"], envFor(configDir));
    expect((JSON.parse(again.stdout) as { checks: { name: string; status: string }[] }).checks.find((c) => c.name === "Token refresh")!.status).toBe("ok");
  });

  it("a serve that was told to sign in again answers as soon as a valid login is on disk", async () => {
    const { configDir, refreshToken } = signedInConfigDir(fake, -60);
    fake.issuer.setRefreshState(refreshToken, "invalidated");
    const serve = await startServe(fake, [], { configDir });
    try {
      const client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const ask = () => client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] });
      await expect(ask()).rejects.toMatchObject({ status: 401, message: expect.stringContaining("Sign in again") });
      await expect(ask()).rejects.toMatchObject({ status: 401 });
      const file = join(tempDir(), "auth.json");
      writeFileSync(file, JSON.stringify({ tokens: { ...fake.issuer.issueTokens(), account_id: "acc-123" }, last_refresh: new Date().toISOString() }));
      expect((await runCli(["login", "--import", file], envFor(configDir))).code).toBe(0);
      expect((await ask()).choices[0]!.message.content).toBeTruthy();
    } finally {
      await serve.stop();
    }
  });

  it("kill -9 anywhere around the write never loses the rotated refresh token (50 times)", { timeout: 150_000 }, async () => {
    const { configDir } = signedInConfigDir(fake, -60);
    const env = envFor(configDir);
    const preload = resolve(import.meta.dirname, "../fixtures/kill-after-write.mjs");
    const dispatcher = createDispatcher();
    let killed = 0;
    try {
      for (let i = 0; i < 50; i++) {
        // the child refreshes (the issuer rotates) and is SIGKILLed after the k-th file-system call that follows
        // the first write of the new tokens: inside the temp-file write, before or after the rename, in the unlock
        const killAfter = Math.floor(Math.random() * 15);
        const rotations = fake.issuer.refreshCount;
        const child = spawn(process.execPath, ["--import", preload, BIN, "status", "--refresh"], { env: { ...env, CODEX_PROXY_TEST_KILL_AFTER: String(killAfter) } });
        child.stdin.end();
        const signal = await new Promise((r) => child.on("close", (_code, sig) => r(sig)));
        if (signal === "SIGKILL") killed++;
        expect(fake.issuer.refreshCount, `child ${i} refreshed`).toBe(rotations + 1);
        // a fresh process refreshes with whatever is on disk: never "refresh token reused"
        fake.issuer.accessTokenTtl = -60; // so that the next child refreshes again
        const next = new TokenManager({ store: new TokenStore(userDir(configDir)), oauth: new OAuthClient(fake.issuerUrl, dispatcher), retryDelaysMs: [] });
        await expect(next.refreshNow(), `after a kill at ${killAfter}`).resolves.toBeTruthy();
        if (next.refreshCount === 0) await next.refreshNow(); // it found the child's fresh token: spend that one
        expect(next.refreshCount).toBe(1);
        fake.issuer.accessTokenTtl = 3600;
        expect(fake.issuer.refreshTokens.get(storedRefreshToken(configDir))).toBe("active");
      }
    } finally {
      await dispatcher.destroy();
    }
    expect(killed).toBeGreaterThan(30);
    expect(readdirSync(userDir(configDir)).filter((f) => f.startsWith("auth.json.tmp-")).length).toBeLessThanOrEqual(1);
  });
});
