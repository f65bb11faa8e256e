import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { accountDir, codexAuthFile, IDENTITIES } from "../helpers/accounts.js";
import { accountsCli, emails } from "../helpers/accounts-cli.js";
import { runCli, tempDir } from "../helpers/cli.js";

// A store from the single-account versions (`<configDir>/auth.json`) is read as one account and moved into accounts/.

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

const { ada, bob } = IDENTITIES;
const mode = (path: string) => statSync(path).mode & 0o777;

const setup = () => accountsCli(fake);

describe("an old single-account store", () => {
  /** `<configDir>/auth.json` (with usage figures and a model list) as versions before several accounts wrote it */
  function legacyStore(configDir: string, tokens: ReturnType<FakeBackend["issuer"]["issueTokens"]>) {
    mkdirSync(configDir, { recursive: true, mode: 0o700 });
    const auth = { tokens: { ...tokens, account_id: ada.accountId }, last_refresh: new Date(Date.now() - 60_000).toISOString(), method: "browser" };
    writeFileSync(join(configDir, "auth.json"), JSON.stringify(auth), { mode: 0o600 });
    writeFileSync(join(configDir, "usage.json"), JSON.stringify({ primary: { usedPercent: 64, windowMinutes: 300 }, observedAt: Date.now() }), { mode: 0o600 });
    writeFileSync(join(configDir, "models-cache.json"), JSON.stringify({ fetchedAt: 1, models: [] }), { mode: 0o600 });
    return auth;
  }

  it("is read as one account: moved into accounts/ with its usage figures, nothing to do", async () => {
    const { configDir, cli, status } = setup();
    const tokens = fake.issuer.issueTokens(3600, ada);
    legacyStore(configDir, tokens);
    const json = await status();
    expect(json).toMatchObject({ email: "ada@example.com", accountId: "acc-a" });
    expect(emails(json)).toEqual(["ada@example.com *"]);
    expect(json.accounts[0]!.usage).toMatchObject({ primary: { usedPercent: 64 } });
    for (const name of ["auth.json", "usage.json", "models-cache.json"]) {
      expect(existsSync(join(configDir, name)), name).toBe(false);
      expect(existsSync(join(accountDir(configDir, ada), name)), name).toBe(true);
    }
    const moved = JSON.parse(readFileSync(join(accountDir(configDir, ada), "auth.json"), "utf8"));
    expect(moved.tokens.refresh_token).toBe(tokens.refresh_token);
    expect(mode(join(accountDir(configDir, ada), "auth.json"))).toBe(0o600);
    // and it works: the next login adds the second account beside it
    const bobLogin = await cli("login", "--import", codexAuthFile(tempDir(), fake.issuer.issueTokens(3600, bob)));
    expect(bobLogin.stdout).toContain("added; 2 accounts");
  });

  it("a rotated refresh token left in auth.json.tmp-* by a killed refresh moves along and is recovered on the next refresh", async () => {
    const { configDir, cli, status } = setup();
    const old = fake.issuer.issueTokens(-60, ada);
    const auth = legacyStore(configDir, old);
    // the old version refreshed (the issuer rotated the token) and was killed before renaming its temp file
    const rotated = fake.issuer.issueTokens(-60, ada);
    fake.issuer.setRefreshState(old.refresh_token, "used");
    const leftover = join(configDir, "auth.json.tmp-0123456789abcdef");
    writeFileSync(leftover, JSON.stringify({ ...auth, tokens: { ...rotated, account_id: ada.accountId }, last_refresh: new Date().toISOString() }), { mode: 0o600 });
    const later = new Date(Date.now() + 5_000);
    utimesSync(leftover, later, later);

    expect(emails(await status())).toEqual(["ada@example.com *"]);
    expect(readdirSync(accountDir(configDir, ada))).toContain("auth.json.tmp-0123456789abcdef");
    const before = fake.issuer.refreshCounts[ada.email] ?? 0;
    const refreshed = await cli("status", "--refresh");
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stderr).not.toContain("reused");
    expect((fake.issuer.refreshCounts[ada.email] ?? 0) - before).toBe(1);
    const stored = JSON.parse(readFileSync(join(accountDir(configDir, ada), "auth.json"), "utf8"));
    expect(fake.issuer.refreshTokens.get(stored.tokens.refresh_token)).toBe("active");
    expect(fake.issuer.refreshTokens.get(rotated.refresh_token)).toBe("used"); // it was the one spent
    expect(readdirSync(accountDir(configDir, ada)).filter((name) => name.includes(".tmp-"))).toEqual([]);
  });

  it("a corrupt one is named by status (exit 1) and removed by logout --yes, which says what to run without --yes", async () => {
    const { configDir, cli } = setup();
    mkdirSync(configDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(configDir, "auth.json"), "{ not json", { mode: 0o600 });
    const status = await cli("status");
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`The token store ${join(configDir, "auth.json")} is corrupt`);
    const unconfirmed = await cli("logout");
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("run `codex-proxy logout --yes`");
    const out = await cli("logout", "--yes");
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`Removed the corrupt token store ${join(configDir, "auth.json")}`);
    expect(existsSync(join(configDir, "auth.json"))).toBe(false);
  });

  it("several processes starting at once move it once and all see the account", async () => {
    const { configDir, env } = setup();
    legacyStore(configDir, fake.issuer.issueTokens(3600, ada));
    const runs = await Promise.all(Array.from({ length: 6 }, () => runCli(["status", "--json"], env)));
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).email).toBe("ada@example.com");
    }
    expect(existsSync(join(configDir, "auth.json"))).toBe(false);
    expect(readdirSync(join(configDir, "accounts"))).toEqual([`${ada.userId}--${ada.accountId}`]);
  });
});
