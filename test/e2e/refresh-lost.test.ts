import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { startDroppingIssuer, type DroppingIssuer } from "../helpers/dropping-issuer.js";
import { signedInConfigDir } from "../helpers/serve.js";

let fake: FakeBackend;
let issuer: DroppingIssuer;
beforeAll(async () => {
  fake = await startFakeBackend();
  issuer = await startDroppingIssuer(fake, 1);
});
afterAll(async () => {
  issuer.close();
  await fake.close();
});

describe("a refresh whose answer is lost on the network", () => {
  it("status --refresh says the answer was lost after the issuer used the token, and to sign in again (exit 1)", async () => {
    const { configDir, refreshToken } = signedInConfigDir(fake, -60);
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: issuer.url, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: configDir, HOME: tempDir() });
    const out = await runCli(["status", "--refresh", "--timeout", "30s"], env);
    expect(out.code, out.stderr).toBe(1);
    expect(out.stderr).toContain("may already have rotated the refresh token");
    expect(out.stderr).toContain(
      "✖ The issuer's answer to our token refresh was lost (connection reset) after it had used up the refresh token (refresh token reused): the new one it sent never arrived. Sign in again: codex-proxy login",
    );
    expect(out.stderr).not.toContain(refreshToken);
    expect(fake.issuer.refreshCount).toBe(2);
    // the store is left as it was: nothing is wiped behind the user's back
    // the login moved into accounts/<key>/ (the single-account auth.json is migrated on first use)
    const [key] = readdirSync(join(configDir, "accounts"));
    expect(JSON.parse(readFileSync(join(configDir, "accounts", key!, "auth.json"), "utf8")).tokens.refresh_token).toBe(refreshToken);
  });
});
