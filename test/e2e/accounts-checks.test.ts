import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { accountDir, IDENTITIES } from "../helpers/accounts.js";
import { accountsCli, useIdentityFake, emails, type StatusJson } from "../helpers/accounts-cli.js";
import { runCli } from "../helpers/cli.js";

// models and doctor with several ChatGPT accounts, and an account whose file is corrupt, through the built CLI.

let fake: FakeBackend;
useIdentityFake((started) => (fake = started));

const { ada, bob, cy } = IDENTITIES;
const setup = () => accountsCli(fake);

describe("models and doctor with several accounts", () => {
  it("models shows the union and marks the models only some accounts' plans offer", async () => {
    const { login, cli } = setup();
    await login(ada);
    await login(bob);
    fake.codex.accounts[ada.email] = { models: ["gpt-5.5", "gpt-5.4-mini"] };
    const text = await cli("models", "--refresh");
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/model\s+context\s+reasoning efforts\s+default\s+tiers\s+accounts\n/);
    expect(text.stdout).toMatch(/gpt-5\.6-sol\s+372k\s+.*fast\s+only bob@example\.com\n/);
    expect(text.stdout).toMatch(/gpt-5\.5\s+272k\s+.*fast\s+all\n/);
    const json = JSON.parse((await cli("models", "--json")).stdout) as { models: { id: string; accounts: string[] }[] };
    expect(Object.fromEntries(json.models.map((m) => [m.id, m.accounts]))).toEqual({
      "gpt-5.5": ["bob@example.com", "ada@example.com"],
      "gpt-5.6-sol": ["bob@example.com"],
      "gpt-5.4-mini": ["bob@example.com", "ada@example.com"],
    });
  });

  it("the same plans: no marks", async () => {
    const { login, cli } = setup();
    await login(ada);
    await login(cy);
    const text = await cli("models");
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toContain("accounts");
    expect(text.stdout).not.toContain("only");
  });

  it("doctor checks every account: its file, tokens, refresh and backend, one line each", async () => {
    const { configDir, login, env } = setup();
    const { tokens } = await login(ada);
    await login(bob);
    fake.issuer.setRefreshState(tokens.refresh_token, "invalidated");
    const before = { ...fake.issuer.refreshCounts };
    const out = await runCli(["doctor"], env);
    expect(out.code).toBe(1);
    for (const who of ["ada@example.com", "bob@example.com"]) {
      for (const name of ["Token file", "Tokens", "Access token", "Token refresh", "Codex backend"]) expect(out.stdout.split(`${name} (${who}):`).length, `${name} of ${who}`).toBe(2);
    }
    expect(out.stdout).toMatch(/✔ Tokens \(bob@example\.com\): preferred; signed in as bob@example\.com \(ChatGPT Pro, account acc-b\)/);
    expect(out.stdout).toMatch(/✔ Tokens \(ada@example\.com\): signed in as ada@example\.com \(ChatGPT Plus, account acc-a\)/);
    expect(out.stdout).toMatch(/✖ Token refresh \(ada@example\.com\): .*Sign in again/);
    expect(out.stdout).toContain("✔ Token refresh (bob@example.com): the issuer issued a new access token");
    expect(out.stdout).toMatch(/✔ Codex backend \(bob@example\.com\): .* answers \(3 models\)/);
    expect(fake.issuer.refreshCounts[bob.email]! - (before[bob.email] ?? 0)).toBe(1);
    expect(out.stdout).toContain("1 problem found");
    // no token of either account is printed, the refreshed ones included
    for (const who of [ada, bob]) {
      const { tokens: saved } = JSON.parse(readFileSync(join(accountDir(configDir, who), "auth.json"), "utf8")) as { tokens: Record<string, string> };
      for (const key of ["id_token", "access_token", "refresh_token"]) expect(out.stdout + out.stderr).not.toContain(saved[key]!.slice(-24));
    }
    // and status knows: ada needs a new login
    const status = JSON.parse((await runCli(["status", "--json"], env)).stdout) as StatusJson;
    expect(status.accounts.find((a) => a.email === ada.email)).toMatchObject({ needsLogin: true });
  });
});

describe("an account whose file is corrupt", () => {
  it("is listed with its problem (exit 1) while the others work; its next login replaces it and keeps the bad file aside", async () => {
    const { configDir, login, cli, status } = setup();
    await login(ada);
    await login(bob);
    const file = join(accountDir(configDir, ada), "auth.json");
    writeFileSync(file, "{ not json");
    const out = await cli("status");
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`The token store ${file} is corrupt (not valid JSON)`);
    expect(out.stdout).toContain("★ bob@example.com (preferred)");
    expect((await cli("models")).code).toBe(0);
    const again = await login(ada);
    expect(again.stdout).toContain("Signed in as ada@example.com (ChatGPT Plus) — added; 2 accounts, this one preferred");
    expect(again.stderr).toContain("The old token store was corrupt; it was kept as");
    expect(emails(await status())).toEqual(["ada@example.com *", "bob@example.com"]);
  });
});
