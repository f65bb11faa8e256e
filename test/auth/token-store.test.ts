import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StoreCorruptError, TokenStore, type StoredAuth } from "../../src/auth/token-store.js";
import { tempDir } from "../helpers/cli.js";

const auth: StoredAuth = {
  tokens: { id_token: "id.tok.en", access_token: "acc.tok.en", refresh_token: "rt_0123456789", account_id: "acc-1" },
  last_refresh: "2026-11-21T10:00:00.000Z",
  method: "browser",
};

describe("TokenStore", () => {
  it("writes the file 0600 in a 0700 directory and reads it back", () => {
    const dir = join(tempDir(), "nested", "codex-proxy");
    const store = new TokenStore(dir);
    store.write(auth);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(store.read()).toEqual(auth);
    expect(JSON.parse(readFileSync(store.path, "utf8")).tokens.refresh_token).toBe("rt_0123456789");
  });

  it("reading a missing store creates nothing", () => {
    const dir = join(tempDir(), "absent");
    expect(new TokenStore(dir).read()).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  });

  it("names the file when it is not JSON, and leaves it alone", () => {
    const store = new TokenStore(tempDir());
    store.write(auth);
    writeFileSync(store.path, "{not json");
    expect(() => store.read()).toThrow(StoreCorruptError);
    expect(() => store.read()).toThrow(store.path);
    expect(readFileSync(store.path, "utf8")).toBe("{not json");
  });

  it("rejects content that breaks the schema", () => {
    const store = new TokenStore(tempDir());
    store.write(auth);
    writeFileSync(store.path, JSON.stringify({ tokens: { id_token: 5 } }));
    expect(() => new TokenStore(store.dir).read()).toThrow(/corrupt .*unexpected content/);
  });

  it("quarantines a corrupt file instead of deleting it", () => {
    const store = new TokenStore(tempDir());
    store.write(auth);
    writeFileSync(store.path, "garbage");
    const aside = store.quarantine();
    expect(readFileSync(aside, "utf8")).toBe("garbage");
    store.write(auth);
    expect(store.read()).toEqual(auth);
    expect(readdirSync(store.dir).some((f) => f.startsWith("auth.json.corrupt-"))).toBe(true);
  });
});
