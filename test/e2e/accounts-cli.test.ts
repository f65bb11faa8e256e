import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { accountDir, codexAuthFile, IDENTITIES } from "../helpers/accounts.js";
import { accountsCli, useIdentityFake, emails } from "../helpers/accounts-cli.js";
import { runCli, startCli, tempDir } from "../helpers/cli.js";
import { startInPty } from "../helpers/pty.js";

// Several ChatGPT accounts through the built CLI: login adds, switch picks, status lists, logout removes.

let fake: FakeBackend;
useIdentityFake((started) => (fake = started));

const { ada, bob, cy } = IDENTITIES;

const setup = () => accountsCli(fake);
const mode = (path: string) => statSync(path).mode & 0o777;

describe("login adds accounts", () => {
  it("a second identity is added and preferred; the same identity again renews its tokens; files stay 0600 in 0700 dirs", async () => {
    const { configDir, login, status, cli } = setup();
    const first = await login(ada);
    expect(first.stdout).toContain("Signed in as ada@example.com (ChatGPT Plus)");
    expect(first.stdout).not.toMatch(/added|renewed/);

    const second = await login(bob);
    expect(second.stdout).toContain("Signed in as bob@example.com (ChatGPT Pro) — added; 2 accounts, this one preferred");
    expect(emails(await status())).toEqual(["bob@example.com *", "ada@example.com"]);

    const again = await cli("login", "--import", codexAuthFile(tempDir(), fake.issuer.issueTokens(3600, ada)), "--json");
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ email: "ada@example.com", added: false, preferred: true, accounts: 2 });
    const text = await login(ada);
    expect(text.stdout).toContain("Signed in as ada@example.com (ChatGPT Plus) — its tokens were renewed; 2 accounts, this one preferred");
    const now = await status();
    expect(emails(now)).toEqual(["ada@example.com *", "bob@example.com"]);
    const stored = JSON.parse(readFileSync(join(accountDir(configDir, ada), "auth.json"), "utf8"));
    expect(stored.tokens.refresh_token).toBe(text.tokens.refresh_token);

    for (const identity of [ada, bob]) {
      expect(mode(join(accountDir(configDir, identity), "auth.json"))).toBe(0o600);
      expect(mode(accountDir(configDir, identity))).toBe(0o700);
    }
    expect(mode(join(configDir, "accounts"))).toBe(0o700);
    expect(mode(join(configDir, "accounts.json"))).toBe(0o600);
    expect(mode(configDir)).toBe(0o700);
  });

  it("a device-code login adds its account too", async () => {
    const { login, env, status } = setup();
    await login(ada);
    const original = fake.issuer.account;
    fake.issuer.account = bob;
    try {
      const run = startCli(["login", "--device"], env);
      const [, code] = await run.waitFor(/Enter the code ([A-F0-9]{4}-[A-F0-9]{4})/);
      fake.issuer.approveDevice(code!);
      expect(await run.exited, run.stderr()).toBe(0);
      expect(run.stdout()).toContain("Signed in as bob@example.com (ChatGPT Pro) — added; 2 accounts, this one preferred");
    } finally {
      fake.issuer.account = original;
    }
    expect(emails(await status())).toEqual(["bob@example.com *", "ada@example.com"]);
  });
});

