import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { cliEnv, runCli, startCli, tempDir } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { holdLoginPort, LOGIN_PORT_WAIT_MS } from "../helpers/login-port.js";
import { accountDir } from "../helpers/accounts.js";

// These tests share the fixed callback port 1455, so they run one after another in this file.
let fake: FakeBackend;
let configDir: string;
let env: NodeJS.ProcessEnv;
/** the fake's default identity, which every login here signs in as unless a test says otherwise */
const USER = { userId: "user-123", accountId: "acc-123" };
const userFile = (name: string) => join(accountDir(configDir, USER), name);

let releasePort: () => void;
beforeAll(async () => {
  releasePort = await holdLoginPort();
  fake = await startFakeBackend();
}, LOGIN_PORT_WAIT_MS);
afterAll(async () => {
  await fake.close();
  releasePort();
});
beforeEach(() => {
  configDir = join(tempDir(), "config");
  env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: configDir });
  fake.issuer.authorizeError = undefined;
});

/** Follow the issuer's redirect the way a browser would; returns the callback response. */
async function completeInBrowser(authorizeUrl: string, mutate?: (callback: URL) => void): Promise<Response> {
  const issuerAnswer = await fetch(authorizeUrl, { redirect: "manual" });
  expect(issuerAnswer.status).toBe(302);
  const callback = new URL(issuerAnswer.headers.get("location")!);
  mutate?.(callback);
  return fetch(callback, { redirect: "follow" });
}

