import { readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/_utils/http-client.js";
import { OAuthClient } from "../../src/auth/oauth.js";
import { TokenStore, type StoredAuth } from "../../src/auth/token-store.js";
import { RefreshFailedError, TokenManager } from "../../src/auth/token-manager.js";
import { NotSignedInError, ReloginRequiredError } from "../../src/auth/errors.js";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { tempDir } from "../helpers/cli.js";

let fake: FakeBackend;
let store: TokenStore;
let oauth: OAuthClient;
const dispatcher = createDispatcher();

beforeEach(async () => {
  fake = await startFakeBackend();
  store = new TokenStore(tempDir());
  oauth = new OAuthClient(fake.issuerUrl, dispatcher);
});
afterEach(() => fake.close());

function signIn(accessTtl: number, lastRefresh = new Date().toISOString()): StoredAuth {
  const tokens = fake.issuer.issueTokens(accessTtl);
  const auth: StoredAuth = { tokens: { ...tokens, account_id: "acc-123" }, last_refresh: lastRefresh, method: "browser" };
  store.write(auth);
  return auth;
}

const manager = (extra: Partial<ConstructorParameters<typeof TokenManager>[0]> = {}) =>
  new TokenManager({ store, oauth, retryDelaysMs: [10, 10], ...extra });

describe("TokenManager", () => {
  it("hands out a fresh token without refreshing", async () => {
    const auth = signIn(3600);
    const token = await manager().getAccessToken();
    expect(token).toEqual({ accessToken: auth.tokens.access_token, accountId: "acc-123" });
    expect(fake.issuer.refreshCount).toBe(0);
  });

  it("refreshes an expired token once for many concurrent callers, and persists the rotated refresh token first", async () => {
    const old = signIn(-10);
    fake.issuer.refreshDelayMs = 50;
    const tm = manager();
    const tokens = await Promise.all(Array.from({ length: 100 }, () => tm.getAccessToken()));
    expect(fake.issuer.refreshCount).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    const disk = store.read()!;
    expect(tokens[0]!.accessToken).toBe(disk.tokens.access_token);
    expect(disk.tokens.refresh_token).not.toBe(old.tokens.refresh_token);
    expect(fake.issuer.refreshTokens.get(disk.tokens.refresh_token)).toBe("active");
    expect(Date.parse(disk.last_refresh)).toBeGreaterThan(Date.now() - 5000);
    // a second round uses the new token without another refresh
    await tm.getAccessToken();
    expect(fake.issuer.refreshCount).toBe(1);
  });

  it("refreshes before expiry, inside the margin", async () => {
    signIn(60); // 60 s lifetime: the margin is half of it
    const tm = manager({ now: () => Date.now() + 40_000 });
    await tm.getAccessToken();
    expect(fake.issuer.refreshCount).toBe(1);
  });

  it("without exp, refreshes 8 days after the last refresh", async () => {
    const tokens = fake.issuer.issueTokens();
    const noExp = { ...tokens, access_token: "opaque-access-token-without-exp" };
    store.write({ tokens: { ...noExp, account_id: null }, last_refresh: new Date(Date.now() - 7 * 86_400_000).toISOString(), method: "import" });
    await manager().getAccessToken();
    expect(fake.issuer.refreshCount).toBe(0);
    store.write({ tokens: { ...noExp, account_id: null }, last_refresh: new Date(Date.now() - 9 * 86_400_000).toISOString(), method: "import" });
    await manager().getAccessToken();
    expect(fake.issuer.refreshCount).toBe(1);
  });

  it("two processes sharing the store refresh only once", async () => {
    signIn(-10);
    fake.issuer.refreshDelayMs = 100;
    const a = manager();
    const b = manager();
    const [ta, tb] = await Promise.all([a.getAccessToken(), b.getAccessToken()]);
    expect(fake.issuer.refreshCount).toBe(1);
    expect(ta.accessToken).toBe(tb.accessToken);
  });

  for (const code of ["refresh_token_expired", "refresh_token_reused", "refresh_token_invalidated"]) {
    it(`reports ${code} as "sign in again" and does not retry`, async () => {
      const auth = signIn(-10);
      fake.issuer.setRefreshState(auth.tokens.refresh_token, code === "refresh_token_expired" ? "expired" : code === "refresh_token_reused" ? "used" : "invalidated");
      const tm = manager();
      const error = await tm.getAccessToken().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReloginRequiredError);
      expect((error as Error).message).toContain("sign in again: codex-proxy login".replace("sign", "Sign"));
      expect((error as ReloginRequiredError).code).toBe(code);
      expect(fake.issuer.refreshCount).toBe(1);
      // later callers fail fast without another refresh
      await expect(tm.getAccessToken()).rejects.toBeInstanceOf(ReloginRequiredError);
      expect(fake.issuer.refreshCount).toBe(1);
    });
  }

  it("retries transient refresh failures with backoff", async () => {
    signIn(-10);
    fake.issuer.refreshScript = [
      { status: 500, body: { error: "server_error" } },
      { status: 503, body: { error: { code: "server_is_overloaded" } } },
    ];
    const token = await manager().getAccessToken();
    expect(fake.issuer.refreshCount).toBe(3);
    expect(token.accessToken).toBe(store.read()!.tokens.access_token);
  });

  it("gives up on transient failures after the last retry, keeping the login", async () => {
    const auth = signIn(-10);
    fake.issuer.refreshScript = Array.from({ length: 3 }, () => ({ status: 502, body: "bad gateway" }));
    await expect(manager().getAccessToken()).rejects.toBeInstanceOf(RefreshFailedError);
    expect(store.read()!.tokens.refresh_token).toBe(auth.tokens.refresh_token);
  });

  it("picks up a login written by another process, even after a dead refresh token", async () => {
    const auth = signIn(-10);
    fake.issuer.setRefreshState(auth.tokens.refresh_token, "expired");
    const tm = manager();
    await expect(tm.getAccessToken()).rejects.toBeInstanceOf(ReloginRequiredError);
    await new Promise((r) => setTimeout(r, 20)); // distinct mtime
    const next = signIn(3600);
    expect((await tm.getAccessToken()).accessToken).toBe(next.tokens.access_token);
  });

  it("after an upstream 401, refreshes once; a token someone else already replaced is reused", async () => {
    const auth = signIn(3600);
    const tm = manager();
    const rejected = (await tm.getAccessToken()).accessToken;
    const results = await Promise.all(Array.from({ length: 20 }, () => tm.refreshAfterUnauthorized(rejected)));
    expect(fake.issuer.refreshCount).toBe(1);
    expect(results[0]!.accessToken).not.toBe(auth.tokens.access_token);
    // a late 401 for the old token does not refresh again
    await tm.refreshAfterUnauthorized(rejected);
    expect(fake.issuer.refreshCount).toBe(1);
  });

  it("refreshes with the rotated token a killed writer left in a temp file, not the spent one on disk", async () => {
    const spent = signIn(-10);
    fake.issuer.setRefreshState(spent.tokens.refresh_token, "used");
    const rotated = fake.issuer.issueTokens(-10);
    const temp = join(store.dir, "auth.json.tmp-1765000000abc123");
    writeFileSync(temp, JSON.stringify({ ...spent, tokens: { ...rotated, account_id: "acc-123" } }), { mode: 0o600 });
    const later = new Date(Date.now() + 2000);
    utimesSync(temp, later, later);
    await manager().getAccessToken();
    expect(fake.issuer.refreshTokens.get(rotated.refresh_token)).toBe("used");
    expect(fake.issuer.refreshTokens.get(store.read()!.tokens.refresh_token)).toBe("active");
    expect(readdirSync(store.dir).filter((f) => f.startsWith("auth.json.tmp-"))).toEqual([]);
  });

  it("a half-written temp file is ignored", async () => {
    const auth = signIn(-10);
    writeFileSync(join(store.dir, "auth.json.tmp-1765000000abc123"), '{"tokens":{"id_token":"x","acc');
    await manager().getAccessToken();
    expect(fake.issuer.refreshTokens.get(auth.tokens.refresh_token)).toBe("used");
    expect(fake.issuer.refreshTokens.get(store.read()!.tokens.refresh_token)).toBe("active");
  });

  for (const fresh of [true, false]) {
    it(`on "refresh token reused", adopts the ${fresh ? "fresh" : "expired"} login written meanwhile instead of "sign in again"`, async () => {
      const spent = signIn(-10);
      fake.issuer.setRefreshState(spent.tokens.refresh_token, "used");
      const other = fake.issuer.issueTokens(fresh ? 3600 : -10);
      // another process writes its login while our refresh is on its way
      const racing = { refresh: (rt: string) => (store.write({ ...spent, tokens: { ...other, account_id: "acc-123" } }), oauth.refresh(rt)) };
      const token = await manager({ oauth: racing }).getAccessToken();
      expect(fake.issuer.refreshCount).toBe(fresh ? 1 : 2);
      if (fresh) expect(token.accessToken).toBe(other.access_token);
      expect(token.accessToken).toBe(store.read()!.tokens.access_token);
    });
  }

  it("says 'not signed in' without a store", async () => {
    await expect(manager().getAccessToken()).rejects.toBeInstanceOf(NotSignedInError);
  });
});
