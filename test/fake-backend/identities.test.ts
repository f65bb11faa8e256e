// The fake backend with several ChatGPT identities: what multi-account tests of the proxy rely on.
import { getGlobalDispatcher } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UpstreamClient } from "../../src/upstream/client.js";
import { UpstreamError } from "../../src/upstream/errors.js";
import { join } from "node:path";
import { IDENTITIES, codexAuthFile } from "../helpers/accounts.js";
import { cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { CLIENT_ID, type IssuedTokens } from "./issuer.js";
import { readJwt, startFakeBackend, type FakeBackend } from "./index.js";
import { FakeBackendProcess } from "./process.js";

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

type Identity = (typeof IDENTITIES)[keyof typeof IDENTITIES];
const ask = (model = "gpt-5.5") => ({ model, stream: true, store: false, instructions: "", input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }] });

/** One backend request as `identity`, the way the proxy makes it. */
async function backend(identity: Identity, path: "/responses" | "/models?client_version=0.169.0", body?: unknown): Promise<Response> {
  const headers = { authorization: `Bearer ${fake.issuer.issueTokens(3600, identity).access_token}`, "chatgpt-account-id": identity.accountId, "content-type": "application/json" };
  return fetch(`${fake.upstreamUrl}${path}`, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });
}

describe("codex backend with several identities", () => {
  beforeEach(() => {
    fake.codex.accounts = {};
  });

  it("sends each identity's usage and plan headers, and records which identity made each call", async () => {
    fake.codex.accounts["ada@example.com"] = { usage: { primary: 77, secondary: 5 } };
    const ada = await backend(IDENTITIES.ada, "/responses", ask());
    const bob = await backend(IDENTITIES.bob, "/responses", ask());
    expect([ada.status, bob.status]).toEqual([200, 200]);
    expect(ada.headers.get("x-codex-primary-used-percent")).toBe("77");
    expect(ada.headers.get("x-codex-secondary-used-percent")).toBe("5");
    expect(ada.headers.get("x-codex-plan-type")).toBe("plus");
    // without an entry an identity has the shared usage
    expect(bob.headers.get("x-codex-primary-used-percent")).toBe(String(fake.codex.usage.primary));
    expect(bob.headers.get("x-codex-plan-type")).toBe("pro");
    await Promise.all([ada.text(), bob.text()]);
    expect(fake.codex.calls.slice(-2).map((call) => [call.account, call.status, call.limited])).toEqual([
      ["ada@example.com", 200, false],
      ["bob@example.com", 200, false],
    ]);
  });

  it("answers 429 usage_limit_reached with the reset while an identity is limited, and serves it again after", async () => {
    const resetsAt = Date.now() / 1000 + 1.5;
    fake.codex.accounts["bob@example.com"] = { limitedUntil: resetsAt };
    const limited = await backend(IDENTITIES.bob, "/responses", ask());
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ error: { type: "usage_limit_reached", plan_type: "pro", resets_at: Math.ceil(resetsAt), message: expect.any(String) } });
    expect(limited.headers.get("x-codex-primary-used-percent")).toBe("100");
    expect(limited.headers.get("x-codex-primary-reset-at")).toBe(String(Math.ceil(resetsAt)));
    expect(fake.codex.calls.at(-1)).toMatchObject({ account: "bob@example.com", status: 429, limited: true });
    // the others carry on meanwhile
    expect((await backend(IDENTITIES.ada, "/responses", ask())).status).toBe(200);
    const after = await waitFor(async () => {
      const response = await backend(IDENTITIES.bob, "/responses", ask());
      return response.status === 200 && response;
    }, { what: "bob's limit to reset" });
    expect(Date.now() / 1000).toBeGreaterThanOrEqual(resetsAt);
    expect(after.headers.get("x-codex-primary-used-percent")).toBe(String(fake.codex.usage.primary));
    expect(await after.text()).toContain("response.completed");
  });

  it("reports the limit as a 200 stream that fails with usage_limit_reached when told to", async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 600;
    fake.codex.accounts["ada@example.com"] = { limitedUntil: resetsAt, limitInStream: true };
    const response = await backend(IDENTITIES.ada, "/responses", ask());
    expect(response.status).toBe(200);
    const events = (await response.text()).split("\n").filter((line) => line.startsWith("data: ")).map((line) => JSON.parse(line.slice(6)) as Record<string, any>);
    const failed = events.find((event) => event.type === "response.failed");
    expect(failed?.response.error).toMatchObject({ code: "usage_limit_reached", type: "usage_limit_reached", plan_type: "plus", resets_at: resetsAt });
    expect(events.some((event) => String(event.type).includes("delta"))).toBe(false);
    expect(fake.codex.calls.at(-1)).toMatchObject({ account: "ada@example.com", status: 200, limited: true });
  });

  it("offers each identity only its plan's models, and counts /models calls per identity", async () => {
    fake.codex.accounts["ada@example.com"] = { models: ["gpt-5.4-mini"] };
    const before = { ...fake.codex.modelsCallsBy };
    const slugs = async (identity: Identity) => ((await (await backend(identity, "/models?client_version=0.169.0")).json()) as { models: { slug: string }[] }).models.map((m) => m.slug);
    expect(await slugs(IDENTITIES.ada)).toEqual(["gpt-5.4-mini"]);
    expect(await slugs(IDENTITIES.bob)).toEqual(fake.codex.models.map((m) => m.slug));
    await slugs(IDENTITIES.bob);
    expect((fake.codex.modelsCallsBy["ada@example.com"] ?? 0) - (before["ada@example.com"] ?? 0)).toBe(1);
    expect((fake.codex.modelsCallsBy["bob@example.com"] ?? 0) - (before["bob@example.com"] ?? 0)).toBe(2);
    const refused = await backend(IDENTITIES.ada, "/responses", ask("gpt-5.5"));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ detail: "The 'gpt-5.5' model is not supported when using Codex with a ChatGPT account." });
    expect((await backend(IDENTITIES.ada, "/responses", ask("gpt-5.4-mini"))).status).toBe(200);
    expect((await backend(IDENTITIES.bob, "/responses", ask("gpt-5.5"))).status).toBe(200);
  });

  it("tells apart two users of one workspace (same account id) by their user and email", async () => {
    expect(IDENTITIES.ada.accountId).toBe(IDENTITIES.cy.accountId);
    fake.codex.accounts["ada@example.com"] = { limitedUntil: Date.now() / 1000 + 600 };
    fake.codex.accounts["cy@example.com"] = { usage: { primary: 3, secondary: 4 } };
    const ada = await backend(IDENTITIES.ada, "/responses", ask());
    const cy = await backend(IDENTITIES.cy, "/responses", ask());
    expect([ada.status, cy.status]).toEqual([429, 200]);
    expect(cy.headers.get("x-codex-primary-used-percent")).toBe("3");
    await cy.text();
    expect(fake.codex.calls.slice(-2).map((call) => call.account)).toEqual(["ada@example.com", "cy@example.com"]);
  });

  it("gives the proxy's upstream client the errors it classifies: usage_limit with the reset, model_not_supported", async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 600;
    fake.codex.accounts["bob@example.com"] = { limitedUntil: resetsAt, models: ["gpt-5.4-mini"] };
    const token = async () => ({ accessToken: fake.issuer.issueTokens(3600, IDENTITIES.bob).access_token, accountId: IDENTITIES.bob.accountId });
    const client = new UpstreamClient({ baseUrl: fake.upstreamUrl, dispatcher: getGlobalDispatcher(), retryDelaysMs: [], tokens: { getAccessToken: token, refreshAfterUnauthorized: token } });
    const limit = await client.createResponse(ask("gpt-5.4-mini")).catch((error: unknown) => error);
    expect(limit).toBeInstanceOf(UpstreamError);
    expect(limit).toMatchObject({ kind: "usage_limit", extra: { resetsAt: resetsAt * 1000 } });
    const model = await client.createResponse(ask("gpt-5.5")).catch((error: unknown) => error);
    expect(model).toMatchObject({ kind: "model_not_supported" });
  });
});

