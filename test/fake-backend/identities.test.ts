// The fake backend with several ChatGPT identities: what multi-account tests of the proxy rely on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { IDENTITIES, codexAuthFile } from "../helpers/accounts.js";
import { cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { CLIENT_ID, type IssuedTokens } from "./issuer.js";
import { readJwt, startFakeBackend, type FakeBackend } from "./index.js";

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

async function refresh(refreshToken: string): Promise<{ status: number; tokens: IssuedTokens }> {
  const response = await fetch(`${fake.issuerUrl}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: refreshToken }),
  });
  return { status: response.status, tokens: (await response.json()) as IssuedTokens };
}

const emailOf = (token: string) => (readJwt(token)?.["https://api.openai.com/profile"] as { email: string }).email;
const authOf = (token: string) => readJwt(token)?.["https://api.openai.com/auth"] as Record<string, string>;

describe("issuer with several identities", () => {
  it("issues tokens for the identity asked for, and the next login's identity by default", () => {
    const bob = fake.issuer.issueTokens(3600, IDENTITIES.bob);
    expect(emailOf(bob.access_token)).toBe("bob@example.com");
    expect(authOf(bob.access_token)).toMatchObject({ chatgpt_account_id: "acc-b", chatgpt_user_id: "user-b", chatgpt_plan_type: "pro" });
    expect(readJwt(bob.id_token)).toMatchObject({ email: "bob@example.com", sub: "user-b" });
    expect(emailOf(fake.issuer.issueTokens().access_token)).toBe(fake.issuer.account.email);
  });

  it("a refresh returns tokens for the identity its refresh token was issued to, not the next login's", async () => {
    const ada = fake.issuer.issueTokens(-60, IDENTITIES.ada);
    const cy = fake.issuer.issueTokens(-60, IDENTITIES.cy);
    const first = await refresh(ada.refresh_token);
    expect(first.status).toBe(200);
    expect(emailOf(first.tokens.access_token)).toBe("ada@example.com");
    expect(authOf(first.tokens.access_token)).toMatchObject({ chatgpt_account_id: "acc-a", chatgpt_user_id: "user-a" });
    // the rotated refresh token still belongs to ada
    const second = await refresh(first.tokens.refresh_token);
    expect(emailOf(second.tokens.access_token)).toBe("ada@example.com");
    const third = await refresh(cy.refresh_token);
    expect(authOf(third.tokens.access_token)).toMatchObject({ chatgpt_account_id: "acc-a", chatgpt_user_id: "user-c" });
    expect(emailOf(third.tokens.access_token)).toBe("cy@example.com");
  });

  it("counts refreshes per identity and in all", async () => {
    const before = { total: fake.issuer.refreshCount, counts: { ...fake.issuer.refreshCounts } };
    const bob = fake.issuer.issueTokens(-60, IDENTITIES.bob);
    const cy = fake.issuer.issueTokens(-60, IDENTITIES.cy);
    await refresh(bob.refresh_token);
    await refresh(cy.refresh_token);
    // a reused refresh token is an attempt too (the proxy must not make it)
    expect((await refresh(cy.refresh_token)).status).toBe(401);
    expect(fake.issuer.refreshCount - before.total).toBe(3);
    expect((fake.issuer.refreshCounts["bob@example.com"] ?? 0) - (before.counts["bob@example.com"] ?? 0)).toBe(1);
    expect((fake.issuer.refreshCounts["cy@example.com"] ?? 0) - (before.counts["cy@example.com"] ?? 0)).toBe(2);
  });
});

describe("codexAuthFile", () => {
  it("writes a Codex CLI auth.json that `codex-proxy login --import` signs in with, as that identity", async () => {
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: join(tempDir(), "config") });
    const result = await runCli(["login", "--import", codexAuthFile(tempDir(), fake.issuer.issueTokens(3600, IDENTITIES.bob))], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("bob@example.com");
  });
});
