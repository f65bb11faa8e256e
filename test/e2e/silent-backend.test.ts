import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { cliEnv, runCli } from "../helpers/cli.js";
import { startInPty } from "../helpers/pty.js";
import { signedInConfigDir } from "../helpers/serve.js";

// a backend that accepts connections and never answers: before, models and status sat silent for about a minute
let fake: FakeBackend;
let silent: Server;
const sockets = new Set<Socket>();
let silentUrl: string;
beforeAll(async () => {
  fake = await startFakeBackend();
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/backend-api/codex`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((r) => silent.close(r));
  await fake.close();
});

const envFor = (configDir: string, upstream = silentUrl) =>
  cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: upstream, CODEX_PROXY_CONFIG_DIR: configDir });

/** Run the CLI and measure how long it took. */
async function timed(args: string[], env: NodeJS.ProcessEnv) {
  const start = Date.now();
  const out = await runCli(args, env);
  return { ...out, seconds: (Date.now() - start) / 1000 };
}

describe("a backend that never answers", () => {
  it("models --refresh --timeout shows the cached list after the time limit, and says why", async () => {
    const { configDir } = signedInConfigDir(fake);
    expect((await runCli(["models"], envFor(configDir, fake.upstreamUrl))).code).toBe(0); // a list in the cache
    const out = await timed(["models", "--refresh", "--timeout", "1s"], envFor(configDir));
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Models \(cached list: the Codex backend did not answer within 1s, fetched/);
    expect(out.stdout).toMatch(/gpt-5\.6-sol\s+372k/);
    expect(out.seconds).toBeLessThan(15); // about 1 s, on a busy machine more; before: about 61 s
  });

  it("models gives up after 10 s by default, with the bundled list when nothing is cached", async () => {
    const { configDir } = signedInConfigDir(fake);
    const out = await timed(["models", "--json"], envFor(configDir));
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.source).toBe("bundled");
    expect(json.error).toBe("the Codex backend did not answer within 10s");
    expect(out.seconds).toBeGreaterThanOrEqual(9.5);
    expect(out.seconds).toBeLessThan(40);
  });

  it("status --refresh --timeout warns after the time limit and still shows the account", async () => {
    const { configDir } = signedInConfigDir(fake);
    const out = await timed(["status", "--refresh", "--timeout", "1s"], envFor(configDir));
    expect(out.code).toBe(0);
    expect(out.stderr).toContain("Could not update the usage limits: no answer within 1s");
    expect(out.stdout).toContain("Signed in as user@example.com");
    expect(out.seconds).toBeLessThan(15);
  });

  it("a bad --timeout is a usage error", async () => {
    const { configDir } = signedInConfigDir(fake);
    const out = await runCli(["models", "--timeout", "soon"], envFor(configDir));
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('Invalid --timeout "soon"');
  });

  it("in a terminal, a spinner says what it waits for", async () => {
    const { configDir } = signedInConfigDir(fake);
    for (const [args, waiting] of [
      [["models", "--refresh", "--timeout", "3s"], /Asking the Codex backend for the model list…/],
      [["status", "--refresh", "--timeout", "3s"], /Asking the Codex backend for the usage limits…/],
    ] as const) {
      const run = startInPty([...args], envFor(configDir));
      await run.waitFor(waiting);
      expect(await run.exited).toBe(0);
    }
  });
});
