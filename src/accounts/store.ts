import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../_utils/atomic-write.js";
import { acquireLock } from "../auth/file-lock.js";
import { readAccountClaims } from "../auth/jwt.js";
import { StoreCorruptError, TokenStore, type StoredAuth } from "../auth/token-store.js";
import { AccountNotFoundError, AmbiguousAccountError } from "./errors.js";

/** One signed-in ChatGPT account on disk: `accounts/<key>/` holds its tokens, usage figures and model list. */
export interface AccountRecord {
  /** the directory name, from the user id and the workspace id */
  key: string;
  dir: string;
  store: TokenStore;
  email: string | null;
  accountId: string | null;
  userId: string | null;
  plan: string | null;
  preferred: boolean;
  /** its `auth.json` cannot be read; the other accounts carry on */
  problem?: StoreCorruptError;
}

interface Index {
  /** the account used first (failover) and by the single-account commands */
  preferred?: string;
  /** the order accounts were added in: the failover order after the preferred one */
  order: string[];
}

export interface SaveResult {
  account: AccountRecord;
  /** false when the account was stored already and only its tokens were replaced */
  added: boolean;
  count: number;
  /** a corrupt store file moved aside to make room */
  quarantined?: string;
}

/**
 * Every signed-in account, in `<configDir>/accounts/<key>/auth.json` (0600, in 0700 directories, written
 * atomically) and `accounts.json` (which is preferred, and the order). Each account keeps its own files, so
 * each refreshes under its own lock. A `<configDir>/auth.json` from the single-account versions is moved into
 * place on first use: nothing for the user to do.
 */
export class AccountStore {
  readonly dir: string;
  readonly indexPath: string;
  /** where versions before several accounts kept the one login */
  readonly legacy: TokenStore;

  constructor(readonly configDir: string) {
    this.dir = join(configDir, "accounts");
    this.indexPath = join(configDir, "accounts.json");
    this.legacy = new TokenStore(configDir);
  }

  /**
   * The accounts, the preferred first, then in the order they were added; an account whose file is corrupt has a
   * `problem`. Throws {@link StoreCorruptError} for a corrupt old-style store (serve answers it as a 401 naming it).
   */
  list(): AccountRecord[] {
    this.#migrateLegacy();
    const index = this.#readIndex();
    const keys = this.#keys();
    const order = [...index.order.filter((k) => keys.includes(k)), ...keys.filter((k) => !index.order.includes(k)).sort()];
    const preferred = index.preferred && keys.includes(index.preferred) ? index.preferred : order[0];
    const records = order.map((key) => this.#record(key, key === preferred));
    return records.sort((a, b) => Number(b.preferred) - Number(a.preferred));
  }

  preferred(): AccountRecord | undefined {
    return this.list()[0];
  }

  /** A cheap fingerprint that changes when an account is added, removed or switched (not on a token refresh). */
  fingerprint(): string {
    const mtime = (path: string) => {
      try {
        return statSync(path).mtimeMs;
      } catch {
        return 0;
      }
    };
    return `${mtime(this.dir)}:${mtime(this.indexPath)}:${mtime(this.legacy.path)}`;
  }

  /**
   * Store a login: adds the account, or replaces its tokens when it is stored already, and makes it the
   * preferred one (as `gh auth login` does).
   */
  save(auth: StoredAuth): SaveResult {
    let quarantined: string | undefined;
    try {
      this.#migrateLegacy();
    } catch (error) {
      if (!(error instanceof StoreCorruptError)) throw error;
      quarantined = quarantine(this.legacy);
    }
    // usage figures and a model list an older logout left behind belong to no account: never show them as this one's
    if (!existsSync(this.legacy.path)) for (const name of LEGACY_CACHES) rmSync(join(this.configDir, name), { force: true });
    const key = accountKey(auth);
    const store = new TokenStore(join(this.dir, key));
    let added = true;
    try {
      added = store.read() === undefined;
    } catch {
      quarantined = quarantine(store);
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    store.write(auth);
    this.#updateIndex((index) => ({ preferred: key, order: index.order.includes(key) ? index.order : [...index.order, key] }));
    const records = this.list();
    return { account: records.find((r) => r.key === key)!, added, count: records.length, ...(quarantined ? { quarantined } : {}) };
  }

  setPreferred(key: string): void {
    this.#updateIndex((index) => ({ ...index, preferred: key }));
  }

  /**
   * Remove an account's tokens, usage figures and model list; returns the files removed. Waits for a refresh
   * another process is making for it, so that the refresh cannot write the account back.
   */
  async remove(record: AccountRecord): Promise<string[]> {
    const release = await acquireLock(`${record.store.path}.lock`);
    const removed: string[] = [];
    try {
      for (const name of readdirSafe(record.dir)) if (!name.endsWith(".lock")) removed.push(join(record.dir, name));
      record.store.delete();
      for (const path of removed) rmSync(path, { recursive: true, force: true });
    } finally {
      release();
    }
    // only when empty: a login of this account that came in after the lock was released stays
    try {
      rmdirSync(record.dir);
    } catch {
      // not empty (that login), or gone
    }
    this.#updateIndex((index) => {
      const order = index.order.filter((k) => k !== record.key);
      return { preferred: index.preferred === record.key ? order[0] : index.preferred, order };
    });
    return removed.filter((path) => !path.includes(".tmp-"));
  }

