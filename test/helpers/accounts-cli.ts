import { join } from "node:path";
import { expect } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import type { FakeAccount } from "../fake-backend/issuer.js";
import { codexAuthFile } from "./accounts.js";
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
  const login = async (identity: FakeAccount, accessTtl = 3600) => {
    const tokens = fake.issuer.issueTokens(accessTtl, identity);
    const out = await cli("login", "--import", codexAuthFile(tempDir(), tokens));
    expect(out.code, out.stderr).toBe(0);
    return { ...out, tokens };
  };
  const status = async () => JSON.parse((await cli("status", "--json")).stdout) as StatusJson;
  return { configDir, env, cli, login, status };
}

/** The accounts `status --json` lists, in its order, the preferred one marked with ` *`. */
export const emails = (status: StatusJson) => status.accounts.map((a) => `${a.email}${a.preferred ? " *" : ""}`);
