import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { signedInConfigDir, startServe } from "../helpers/serve.js";
import { accountDir } from "../helpers/accounts.js";

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

const envFor = (configDir: string, extra: Record<string, string> = {}) =>
  cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: configDir, HOME: tempDir(), CODEX_PROXY_PORT: "0", ...extra });

async function doctor(configDir: string, args: string[] = [], extra: Record<string, string> = {}) {
  const out = await runCli(["doctor", "--json", ...args], envFor(configDir, extra));
  const report = JSON.parse(out.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string; fix?: string }[] };
  const check = (name: string) => report.checks.find((c) => c.name === name)!;
  // whatever the scenario, every failed check says how to fix it
  for (const c of report.checks) if (c.status === "fail") expect(c.fix, `${c.name}: ${c.detail}`).toMatch(/\w/);
  return { ...out, report, check };
}

describe("codex-proxy doctor", () => {
  it("passes on a healthy setup, refreshes once, and prints no token", async () => {
    const { configDir } = signedInConfigDir(fake);
    const before = fake.issuer.refreshCount;
    const out = await runCli(["doctor"], envFor(configDir));
    expect(out.code, out.stdout).toBe(0);
    expect(out.stdout).toContain("✔ All checks passed");
    expect(out.stdout).toMatch(/✔ Tokens: signed in as user@example\.com \(ChatGPT Pro, account acc-123\)/);
    expect(out.stdout).toMatch(/✔ Codex backend: .* answers \(3 models\)/);
    expect(fake.issuer.refreshCount - before).toBe(1);
    const auth = JSON.parse(readFileSync(join(accountDir(configDir, fake.issuer.account), "auth.json"), "utf8"));
    for (const key of ["id_token", "access_token", "refresh_token"]) expect(out.stdout + out.stderr).not.toContain(auth.tokens[key].slice(-24));
  });

  it("not signed in: fails with the fix", async () => {
    const { report, check, code } = await doctor(join(tempDir(), "empty"));
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(check("Config dir")).toMatchObject({ status: "fail" });
    expect(check("Tokens")).toMatchObject({ status: "fail", fix: "run `codex-proxy login`" });
    expect(check("Clock")).toMatchObject({ status: "info", detail: "not compared: sign in first (the backend's clock is read from its answer)" });
  });

  it("a dead refresh token fails the refresh check with 'sign in again'", async () => {
    const { configDir, refreshToken } = signedInConfigDir(fake);
    fake.issuer.setRefreshState(refreshToken, "expired");
    const { check, code } = await doctor(configDir);
    expect(code).toBe(1);
    expect(check("Token refresh").status).toBe("fail");
    expect(check("Token refresh").detail).toContain("Sign in again: codex-proxy login");
  });

  it("a dead upstream fails the backend check; --no-refresh skips the refresh", async () => {
    const { configDir } = signedInConfigDir(fake);
    const { check, code } = await doctor(configDir, ["--no-refresh"], { CODEX_PROXY_UPSTREAM_URL: "http://127.0.0.1:9/backend-api/codex" });
    expect(code).toBe(1);
    expect(check("Codex backend")).toMatchObject({ status: "fail" });
    expect(check("Codex backend").detail).toContain("Cannot reach the Codex backend");
    expect(check("Codex backend").fix).toBe("check the network, HTTPS_PROXY and NO_PROXY: http://127.0.0.1:9/backend-api/codex must be reachable from here");
    expect(check("Clock")).toMatchObject({ status: "info", detail: "not compared: the Codex backend did not answer" });
    expect(check("Token refresh").status).toBe("info");
    // the same fix in the text report, under the failed check
    const text = await runCli(["doctor", "--no-refresh"], envFor(configDir, { CODEX_PROXY_UPSTREAM_URL: "http://127.0.0.1:9/backend-api/codex" }));
    expect(text.stdout).toMatch(/✖ Codex backend: Cannot reach the Codex backend.*\n {4}→ check the network, HTTPS_PROXY and NO_PROXY: http:\/\/127\.0\.0\.1:9\/backend-api\/codex must be reachable from here\n/);
    expect(text.stdout).toContain("○ Clock: not compared: the Codex backend did not answer");
  });

  it("an unreachable issuer fails the refresh check with the network fix", async () => {
    const { configDir } = signedInConfigDir(fake);
    const { check, code } = await doctor(configDir, [], { CODEX_PROXY_AUTH_URL: "http://127.0.0.1:9" });
    expect(code).toBe(1);
    expect(check("Token refresh")).toMatchObject({ status: "fail", fix: "check the network, HTTPS_PROXY and NO_PROXY: http://127.0.0.1:9 must be reachable from here" });
  });

  it("a backend that never answers is cut off by the time limit", async () => {
    const hang: Server = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
    try {
      const { configDir } = signedInConfigDir(fake);
      const { check, code } = await doctor(configDir, ["--no-refresh", "--timeout", "1s"], { CODEX_PROXY_UPSTREAM_URL: `http://127.0.0.1:${(hang.address() as AddressInfo).port}/x` });
      expect(code).toBe(1);
      expect(check("Codex backend").detail).toBe("no answer within 1s");
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });

  it("wrong file modes fail with the chmod to run", async () => {
    const { configDir } = signedInConfigDir(fake);
    chmodSync(join(configDir, "auth.json"), 0o644);
    chmodSync(configDir, 0o755);
    const { check } = await doctor(configDir, ["--no-refresh"]);
    // the single-account file moved into accounts/ as it was: its mode is still reported, at its new path
    expect(check("Token file")).toMatchObject({ status: "fail", fix: `chmod 600 ${join(accountDir(configDir, fake.issuer.account), "auth.json")}` });
    expect(check("Config dir")).toMatchObject({ status: "fail", fix: `chmod 700 ${configDir}` });
  });

  it("the serve port: our own server is fine, a stranger is a failure", async () => {
    const serve = await startServe(fake);
    const port = new URL(serve.url).port;
    try {
      const ours = await doctor(serve.configDir, ["--no-refresh"], { CODEX_PROXY_PORT: port });
      expect(ours.check("Serve port")).toMatchObject({ status: "ok" });
      expect(ours.check("Serve port").detail).toContain("codex-proxy");
    } finally {
      await serve.stop();
    }
    const stranger: Server = createServer((_q, r) => r.end("hi"));
    await new Promise<void>((r) => stranger.listen(0, "127.0.0.1", r));
    try {
      const { configDir } = signedInConfigDir(fake);
      const theirs = await doctor(configDir, ["--no-refresh"], { CODEX_PROXY_PORT: String((stranger.address() as AddressInfo).port) });
      expect(theirs.check("Serve port").status).toBe("fail");
      expect(theirs.check("Serve port").detail).toMatch(/in use by PID \d+/);
    } finally {
      stranger.close();
    }
  });
  it("names the catalog's models the backend hides from the client version sent, and the CODEX_PROXY_CLIENT_VERSION that shows them", async () => {
    fake.codex.models.push({ slug: "gpt-6-astra", efforts: ["low", "medium", "high"], defaultEffort: "medium", contextWindow: 400_000, minimalClientVersion: "0.170.0" });
    try {
      const { configDir } = signedInConfigDir(fake);
      // an earlier run with the newer version saved a list that holds the new model
      expect((await runCli(["models"], envFor(configDir, { CODEX_PROXY_CLIENT_VERSION: "0.170.0" }))).stdout).toContain("gpt-6-astra");
      const old = await doctor(configDir, ["--no-refresh"]);
      expect(old.code).toBe(0);
      expect(old.check("Client version")).toEqual({
        name: "Client version",
        status: "warn",
        detail: "1 model in the catalog needs Codex ≥ 0.170.0 (gpt-6-astra); the backend hides it from Codex 0.169.0 (the default)",
        fix: "set CODEX_PROXY_CLIENT_VERSION=0.170.0",
      });
      const fixed = await doctor(configDir, ["--no-refresh"], { CODEX_PROXY_CLIENT_VERSION: "0.170.0" });
      expect(fixed.check("Client version")).toMatchObject({ status: "ok", detail: "Codex 0.170.0: the backend shows every model the catalog knows" });
      // the bundled catalog counts too: an old version misses the models it lists as newer
      const older = await doctor(configDir, ["--no-refresh"], { CODEX_PROXY_CLIENT_VERSION: "0.130.0" });
      expect(older.check("Client version")).toMatchObject({
        status: "warn",
        detail: "3 models in the catalog need Codex ≥ 0.170.0 (gpt-6-astra, gpt-5.6-terra, gpt-5.6-luna); the backend hides them from Codex 0.130.0",
        fix: "set CODEX_PROXY_CLIENT_VERSION=0.170.0",
      });
      const bad = await runCli(["doctor"], envFor(configDir, { CODEX_PROXY_CLIENT_VERSION: "latest" }));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('CODEX_PROXY_CLIENT_VERSION must be a Codex CLI version such as 0.169.0, got "latest"');
    } finally {
      fake.codex.models.pop();
    }
  });
});
