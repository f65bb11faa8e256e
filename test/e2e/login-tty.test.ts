import { spawn } from "node:child_process";
import { createServer, request as httpRequest, type Server } from "node:http";
import { existsSync, writeFileSync } from "node:fs";
import { connect, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { BIN, cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { holdLoginPort, LOGIN_PORT_WAIT_MS } from "../helpers/login-port.js";
import { accountDir } from "../helpers/accounts.js";

let fake: FakeBackend;
let releasePort: () => void;
beforeAll(async () => {
  releasePort = await holdLoginPort();
  fake = await startFakeBackend();
}, LOGIN_PORT_WAIT_MS);
afterAll(async () => {
  await fake.close();
  releasePort();
});

/** Run the CLI under a real pseudo-terminal (util-linux `script`), so prompts appear as a user sees them. */
function startInPty(args: string[], env: NodeJS.ProcessEnv) {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], { env: { ...env, CI: undefined, TERM: "xterm" } });
  let screen = "";
  child.stdout.on("data", (d: Buffer) => (screen += d.toString()));
  const exited = new Promise<number>((r) => child.on("close", (code) => r(code ?? 1)));
  const waitFor = async (pattern: RegExp, timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const match = screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").match(pattern);
      if (match) return match;
      if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  return { child, exited, waitFor, type: (text: string) => child.stdin.write(text), screen: () => screen };
}

describe("login in a terminal", () => {
  it("offers a menu, then accepts the pasted redirect URL when the browser cannot reach this machine", async () => {
    const configDir = tempDir();
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_CONFIG_DIR: configDir });
    const run = startInPty(["login"], env);
    await run.waitFor(/How do you want to sign in\?/);
    run.type("\r"); // the first choice: browser
    const [url] = await run.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?[^\s]+originator=codex_cli_rs/);
    await run.waitFor(/paste the URL it ended on/);
    // the "browser" is elsewhere: it ends on a localhost:1455 URL that never loads here
    const issuerAnswer = await fetch(url!.replace(/\s/g, ""), { redirect: "manual" });
    const redirect = issuerAnswer.headers.get("location")!;
    run.type("https://example.invalid/no-code-here\r");
    await run.waitFor(/has no `code` parameter/);
    run.type("\x15"); // clear the line (Ctrl-U)
    // a stray word looks like a bare code; the issuer refuses it, and the prompt asks again
    run.type("hello\r");
    await run.waitFor(/The issuer did not accept that code \(invalid_grant\)/);
    run.type("\x15");
    run.type(`${redirect}\r`);
    expect(await run.exited).toBe(0);
    await run.waitFor(/Signed in as user@example\.com/);
    // the first account: nothing about renewed tokens (the paste saves the login twice)
    expect(run.screen()).not.toMatch(/renewed/);
    const status = JSON.parse((await runCli(["status", "--json"], env)).stdout);
    expect(status.method).toBe("paste");
  });

  it("Ctrl-C at the paste prompt cancels the login, says so and frees port 1455", async () => {
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_CONFIG_DIR: tempDir() });
    const run = startInPty(["login", "--no-browser"], env);
    await run.waitFor(/paste the URL it ended on/);
    run.type("\x03");
    await run.waitFor(/Login cancelled/);
    expect(await run.exited).toBe(130);
    const port = createServer();
    await new Promise<void>((resolve, reject) => port.once("error", reject).listen(1455, "127.0.0.1", resolve));
    await new Promise<void>((r) => port.close(() => r()));
  });

  it("Ctrl-C while the device login waits cancels it and says so", async () => {
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_CONFIG_DIR: tempDir() });
    const run = startInPty(["login", "--device"], env);
    await run.waitFor(/Waiting for you to approve/);
    run.type("\x03");
    await run.waitFor(/Login cancelled; nothing was changed/);
    expect(await run.exited).toBe(130);
  });
});

describe("logout in a terminal", () => {
  async function signedIn() {
    const configDir = tempDir();
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_CONFIG_DIR: configDir });
    const file = join(tempDir(), "auth.json");
    writeFileSync(file, JSON.stringify({ tokens: { ...fake.issuer.issueTokens(), account_id: "acc-123" } }));
    expect((await runCli(["login", "--import", file], env)).code).toBe(0);
    return { env, store: join(accountDir(configDir, fake.issuer.account), "auth.json") };
  }

  it("asks with No as the default: Enter keeps the login", async () => {
    const { env, store } = await signedIn();
    const run = startInPty(["logout"], env);
    await run.waitFor(/Sign out user@example\.com[^?]*\?\s*\(\s*y\/N\)/); // the terminal may wrap the line
    run.type("\r");
    await run.waitFor(/Logout cancelled; nothing was removed/);
    expect(await run.exited).toBe(1);
    expect(existsSync(store)).toBe(true);
  });

  it("Ctrl-C at the question exits 130 and keeps the login", async () => {
    const { env, store } = await signedIn();
    const run = startInPty(["logout"], env);
    await run.waitFor(/\(\s*y\/N\)/);
    run.type("\x03");
    await run.waitFor(/Logout cancelled/);
    expect(await run.exited).toBe(130);
    expect(existsSync(store)).toBe(true);
  });
});

describe("outbound proxy", () => {
  let proxy: Server;
  const seen: string[] = [];
  beforeAll(async () => {
    // a minimal forward proxy: CONNECT tunnels (what undici uses) and absolute-form HTTP requests
    proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const target = new URL(req.url!);
      const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    proxy.on("connect", (req, socket, head) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = req.url!.split(":");
      const upstream = connect(Number(port), host, () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  });
  afterAll(() => new Promise<void>((r) => proxy.close(() => r())));

  it("sends OAuth calls through HTTP_PROXY, and not when NO_PROXY matches", async () => {
    const configDir = tempDir();
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: configDir, HTTP_PROXY: proxyUrl });
    const importLogin = () => {
      const file = join(tempDir(), "auth.json");
      writeFileSync(file, JSON.stringify({ tokens: { ...fake.issuer.issueTokens(-60), account_id: "acc-123" } }));
      return runCli(["login", "--import", file], env);
    };
    expect((await importLogin()).code).toBe(0);
    const viaProxy = await runCli(["status", "--refresh"], env);
    expect(viaProxy.code, viaProxy.stderr).toBe(0);
    expect(seen).toContain(`CONNECT ${new URL(fake.issuerUrl).host}`);
    expect(seen.every((line) => line.includes(new URL(fake.issuerUrl).host))).toBe(true);

    seen.length = 0;
    expect((await importLogin()).code).toBe(0);
    const direct = await runCli(["status", "--refresh"], { ...env, NO_PROXY: "127.0.0.1" });
    expect(direct.code, direct.stderr).toBe(0);
    expect(seen).toEqual([]);
  });
});
