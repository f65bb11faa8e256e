import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
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

  it("replaces a link planted at auth.json instead of writing the tokens through it", () => {
    const dir = join(tempDir(), "codex-proxy");
    mkdirSync(dir, { mode: 0o700 });
    const elsewhere = join(tempDir(), "elsewhere.json");
    writeFileSync(elsewhere, "{}");
    symlinkSync(elsewhere, join(dir, "auth.json"));
    new TokenStore(dir).write(auth);
    expect(readFileSync(elsewhere, "utf8")).toBe("{}");
    expect(lstatSync(join(dir, "auth.json")).isSymbolicLink()).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes(".tmp"))).toEqual([]);
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

  it.each([
    ["a list", []],
    ["an empty token", { ...auth, tokens: { ...auth.tokens, access_token: "" } }],
    ["a missing token", { ...auth, tokens: { id_token: "a", access_token: "b" } }],
    ["a numeric account", { ...auth, tokens: { ...auth.tokens, account_id: 7 } }],
    ["a refresh time that is no date-time", { ...auth, last_refresh: "yesterday" }],
    ["an unknown method", { ...auth, method: "carrier pigeon" }],
  ])("rejects %s, naming the field", (_, content) => {
    const store = new TokenStore(tempDir());
    store.write(auth);
    writeFileSync(store.path, JSON.stringify(content));
    expect(() => store.read()).toThrow(/corrupt \(unexpected content: /);
  });

  it("accepts what the Codex CLI writes (a null account, extra fields)", () => {
    const store = new TokenStore(tempDir());
    store.write(auth);
    writeFileSync(store.path, JSON.stringify({ OPENAI_API_KEY: null, ...auth, tokens: { ...auth.tokens, account_id: null }, last_refresh: "2026-11-21T10:00:00.123456789Z" }));
    expect(store.read()!.tokens.account_id).toBeNull();
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

  describe("recover(): a writer killed before its rename", () => {
    const leftover = (store: TokenStore, name: string, refresh: string, lastRefresh: string, mtime: Date) => {
      const path = join(store.dir, `auth.json.tmp-${name}`);
      writeFileSync(path, JSON.stringify({ ...auth, tokens: { ...auth.tokens, refresh_token: refresh }, last_refresh: lastRefresh }), { mode: 0o600 });
      utimesSync(path, mtime, mtime);
      return path;
    };

    it("puts the newest complete leftover in place and drops the rest", () => {
      const store = new TokenStore(tempDir());
      store.write(auth);
      const disk = statSync(store.path).mtime;
      const later = (s: number) => new Date(disk.getTime() + s * 1000);
      leftover(store, "1", "rt_older", "2026-11-21T09:00:00.000Z", new Date(disk.getTime() - 5000));
      leftover(store, "2", "rt_newer", "2026-11-21T11:00:00.000Z", later(1));
      leftover(store, "3", "rt_newest", "2026-11-21T12:00:00.000Z", later(2));
      writeFileSync(join(store.dir, "auth.json.tmp-4"), '{"tokens":{"id_tok'); // killed mid-write
      utimesSync(join(store.dir, "auth.json.tmp-4"), later(3), later(3));
      expect(store.recover()).toBe(true);
      expect(store.read()!.tokens.refresh_token).toBe("rt_newest");
      expect(readdirSync(store.dir).sort()).toEqual(["auth.json", "auth.json.tmp-4"]);
      expect(store.recover()).toBe(false);
    });

    it("with equal mtimes (a file system with coarse times), the later refresh inside wins", () => {
      const store = new TokenStore(tempDir());
      store.write(auth);
      const disk = statSync(store.path).mtime;
      utimesSync(store.path, disk, disk);
      leftover(store, "1", "rt_rotated", "2026-11-21T10:00:01.000Z", disk);
      expect(store.recover()).toBe(true);
      expect(store.read()!.tokens.refresh_token).toBe("rt_rotated");
    });

    it("after logout nothing comes back", () => {
      const store = new TokenStore(tempDir());
      store.write(auth);
      leftover(store, "1", "rt_rotated", "2026-11-21T11:00:00.000Z", new Date(Date.now() + 5000));
      expect(store.delete()).toBe(true);
      expect(store.recover()).toBe(false);
      expect(readdirSync(store.dir)).toEqual([]);
    });
  });
});