describe("status with several accounts", () => {
  it("lists every account in text and JSON, and keeps the preferred account's fields at the top", async () => {
    const { login, cli, status } = setup();
    await login(ada);
    await login(bob);
    const text = await cli("status");
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("2 ChatGPT accounts");
    expect(text.stdout).toMatch(/★ bob@example\.com \(preferred\)\n\s+plan\s+Pro\n\s+account id\s+acc-b/);
    expect(text.stdout).toMatch(/• ada@example\.com\n\s+plan\s+Plus\n\s+account id\s+acc-a/);
    const json = await status();
    expect(json).toMatchObject({ email: "bob@example.com", accountId: "acc-b", plan: "pro" });
    expect(json.accounts).toEqual([
      { email: "bob@example.com", accountId: "acc-b", plan: "pro", preferred: true, accessTokenExpiresAt: expect.any(String), usage: null, limitedUntil: null, needsLogin: false },
      { email: "ada@example.com", accountId: "acc-a", plan: "plus", preferred: false, accessTokenExpiresAt: expect.any(String), usage: null, limitedUntil: null, needsLogin: false },
    ]);
  });

  it("--refresh in several processes at once refreshes each expired account exactly once", async () => {
    const { login, env } = setup();
    await login(ada, -60);
    await login(bob, -60);
    const before = { ...fake.issuer.refreshCounts };
    const runs = await Promise.all(Array.from({ length: 4 }, () => runCli(["status", "--refresh", "--json"], env)));
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      for (const account of JSON.parse(run.stdout).accounts) expect(Date.parse(account.accessTokenExpiresAt)).toBeGreaterThan(Date.now());
    }
    for (const who of [ada, bob]) expect((fake.issuer.refreshCounts[who.email] ?? 0) - (before[who.email] ?? 0), who.email).toBe(1);
  });

  it("--refresh shows each account's own usage, a limited one's reset, and one that needs login (exit 1)", async () => {
    const { login, cli, status } = setup();
    const { tokens: adaTokens } = await login(ada, -60);
    await login(bob);
    await login(cy);
    const resetsAt = Math.floor(Date.now() / 1000) + 3 * 3600;
    fake.codex.accounts[bob.email] = { usage: { primary: 30, secondary: 5 }, limitedUntil: resetsAt };
    fake.codex.accounts[cy.email] = { usage: { primary: 55, secondary: 21 } };
    fake.issuer.setRefreshState(adaTokens.refresh_token, "invalidated");
    const out = await cli("status", "--refresh");
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("Could not update the usage limits of ada@example.com");
    expect(out.stderr).toContain("Sign in again");
    expect(out.stdout).toMatch(/• bob@example\.com\n[^•]*limited until .*requests go to another account/);
    expect(out.stdout).toMatch(/• ada@example\.com\n[^•]*needs login/);
    const json = await status();
    const byEmail = Object.fromEntries(json.accounts.map((a) => [a.email, a]));
    expect(byEmail[bob.email]!.limitedUntil).toBe(new Date(resetsAt * 1000).toISOString());
    expect(byEmail[bob.email]!.usage).toMatchObject({ primary: { usedPercent: 100 }, secondary: { usedPercent: 5 } });
    expect(byEmail[cy.email]!.usage).toMatchObject({ primary: { usedPercent: 55 }, secondary: { usedPercent: 21 } });
    expect(byEmail[cy.email]).toMatchObject({ limitedUntil: null, needsLogin: false });
    expect(byEmail[ada.email]).toMatchObject({ needsLogin: true, usage: null });
  });
});

describe("switch", () => {
  it("by email or by a workspace id only one user has; an id two users share, an unknown name and no name are errors", async () => {
    const { login, cli, status } = setup();
    await login(ada);
    await login(bob);
    await login(cy); // ada and cy are two users of the workspace acc-a

    const byEmail = await cli("switch", "ADA@example.com");
    expect(byEmail.code, byEmail.stderr).toBe(0);
    expect(byEmail.stdout).toContain("ada@example.com is now the preferred account");
    expect(emails(await status())).toEqual(["ada@example.com *", "bob@example.com", "cy@example.com"]);

    const byId = await cli("switch", "acc-b");
    expect(byId.code, byId.stderr).toBe(0);
    expect((await status()).email).toBe("bob@example.com");

    const shared = await cli("switch", "acc-a");
    expect(shared.code).toBe(1);
    expect(shared.stderr).toContain('The workspace "acc-a" has several signed-in users (ada@example.com, cy@example.com); name one by its email.');

    const unknown = await cli("switch", "dan@example.com");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No signed-in account is "dan@example.com"; the accounts are bob@example.com, ada@example.com, cy@example.com.');

    const bare = await cli("switch");
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("Name the account: codex-proxy switch <email|account-id> (signed in: bob@example.com, ada@example.com, cy@example.com)");
    expect((await status()).email).toBe("bob@example.com"); // nothing changed
  });

  it("in a terminal, without a name, offers a menu of the accounts; Ctrl-C changes nothing", async () => {
    const { login, env, status } = setup();
    await login(ada);
    await login(bob);
    const run = startInPty(["switch"], env);
    await run.waitFor(/Which account should be preferred\?[\s\S]*bob@example\.com \(ChatGPT Pro, preferred now\)[\s\S]*ada@example\.com \(ChatGPT Plus\)/);
    run.type("\x1b[B\r"); // down to ada, Enter
    await run.waitFor(/ada@example\.com is now the preferred account/);
    expect(await run.exited).toBe(0);
    expect((await status()).email).toBe("ada@example.com");

    const cancelled = startInPty(["switch"], env);
    await cancelled.waitFor(/Which account should be preferred\?/);
    cancelled.type("\x03");
    await cancelled.waitFor(/Switch cancelled; nothing was changed/);
    expect(await cancelled.exited).toBe(130);
    expect((await status()).email).toBe("ada@example.com");
  });

  it("without any account says to log in", async () => {
    const { cli } = setup();
    const out = await cli("switch", "ada@example.com");
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("Not signed in: run `codex-proxy login` first.");
  });
});