describe("login (browser flow)", () => {
  it("prints the authorize URL, completes on callback, stores tokens 0600 and reports the account", async () => {
    const run = startCli(["login", "--no-browser"], env);
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    const params = new URL(url).searchParams;
    expect(Object.fromEntries(params)).toMatchObject({
      response_type: "code",
      client_id: "app_EMoamEEZ73f0CkXaXp7hrann",
      redirect_uri: "http://localhost:1455/auth/callback",
      scope: "openid profile email offline_access api.connectors.read api.connectors.invoke",
      code_challenge_method: "S256",
      id_token_add_organizations: "true",
      codex_cli_simplified_flow: "true",
      originator: "codex_cli_rs",
    });
    expect(params.get("state")).toMatch(/^[\w-]{43}$/);
    expect(url).toContain("scope=openid%20profile"); // spaces percent-encoded as the Codex CLI does

    const page = await completeInBrowser(url);
    expect(page.status).toBe(200);
    expect(new URL(page.url).pathname).toBe("/success");
    expect(await page.text()).toContain("Signed in to codex-proxy");

    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain("Signed in as user@example.com (ChatGPT Pro)");
    expect(run.stdout()).toContain(userFile("auth.json"));
    expect(statSync(userFile("auth.json")).mode & 0o777).toBe(0o600);
    for (const dir of [configDir, join(configDir, "accounts"), accountDir(configDir, USER)]) expect(statSync(dir).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(userFile("auth.json"), "utf8"));
    expect(stored.tokens.account_id).toBe("acc-123");
    expect(fake.issuer.refreshTokens.get(stored.tokens.refresh_token)).toBe("active");
    // nothing printed contains a token
    expect(run.stdout() + run.stderr()).not.toContain(stored.tokens.refresh_token);
    expect(run.stdout() + run.stderr()).not.toContain(stored.tokens.access_token.slice(0, 40));

    // no terminal to paste into: never offer it, and say how to finish instead
    expect(run.stdout() + run.stderr()).not.toMatch(/paste/i);
    expect(run.stderr()).toContain("must reach this machine");
    expect(run.stderr()).toContain("codex-proxy login --device");

    const status = await runCli(["status", "--json"], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      signedIn: true,
      email: "user@example.com",
      plan: "pro",
      accountId: "acc-123",
      method: "browser",
      accessTokenExpired: false,
      store: userFile("auth.json"),
      accounts: [{ email: "user@example.com", accountId: "acc-123", plan: "pro", preferred: true, needsLogin: false, limitedUntil: null }],
    });
  });

  it("a browser login as another identity adds it beside the first, preferred", async () => {
    const browserLogin = async () => {
      const run = startCli(["login", "--no-browser"], env);
      const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
      expect((await completeInBrowser(url)).status).toBe(200);
      expect(await run.exited, run.stderr()).toBe(0);
      return run.stdout();
    };
    await browserLogin();
    const original = fake.issuer.account;
    fake.issuer.account = { email: "b@example.com", plan: "plus", accountId: "acc-456", userId: "user-456" };
    try {
      expect(await browserLogin()).toContain("Signed in as b@example.com (ChatGPT Plus) — added; 2 accounts, this one preferred");
    } finally {
      fake.issuer.account = original;
    }
    const status = JSON.parse((await runCli(["status", "--json"], env)).stdout);
    expect(status.accounts.map((a: { email: string; preferred: boolean }) => [a.email, a.preferred])).toEqual([
      ["b@example.com", true],
      ["user@example.com", false],
    ]);
  });

  it("answers a state mismatch with 400 and keeps waiting", async () => {
    const run = startCli(["login", "--no-browser"], env);
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    const forged = await completeInBrowser(url, (cb) => cb.searchParams.set("state", "forged"));
    expect(forged.status).toBe(400);
    expect(await forged.text()).toBe("State mismatch");
    const page = await completeInBrowser(url);
    expect(page.status).toBe(200);
    expect(await run.exited).toBe(0);
  });

  it("ends with a clear message when consent is denied", async () => {
    fake.issuer.authorizeError = { error: "access_denied", description: "The user denied access" };
    const run = startCli(["login", "--no-browser"], env);
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    const page = await completeInBrowser(url);
    expect(await page.text()).toContain("access was denied");
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/access was denied \(The user denied access\)\. Run `codex-proxy login` again/);
  });

  it("explains a workspace without Codex", async () => {
    fake.issuer.authorizeError = { error: "access_denied", description: "missing_codex_entitlement" };
    const run = startCli(["login", "--no-browser"], env);
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    await completeInBrowser(url);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("Codex is not enabled for your workspace");
  });

  it("ends with a clear message when the callback has no code", async () => {
    const run = startCli(["login", "--no-browser"], env);
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    await completeInBrowser(url, (cb) => cb.searchParams.delete("code"));
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("missing_authorization_code");
  });

  it("a code the issuer refuses at the callback ends with its reason and how to start over", async () => {
    const run = startCli(["login", "--no-browser"], env);
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    const page = await completeInBrowser(url, (cb) => cb.searchParams.set("code", "code_already_used"));
    expect(await page.text()).toContain("invalid_grant");
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("Code exchange failed (HTTP 400, invalid_grant: unknown or used code). To sign in, run `codex-proxy login` again.");
  });

  it("an issuer that went away before the code exchange is named, with what to check and what to run", async () => {
    const gone = await startFakeBackend();
    const run = startCli(["login", "--no-browser"], { ...env, CODEX_PROXY_AUTH_URL: gone.issuerUrl });
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    const issuerAnswer = await fetch(url, { redirect: "manual" });
    await gone.close();
    const page = await fetch(issuerAnswer.headers.get("location")!);
    expect(await page.text()).toContain("Cannot reach the sign-in server");
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain(`Cannot reach the sign-in server ${gone.issuerUrl} (connection refused)`);
    expect(run.stderr()).toContain("then run `codex-proxy login` again");
  });

  it("Ctrl-C (SIGINT) while waiting for the browser cancels the login, says so and frees port 1455", async () => {
    const run = startCli(["login", "--no-browser"], env);
    await run.waitFor(/Waiting for the browser/);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toContain("Login cancelled; nothing was changed.");
    const port = createServer();
    await new Promise<void>((resolve, reject) => port.once("error", reject).listen(1455, "127.0.0.1", resolve));
    await new Promise<void>((r) => port.close(() => r()));
  });

  it("times out with a clear message", async () => {
    const run = startCli(["login", "--no-browser", "--timeout", "1s"], env);
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/Login timed out after 1s/);
  });

  it("opens the browser with `open` (here a BROWSER script that follows the URL)", async () => {
    const dir = tempDir();
    const browser = join(dir, "fake-browser");
    const log = join(dir, "opened.txt");
    writeFileSync(
      browser,
      `#!/bin/sh\necho "$1" > "${log}"\nexec "${process.execPath}" -e 'fetch(process.argv[1]).then(r => r.text())' "$1"\n`,
    );
    chmodSync(browser, 0o755);
    const run = startCli(["login"], { ...env, BROWSER: browser, DISPLAY: ":99" });
    expect(await run.exited).toBe(0);
    expect(readFileSync(log, "utf8")).toContain("/oauth/authorize?");
    expect(run.stdout()).toContain("/oauth/authorize?"); // printed too
  });

  it("on a headless machine without a terminal, points at the port forward and --device, never at a paste prompt", async () => {
    const run = startCli(["login"], { ...env, SSH_CONNECTION: "10.0.0.2 50000 10.0.0.1 22" });
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    await run.waitFor(/No local browser here/);
    expect(run.stdout() + run.stderr()).not.toMatch(/paste/i);
    expect(run.stderr()).toContain("ssh -L 1455:127.0.0.1:1455");
    await completeInBrowser(url);
    expect(await run.exited).toBe(0);
  });

  it("asks an earlier login on port 1455 to cancel, and takes over", async () => {
    const first = startCli(["login", "--no-browser"], env);
    await first.waitFor(/oauth\/authorize/);
    const second = startCli(["login", "--no-browser"], env);
    const [url] = await second.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    expect(await first.exited).toBe(1);
    expect(first.stderr()).toContain("Login cancelled");
    await completeInBrowser(url);
    expect(await second.exited).toBe(0);
  });

  describe("with port 1455 held by another program", () => {
    let blocker: Server;
    beforeEach(async () => {
      blocker = createServer((_req, res) => res.end("not a login server"));
      await new Promise<void>((r) => blocker.listen(1455, "127.0.0.1", r));
    });
    afterEach(() => new Promise<void>((r) => blocker.close(() => r())));

    it("fails with an error that names the way out", async () => {
      const result = await runCli(["login", "--no-browser"], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Port 1455 is in use by PID \d+/);
      expect(result.stderr).toContain("codex-proxy login --device");
    });
  });
});

