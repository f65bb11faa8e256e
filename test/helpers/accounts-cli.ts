import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import type { FakeAccount } from "../fake-backend/issuer.js";
import { importLogin } from "./accounts.js";
import { cliEnv, runCli, tempDir } from "./cli.js";

export interface StatusJson {
  email: string;
  accountId: string;
  accounts: { email: string; accountId: string; plan: string; preferred: boolean; accessTokenExpiresAt: string | null; usage: unknown; limitedUntil: string | null; needsLogin: boolean }[];
}

/** A fresh config dir and the built CLI pointed at the fake, with `login --import` of any identity. */
export function accountsCli(fake: FakeBackend) {
  const configDir = join(tempDir(), "config");
  const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: configDir, HOME: tempDir(), CODEX_PROXY_PORT: "0" });
  const cli = (...args: string[]) => runCli(args, env);
  /** `login --import` of fresh tokens for this identity; returns the tokens */
  const login = (identity: FakeAccount, accessTtl = 3600) => importLogin(fake, env, identity, accessTtl);
  const status = async () => JSON.parse((await cli("status", "--json")).stdout) as StatusJson;
  return { configDir, env, cli, login, status };
}

/** The accounts `status --json` lists, in its order, the preferred one marked with ` *`. */
export const emails = (status: StatusJson) => status.accounts.map((a) => `${a.email}${a.preferred ? " *" : ""}`);

/** A fake backend for a whole test file; each test starts without per-identity state. `take` receives it once started. */
export function useIdentityFake(take: (fake: FakeBackend) => void): void {
  let fake: FakeBackend | undefined;
  beforeAll(async () => take((fake = await startFakeBackend())));
  afterEach(() => {
    if (fake) fake.codex.accounts = {};
  });
  afterAll(() => fake?.close());
}
