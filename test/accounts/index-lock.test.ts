// accounts.json (which account is preferred, and the order) changed by several processes at once.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend, startFakeBackend } from "../fake-backend/index.js";
import { codexAuthFile } from "../helpers/accounts.js";
import { cliEnv, runCli, tempDir } from "../helpers/cli.js";

describe("accounts.json", () => {
  let fake: FakeBackend;
  beforeAll(async () => {
    fake = await startFakeBackend();
  });
  afterAll(() => fake.close());

  it("eight logins at once each add their account to the order: none is lost", async () => {
    const configDir = join(tempDir(), "config");
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: configDir });
    const identities = Array.from({ length: 8 }, (_, i) => ({ email: `user${i}@example.com`, plan: "plus", accountId: `acc-${i}`, userId: `user-${i}` }));
    const files = identities.map((identity) => codexAuthFile(tempDir(), fake.issuer.issueTokens(3600, identity)));
    const results = await Promise.all(files.map((file) => runCli(["login", "--import", file], env)));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const index = JSON.parse(readFileSync(join(configDir, "accounts.json"), "utf8")) as { preferred: string; order: string[] };
    expect([...index.order].sort()).toEqual(identities.map((i) => `${i.userId}--${i.accountId}`).sort());
    expect(index.order).toContain(index.preferred);
  });
});