describe("login --device", () => {
  it("shows the code, polls until approved, and stores the tokens", async () => {
    const run = startCli(["login", "--device"], env);
    const [, code] = await run.waitFor(/Enter the code ([A-F0-9]{4}-[A-F0-9]{4})/);
    expect(run.stdout()).toContain(`${fake.issuerUrl}/codex/device`);
    const polls = () => fake.requests.filter((r) => r.path === "/api/accounts/deviceauth/token").length;
    const before = polls();
    await waitFor(() => polls() >= before + 2, { what: "a few pending polls first" });
    fake.issuer.approveDevice(code);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain("Signed in as user@example.com");
    const status = JSON.parse((await runCli(["status", "--json"], env)).stdout);
    expect(status.method).toBe("device");
  });

  it("reports a declined device login", async () => {
    const run = startCli(["login", "--device"], env);
    await run.waitFor(/Enter the code/);
    fake.issuer.denyDevice();
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain("The sign-in was declined on the device page (authorization_declined)");
    expect(run.stderr()).toContain("run `codex-proxy login --device` again and approve it");
  });

  it("a --timeout shorter than the code's life is the deadline it shows", async () => {
    const run = startCli(["login", "--device", "--timeout", "2s"], env);
    await run.waitFor(/Enter the code/);
    expect(await run.exited).toBe(1);
    expect(run.stdout()).toContain("Approve it within 2s (--timeout).");
    expect(run.stdout()).not.toContain("15 minutes");
    expect(run.stderr()).toContain("Login timed out after 2s");
    const long = startCli(["login", "--device"], env);
    await long.waitFor(/The code expires in 15m\./);
    long.child.kill();
    await long.exited;
  });

  it("an unreachable issuer says which server, what to check and what to run", async () => {
    const result = await runCli(["login", "--device"], { ...env, CODEX_PROXY_AUTH_URL: "http://127.0.0.1:9/auth" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Cannot reach the sign-in server http://127.0.0.1:9/auth (connection refused)");
    expect(result.stderr).toContain("HTTPS_PROXY");
    expect(result.stderr).toContain("run `codex-proxy login --device` again");
  });

  it("says when device login is not enabled", async () => {
    fake.issuer.deviceEnabled = false;
    try {
      const result = await runCli(["login", "--device"], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("Device code login is not enabled");
    } finally {
      fake.issuer.deviceEnabled = true;
    }
  });
});

describe("login --import", () => {
  function writeCodexAuth(dir: string): { path: string; tokens: ReturnType<FakeBackend["issuer"]["issueTokens"]> } {
    mkdirSync(dir, { recursive: true });
    const tokens = fake.issuer.issueTokens();
    const path = join(dir, "auth.json");
    writeFileSync(
      path,
      JSON.stringify({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens: { ...tokens, account_id: "acc-123" }, last_refresh: "2026-11-20T08:00:00Z" }, null, 2),
      { mode: 0o600 },
    );
    return { path, tokens };
  }

  it("copies the Codex CLI's tokens and never touches its file", async () => {
    const codexHome = tempDir();
    const { path, tokens } = writeCodexAuth(codexHome);
    const before = { hash: createHash("sha256").update(readFileSync(path)).digest("hex"), mtime: statSync(path).mtimeMs };
    const result = await runCli(["login", "--import"], { ...env, CODEX_HOME: codexHome });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Signed in as user@example.com");
    const stored = JSON.parse(readFileSync(userFile("auth.json"), "utf8"));
    expect(stored.tokens.refresh_token).toBe(tokens.refresh_token);
    expect(stored.method).toBe("import");
    expect(stored.last_refresh).toBe("2026-11-20T08:00:00.000Z");
    expect(createHash("sha256").update(readFileSync(path)).digest("hex")).toBe(before.hash);
    expect(statSync(path).mtimeMs).toBe(before.mtime);
  });

  it("takes an explicit path", async () => {
    const { path } = writeCodexAuth(join(tempDir(), "elsewhere"));
    const result = await runCli(["login", "--import", path, "--json"], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ signedIn: true, method: "import", accountId: "acc-123" });
  });

  it("explains a missing or API-key-only file", async () => {
    const missing = await runCli(["login", "--import", join(tempDir(), "nope.json")], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No Codex CLI login at");
    const apiKeyFile = join(tempDir(), "auth.json");
    writeFileSync(apiKeyFile, JSON.stringify({ OPENAI_API_KEY: "sk-test-1234567890" }));
    const apiKey = await runCli(["login", "--import", apiKeyFile], env);
    expect(apiKey.code).toBe(1);
    expect(apiKey.stderr).toContain("API key login, not a ChatGPT sign-in");
    expect(apiKey.stderr).not.toContain("sk-test-1234567890");
  });
});

describe("status, refresh and logout", () => {
  function writeAuth(tokens: ReturnType<FakeBackend["issuer"]["issueTokens"]>, accountId = "acc-123"): string {
    const path = join(tempDir(), "auth.json");
    writeFileSync(path, JSON.stringify({ tokens: { ...tokens, account_id: accountId }, last_refresh: new Date().toISOString() }));
    return path;
  }

  async function importLogin(accessTtl: number) {
    const dir = tempDir();
    const tokens = fake.issuer.issueTokens(accessTtl);
    writeFileSync(join(dir, "auth.json"), JSON.stringify({ tokens: { ...tokens, account_id: "acc-123" }, last_refresh: new Date().toISOString() }));
    expect((await runCli(["login", "--import", join(dir, "auth.json")], env)).code).toBe(0);
    return tokens;
  }

  it("not signed in: a clear message and exit 1", async () => {
    const result = await runCli(["status"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Not signed in: run `codex-proxy login`");
    const json = await runCli(["status", "--json"], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ signedIn: false, store: join(configDir, "accounts"), accounts: [] });
  });

  it("shows an expired token, and `status --refresh` refreshes it once across concurrent processes", async () => {
    await importLogin(-60);
    const before = await runCli(["status"], env);
    expect(before.stdout).toMatch(/access token\s+expired .*refreshed on next use/);
    const start = fake.issuer.refreshCount;
    const runs = await Promise.all(Array.from({ length: 6 }, () => runCli(["status", "--refresh", "--json"], env)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(fake.issuer.refreshCount - start).toBe(1);
    for (const r of runs) expect(JSON.parse(r.stdout).accessTokenExpired).toBe(false);
  });

  it("a dead refresh token says to sign in again", async () => {
    const tokens = await importLogin(-60);
    fake.issuer.setRefreshState(tokens.refresh_token, "expired");
    const result = await runCli(["status", "--refresh"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("refresh token expired");
    expect(result.stderr).toContain("Sign in again: codex-proxy login");
  });

  it("a corrupt store is a clear error that names the file; login replaces it and keeps the old one", async () => {
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, "auth.json"), "{ this is not json");
    const result = await runCli(["status"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`The token store ${join(configDir, "auth.json")} is corrupt (not valid JSON)`);
    await importLogin(3600);
    expect((await runCli(["status"], env)).code).toBe(0);
  });

  it("logout --yes removes the tokens; a second logout says there is nothing to do", async () => {
    await importLogin(3600);
    const unconfirmed = await runCli(["logout"], env);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("Nothing was removed: there is no terminal to confirm in. To log out, run `codex-proxy logout --yes`.");
    expect((await runCli(["status"], env)).code).toBe(0);
    const out = await runCli(["logout", "--yes"], env);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("Signed out user@example.com");
    expect((await runCli(["status"], env)).code).toBe(1);
    const again = await runCli(["logout", "--yes"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Not signed in");
  });

  it("logout removes the account's usage figures and model list: the next login of it does not show them", async () => {
    await importLogin(3600);
    expect((await runCli(["status", "--refresh"], env)).code).toBe(0);
    expect((await runCli(["models"], env)).code).toBe(0);
    expect(existsSync(userFile("usage.json"))).toBe(true);
    expect(existsSync(userFile("models-cache.json"))).toBe(true);
    const out = await runCli(["logout", "--yes", "--json"], env);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).removed.sort()).toEqual([userFile("auth.json"), userFile("models-cache.json"), userFile("usage.json")]);
    expect(existsSync(accountDir(configDir, USER))).toBe(false);
    await importLogin(3600);
    expect((await runCli(["status"], env)).stdout).toContain("Usage limits: none seen yet");
  });

  it("a login with no stored one drops usage figures left behind without a login (an older logout kept them)", async () => {
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, "usage.json"), JSON.stringify({ primary: { usedPercent: 77, windowMinutes: 300 } }));
    await importLogin(3600);
    expect(existsSync(join(configDir, "usage.json"))).toBe(false);
    expect(existsSync(userFile("usage.json"))).toBe(false);
    expect((await runCli(["status"], env)).stdout).toContain("Usage limits: none seen yet");
  });

  it("a login as another account adds it, keeps the first, makes the new one preferred", async () => {
    await importLogin(3600);
    expect((await runCli(["status", "--refresh"], env)).code).toBe(0);
    const same = await runCli(["login", "--import", writeAuth(fake.issuer.issueTokens())], env);
    expect(same.stdout).toContain("Signed in as user@example.com (ChatGPT Pro) — its tokens were renewed");
    expect(existsSync(userFile("usage.json"))).toBe(true);
    const original = fake.issuer.account;
    const other = { email: "b@example.com", plan: "plus", accountId: "acc-456", userId: "user-456" };
    fake.issuer.account = other;
    try {
      const added = await runCli(["login", "--import", writeAuth(fake.issuer.issueTokens(), "acc-456")], env);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toContain("Signed in as b@example.com (ChatGPT Plus) — added; 2 accounts, this one preferred");
      expect(added.stdout).not.toContain("replacing");
      // the first account keeps its tokens and usage figures; the new one has none yet
      expect(existsSync(userFile("auth.json"))).toBe(true);
      expect(existsSync(userFile("usage.json"))).toBe(true);
      expect(existsSync(join(accountDir(configDir, other), "usage.json"))).toBe(false);
      const status = JSON.parse((await runCli(["status", "--json"], env)).stdout);
      expect(status).toMatchObject({ email: "b@example.com", accountId: "acc-456" });
      expect(status.accounts.map((a: { email: string; preferred: boolean }) => [a.email, a.preferred])).toEqual([
        ["b@example.com", true],
        ["user@example.com", false],
      ]);
    } finally {
      fake.issuer.account = original;
    }
  });

  it("usage errors exit 2", async () => {
    expect((await runCli(["login", "--device", "--import"], env)).code).toBe(2);
    expect((await runCli(["login", "--timeout", "soon"], env)).code).toBe(2);
    const zero = await runCli(["login", "--device", "--timeout", "0"], env);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("--timeout must be longer than 0");
    expect((await runCli(["frobnicate"], env)).code).toBe(2);
  });
});
