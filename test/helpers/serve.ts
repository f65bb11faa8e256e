import { writeFileSync, mkdirSync } from "node:fs";
import OpenAI from "openai";
import { afterAll, beforeAll } from "vitest";
import { join } from "node:path";
import type { FakeBackend } from "../fake-backend/index.js";
import type { FakeBackendProcess } from "../fake-backend/process.js";
import { cliEnv, startCli, tempDir, type CliRun } from "./cli.js";

export interface ServeHandle {
  url: string;
  run: CliRun;
  configDir: string;
  env: NodeJS.ProcessEnv;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

type IssuedTokens = { id_token: string; access_token: string; refresh_token: string };

/** A config dir holding a login with these tokens. */
function writeSignedInStore(tokens: IssuedTokens, accountId: string): { configDir: string; refreshToken: string } {
  const configDir = join(tempDir(), "config");
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(configDir, "auth.json"), JSON.stringify({ tokens: { ...tokens, account_id: accountId }, last_refresh: new Date().toISOString(), method: "browser" }), {
    mode: 0o600,
  });
  return { configDir, refreshToken: tokens.refresh_token };
}

/** Sign in (write a store with fresh tokens from the fake issuer) and return its config dir. */
export function signedInConfigDir(fake: FakeBackend, accessTtl = 3600): { configDir: string; refreshToken: string } {
  return writeSignedInStore(fake.issuer.issueTokens(accessTtl), fake.issuer.account.accountId);
}

/** The same for a fake in its own process. */
export async function signedInConfigDirOf(fake: FakeBackendProcess, accessTtl = 3600): Promise<{ configDir: string; refreshToken: string }> {
  return writeSignedInStore(await fake.call<IssuedTokens>("issuer.issueTokens", accessTtl), await fake.get<string>("issuer.account.accountId"));
}

/** Start the built `codex-proxy serve` on a free port against the fake backend. */
export async function startServe(fake: FakeBackend | FakeBackendProcess, args: string[] = [], options: { configDir?: string; env?: Record<string, string> } = {}): Promise<ServeHandle> {
  const configDir = options.configDir ?? ("issuer" in fake ? signedInConfigDir(fake) : await signedInConfigDirOf(fake)).configDir;
  const env = cliEnv({
    CODEX_PROXY_AUTH_URL: fake.issuerUrl,
    CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl,
    CODEX_PROXY_CONFIG_DIR: configDir,
    ...options.env,
  });
  const run = startCli(["serve", "--port", "0", ...args], env);
  const [, url] = await run.waitFor(/listening on (http:\/\/[^\s]+)/, 30_000);
  return {
    url: url!,
    run,
    configDir,
    env,
    async stop(signal = "SIGTERM") {
      if (run.child.exitCode === null) run.child.kill(signal);
      return run.exited;
    },
  };
}

/** A fake backend and a proxy serving against it, for a whole test file. */
export async function startServedFake(args: string[] = []): Promise<{ fake: FakeBackend; serve: ServeHandle; stop(): Promise<void> }> {
  const { startFakeBackend } = await import("../fake-backend/index.js");
  const fake = await startFakeBackend();
  const serve = await startServe(fake, args);
  return {
    fake,
    serve,
    async stop() {
      await serve.stop();
      await fake.close();
    },
  };
}

/**
 * For a whole test file: a fake backend, a proxy serving against it and an `openai` client for it, started before
 * the tests and stopped after. `take` receives them once started, e.g. `useServedOpenAI((s) => ({ fake, serve, client } = s))`.
 */
export function useServedOpenAI(take: (served: { fake: FakeBackend; serve: ServeHandle; client: OpenAI }) => void, args: string[] = []): void {
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const started = await startServedFake(args);
    stop = started.stop;
    take({ fake: started.fake, serve: started.serve, client: new OpenAI({ baseURL: `${started.serve.url}/v1`, apiKey: "unused", maxRetries: 0 }) });
  });
  afterAll(() => stop?.());
}