describe("several identities over the IPC of FakeBackendProcess", () => {
  let remote: FakeBackendProcess;
  beforeAll(async () => {
    remote = await FakeBackendProcess.start();
  });
  afterAll(() => remote.close());

  it("sets an identity's state, and reads the calls' identities and the refresh counts as plain objects", async () => {
    await remote.call("codex.setAccount", "bob@example.com", { limitedUntil: Date.now() / 1000 + 600 });
    const request = async (identity: Identity) => {
      const tokens = await remote.call<IssuedTokens>("issuer.issueTokens", 3600, identity);
      const headers = { authorization: `Bearer ${tokens.access_token}`, "chatgpt-account-id": identity.accountId, "content-type": "application/json" };
      const response = await fetch(`${remote.upstreamUrl}/responses`, { method: "POST", headers, body: JSON.stringify(ask()) });
      await response.text();
      return { status: response.status, refreshToken: tokens.refresh_token };
    };
    const bob = await request(IDENTITIES.bob);
    const ada = await request(IDENTITIES.ada);
    expect([bob.status, ada.status]).toEqual([429, 200]);
    const calls = await remote.get<{ account: string; status: number; limited: boolean }[]>("codex.calls");
    expect(calls.map((call) => [call.account, call.status, call.limited])).toEqual([
      ["bob@example.com", 429, true],
      ["ada@example.com", 200, false],
    ]);
    expect(Object.keys(await remote.get<Record<string, unknown>>("codex.accounts"))).toEqual(["bob@example.com"]);
    await remote.call("codex.setAccount", "bob@example.com", undefined);
    expect(await remote.get("codex.accounts")).toEqual({});
    const refreshed = await fetch(`${remote.issuerUrl}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: ada.refreshToken }),
    });
    expect(emailOf(((await refreshed.json()) as IssuedTokens).access_token)).toBe("ada@example.com");
    expect(await remote.get("issuer.refreshCounts")).toEqual({ "ada@example.com": 1 });
  });
});