  /** The account `who` names: its email (any case), its key, or its workspace id when only one signed-in user has it. */
  find(who: string, records: AccountRecord[] = this.list()): AccountRecord {
    const wanted = who.trim().toLowerCase();
    const exact = records.find((r) => r.key === who || r.email?.toLowerCase() === wanted);
    if (exact) return exact;
    const byWorkspace = records.filter((r) => r.accountId === who.trim());
    if (byWorkspace.length === 1) return byWorkspace[0]!;
    if (byWorkspace.length > 1) throw new AmbiguousAccountError(who, byWorkspace.map((r) => r.email ?? r.key));
    throw new AccountNotFoundError(who, records.map((r) => r.email ?? r.accountId ?? r.key));
  }

  #keys(): string[] {
    return readdirSafe(this.dir).filter((name) => existsSync(join(this.dir, name, "auth.json")));
  }

  #record(key: string, preferred: boolean): AccountRecord {
    const dir = join(this.dir, key);
    const store = new TokenStore(dir);
    const base = { key, dir, store, preferred, email: null, accountId: null, userId: null, plan: null };
    let auth: StoredAuth | undefined;
    try {
      auth = store.read();
    } catch (error) {
      if (error instanceof StoreCorruptError) return { ...base, problem: error };
      throw error;
    }
    if (!auth) return base;
    const claims = readAccountClaims(auth.tokens.id_token, auth.tokens.access_token);
    return { ...base, email: claims.email ?? null, accountId: auth.tokens.account_id ?? claims.accountId ?? null, userId: claims.userId ?? null, plan: claims.plan ?? null };
  }

  /** Move the single-account `auth.json` (and its usage figures, model list and unfinished writes) into `accounts/`. */
  #migrateLegacy(): void {
    if (!existsSync(this.legacy.path)) return;
    const auth = this.legacy.read(); // a corrupt one throws, as it did before: `login` moves it aside, `logout` removes it
    if (!auth) {
      rmSync(this.legacy.path, { force: true });
      return;
    }
    const key = accountKey(auth);
    const target = join(this.dir, key);
    mkdirSync(target, { recursive: true, mode: 0o700 });
    const moved = new TokenStore(target);
    // Unfinished writes move first (recover() keeps only one newer than auth.json), then auth.json unless a newer
    // login of the same account is in the new place already. Another process may be moving the same files right
    // now: what it moved first is simply not there any more.
    for (const name of readdirSafe(this.configDir)) {
      if (name.startsWith("auth.json.tmp-")) moveIfThere(join(this.configDir, name), join(target, name));
    }
    const legacyMtime = mtimeOf(this.legacy.path);
    if (legacyMtime === undefined) return;
    if ((mtimeOf(moved.path) ?? -Infinity) >= legacyMtime) rmSync(this.legacy.path, { force: true });
    else moveIfThere(this.legacy.path, moved.path);
    for (const name of LEGACY_CACHES) {
      const from = join(this.configDir, name);
      if (!existsSync(join(target, name))) moveIfThere(from, join(target, name));
      else rmSync(from, { force: true });
    }
    this.#updateIndex((index) => ({ preferred: index.preferred ?? key, order: index.order.includes(key) ? index.order : [...index.order, key] }));
  }

  #readIndex(): Index {
    try {
      const data = JSON.parse(readFileSync(this.indexPath, "utf8")) as Partial<Index>;
      return {
        preferred: typeof data.preferred === "string" ? data.preferred : undefined,
        order: Array.isArray(data.order) ? data.order.filter((k): k is string => typeof k === "string") : [],
      };
    } catch {
      return { order: [] }; // missing or unreadable: the directory is the truth, this is only the order
    }
  }

  /**
   * Change `accounts.json` under a short lock: a `login` and a `switch` at the same moment must not lose each
   * other's change. The lock is held for a read and a write, so a lock older than a few seconds is a dead holder's.
   */
  #updateIndex(change: (index: Index) => Index): void {
    mkdirSync(this.configDir, { recursive: true, mode: 0o700 });
    const lock = `${this.indexPath}.lock`;
    for (let tries = 0; ; tries++) {
      try {
        closeSync(openSync(lock, "wx", 0o600));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        if (tries > 500 || Date.now() - (mtimeOf(lock) ?? Date.now()) > 5000) rmSync(lock, { force: true });
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // a synchronous 10 ms wait
      }
    }
    try {
      this.#writeIndex(change(this.#readIndex()));
    } finally {
      rmSync(lock, { force: true });
    }
  }

  #writeIndex(index: Index): void {
    mkdirSync(this.configDir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.indexPath, `${JSON.stringify(index, null, 2)}\n`);
  }
}

/** The single-account versions' usage figures and model list, next to their `auth.json`. */
const LEGACY_CACHES = ["usage.json", "models-cache.json"];

/** An account's directory name: the user and the workspace (two members of one workspace share its id). */
export function accountKey(auth: StoredAuth): string {
  const claims = readAccountClaims(auth.tokens.id_token, auth.tokens.access_token);
  const user = claims.userId ?? claims.email ?? "user";
  const workspace = auth.tokens.account_id ?? claims.accountId ?? "personal";
  return `${safe(user)}--${safe(workspace)}`;
}

/** Letters, digits and `._@-` only, never `.` or `..`: the claims come from a token, not from us. */
function safe(part: string): string {
  const cleaned = part.replace(/[^A-Za-z0-9._@-]/g, "_").slice(0, 80);
  return /^\.+$/.test(cleaned) ? cleaned.replace(/\./g, "_") : cleaned;
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function moveIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** Move a corrupt store aside; undefined when another process moved or removed it meanwhile. */
function quarantine(store: TokenStore): string | undefined {
  try {
    return store.quarantine();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
