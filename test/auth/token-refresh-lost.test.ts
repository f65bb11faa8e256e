import { Agent } from "undici";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDispatcher } from "../../src/_utils/http-client.js";
import { OAuthClient } from "../../src/auth/oauth.js";
import { TokenStore, type StoredAuth } from "../../src/auth/token-store.js";
import { TokenManager } from "../../src/auth/token-manager.js";
import { ReloginRequiredError } from "../../src/auth/errors.js";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { tempDir } from "../helpers/cli.js";
import { startDroppingIssuer, type DroppingIssuer } from "../helpers/dropping-issuer.js";

// The issuer rotates the refresh token when it answers a refresh: an answer we do not read is the only copy of
// the new one. These tests lose that answer on purpose, as a slow issuer or a dropped connection would.

let fake: FakeBackend;
let store: TokenStore;
let dropper: DroppingIssuer | undefined;

beforeEach(async () => {
  fake = await startFakeBackend();
  store = new TokenStore(tempDir());
});
afterEach(async () => {
  dropper?.close();
  dropper = undefined;
  await fake.close();
});

function signIn(accessTtl: number): StoredAuth {
  const auth: StoredAuth = { tokens: { ...fake.issuer.issueTokens(accessTtl), account_id: "acc-123" }, last_refresh: new Date().toISOString(), method: "browser" };
  store.write(auth);
  return auth;
}

async function droppingIssuer(drops: number, onDrop?: () => void): Promise<string> {
  dropper = await startDroppingIssuer(fake, drops, onDrop);
  return dropper.url;
}

const warnings: string[] = [];
const logger = { debug: () => {}, warn: (line: string) => warnings.push(line) } as unknown as ConstructorParameters<typeof TokenManager>[0]["logger"];
beforeEach(() => void (warnings.length = 0));

describe("a refresh whose answer may be lost", () => {
  it("waits for a slow issuer's answer instead of timing out and retrying with the token it just rotated", async () => {
    const old = signIn(-10);
    fake.issuer.refreshDelayMs = 1500;
    // the dispatcher's own headers timeout (60 s in production) is shorter than the issuer's answer here
    const impatient = new Agent({ headersTimeout: 300 });
    const manager = new TokenManager({ store, oauth: new OAuthClient(fake.issuerUrl, impatient), logger, retryDelaysMs: [10, 10] });
    try {
      const token = await manager.getAccessToken();
      const disk = store.read()!;
      expect(token.accessToken).toBe(disk.tokens.access_token);
      expect(fake.issuer.refreshTokens.get(old.tokens.refresh_token)).toBe("used");
      expect(fake.issuer.refreshTokens.get(disk.tokens.refresh_token)).toBe("active");
      expect(fake.issuer.refreshCount).toBe(1);
    } finally {
      await impatient.close();
    }
  });

  it("after a dropped answer, a refresh token the issuer already used is 'sign in again', saying that the answer was lost", async () => {
    signIn(-10);
    const oauth = new OAuthClient(await droppingIssuer(1), createDispatcher());
    const manager = new TokenManager({ store, oauth, logger, retryDelaysMs: [10, 10] });
    const error = await manager.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReloginRequiredError);
    expect((error as ReloginRequiredError).code).toBe("refresh_token_reused");
    expect((error as Error).message).toMatch(/answer to our token refresh was lost \(connection reset\)/);
    expect((error as Error).message).not.toContain("another client");
    expect((error as Error).message).toMatch(/Sign in again: codex-proxy login$/);
    // one retry with the same token, said in the log before it was sent; then no loop
    expect(fake.issuer.refreshCount).toBe(2);
    expect(warnings.join("\n")).toMatch(/may already have rotated the refresh token.*Retrying in \d+ ms with the same refresh token/s);
    await expect(manager.getAccessToken()).rejects.toBeInstanceOf(ReloginRequiredError);
    expect(fake.issuer.refreshCount).toBe(2);
  });

  it("a later refresh that hears 'already used' still says that our answer was lost, not that another client used it", async () => {
    signIn(-10);
    // the retries after the lost answer fail for a transient reason: the refresh gives up, the token stays on disk
    const oauth = new OAuthClient(await droppingIssuer(1, () => (fake.issuer.refreshScript = [500, 502].map((status) => ({ status, body: { error: "server_error" } })))), createDispatcher());
    const manager = new TokenManager({ store, oauth, logger, retryDelaysMs: [10, 10] });
    await expect(manager.getAccessToken()).rejects.toThrow(/Could not refresh the ChatGPT access token/);
    const error = await manager.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReloginRequiredError);
    expect((error as Error).message).toMatch(/answer to our token refresh was lost \(connection reset\)/);
    expect(fake.issuer.refreshCount).toBe(4);
  });

  it("after a dropped answer, the issuer that never got to use the token answers the retry", async () => {
    signIn(-10);
    // the answer is lost before the issuer saw the request: the script answers it without rotating the token
    fake.issuer.refreshScript = [{ status: 500, body: { error: "server_error" } }];
    const oauth = new OAuthClient(await droppingIssuer(1), createDispatcher());
    const token = await new TokenManager({ store, oauth, logger, retryDelaysMs: [10, 10] }).getAccessToken();
    expect(token.accessToken).toBe(store.read()!.tokens.access_token);
    expect(fake.issuer.refreshTokens.get(store.read()!.tokens.refresh_token)).toBe("active");
  });

  it("after a dropped answer, a login saved meanwhile is used; the possibly spent token is not sent again", async () => {
    signIn(-10);
    const other = fake.issuer.issueTokens(3600);
    const oauth = new OAuthClient(
      await droppingIssuer(1, () => store.write({ tokens: { ...other, account_id: "acc-123" }, last_refresh: new Date().toISOString(), method: "device" })),
      createDispatcher(),
    );
    const token = await new TokenManager({ store, oauth, logger, retryDelaysMs: [10, 10] }).getAccessToken();
    expect(token.accessToken).toBe(other.access_token);
    expect(fake.issuer.refreshCount).toBe(1);
  });
});
