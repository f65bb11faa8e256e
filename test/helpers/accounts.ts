import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { FakeBackend } from "../fake-backend/index.js";
import type { FakeAccount, IssuedTokens } from "../fake-backend/issuer.js";
import { readJwt } from "../fake-backend/jwt.js";
import type { FakeBackendProcess } from "../fake-backend/process.js";
import { runCli, tempDir } from "./cli.js";

/**
 * Three ChatGPT identities for tests with several accounts: ada and cy are two users of one workspace (they
 * share `acc-a`), bob has a plan of his own. Tokens for one: `fake.issuer.issueTokens(ttl, IDENTITIES.bob)`.
 */
export const IDENTITIES = {
  ada: { email: "ada@example.com", plan: "plus", accountId: "acc-a", userId: "user-a" },
  bob: { email: "bob@example.com", plan: "pro", accountId: "acc-b", userId: "user-b" },
  cy: { email: "cy@example.com", plan: "plus", accountId: "acc-a", userId: "user-c" },
} as const satisfies Record<string, FakeAccount>;

/**
 * Write these tokens as the Codex CLI's `auth.json` in `dir` (for `codex-proxy login --import <path>`) and
 * return its path. The account id is the one the access token names, as the Codex CLI stores it.
 */
export function codexAuthFile(dir: string, tokens: IssuedTokens): string {
  const claims = readJwt(tokens.access_token)?.["https://api.openai.com/auth"] as { chatgpt_account_id?: string } | undefined;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, "auth.json");
  const auth = { OPENAI_API_KEY: null, tokens: { ...tokens, account_id: claims?.chatgpt_account_id ?? null }, last_refresh: new Date().toISOString() };
  writeFileSync(path, JSON.stringify(auth, null, 2), { mode: 0o600 });
  return path;
}

/** Where codex-proxy keeps an identity's tokens, usage figures and model list: `<configDir>/accounts/<userId>--<accountId>`. */
export function accountDir(configDir: string, identity: Pick<FakeAccount, "userId" | "accountId">): string {
  return join(configDir, "accounts", `${identity.userId}--${identity.accountId}`);
}

/** A file of the one signed-in account in `configDir` (`accounts/<key>/<name>`), where a single-account login now lives. */
export function accountFile(configDir: string, name = "auth.json"): string {
  const keys = readdirSync(join(configDir, "accounts"));
  if (keys.length !== 1) throw new Error(`expected one account in ${configDir}, found ${keys.length}`);
  return join(configDir, "accounts", keys[0]!, name);
}

/**
 * Sign in to `identity` with the built CLI, as a user with a Codex CLI login would: fresh tokens from the fake's
 * issuer (in this process or its own), then `codex-proxy login --import`. Asserts that it worked.
 */
export async function importLogin(fake: FakeBackend | FakeBackendProcess, env: NodeJS.ProcessEnv, identity: FakeAccount, accessTtl = 3600) {
  const tokens = fake instanceof FakeBackend ? fake.issuer.issueTokens(accessTtl, identity) : await fake.call<IssuedTokens>("issuer.issueTokens", accessTtl, identity);
  const out = await runCli(["login", "--import", codexAuthFile(tempDir(), tokens)], env);
  expect(out.code, out.stderr).toBe(0);
  return { ...out, tokens };
}