describe("logout with several accounts", () => {
  it("removes the named account only, the preferred by default (the next becomes preferred), or all with --all", async () => {
    const { configDir, login, cli, status } = setup();
    await login(ada);
    await login(bob);
    await login(cy);
    expect(emails(await status())).toEqual(["cy@example.com *", "ada@example.com", "bob@example.com"]);

    const one = await cli("logout", "bob@example.com", "--yes");
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain("Signed out bob@example.com");
    expect(one.stdout).toContain("2 accounts left; preferred: cy@example.com");
    expect(existsSync(accountDir(configDir, bob))).toBe(false);
    expect(emails(await status())).toEqual(["cy@example.com *", "ada@example.com"]);

    const preferred = await cli("logout", "--yes", "--json");
    expect(preferred.code, preferred.stderr).toBe(0);
    expect(JSON.parse(preferred.stdout)).toMatchObject({ accounts: [{ email: "cy@example.com" }], remaining: 1, preferred: "ada@example.com" });
    expect(emails(await status())).toEqual(["ada@example.com *"]);

    await login(bob);
    const both = await cli("logout", "bob@example.com", "--all", "--yes");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("Name one account or use --all, not both.");
    const unconfirmed = await cli("logout", "--all");
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("Nothing was removed: there is no terminal to confirm in. To log out, run `codex-proxy logout --all --yes`.");
    const unconfirmedOne = await cli("logout", "bob@example.com");
    expect(unconfirmedOne.stderr).toContain("run `codex-proxy logout bob@example.com --yes`");
    expect((await status()).accounts).toHaveLength(2);

    const all = await cli("logout", "--all", "--yes");
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain("Signed out bob@example.com, ada@example.com");
    expect(readdirSync(join(configDir, "accounts"))).toEqual([]);
    const none = await cli("status");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("Not signed in");
  });

  it("in a terminal, logout --all asks once, naming every account", async () => {
    const { configDir, login, env } = setup();
    await login(ada);
    await login(bob);
    const run = startInPty(["logout", "--all"], env);
    await run.waitFor(/Sign out bob@example\.com, ada@example\.com and delete their tokens[^?]*\?\s*\(\s*y\/N\)/); // the terminal may wrap the line
    run.type("y\r");
    await run.waitFor(/Signed out bob@example\.com, ada@example\.com/);
    expect(await run.exited).toBe(0);
    expect(readdirSync(join(configDir, "accounts"))).toEqual([]);
  });

  it("an unknown account is an error that lists the signed-in ones, and removes nothing", async () => {
    const { login, cli, status } = setup();
    await login(ada);
    const out = await cli("logout", "bob@example.com", "--yes");
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('No signed-in account is "bob@example.com"; the accounts are ada@example.com.');
    expect(emails(await status())).toEqual(["ada@example.com *"]);
  });
});
