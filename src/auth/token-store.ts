import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { tempPrefix, writeFileAtomic } from "../_utils/atomic-write.js";
import { errorMessage } from "../errors.js";
import { StoreCorruptError, StoreWriteError } from "./errors.js";

export { StoreCorruptError };
import { registerSecret } from "../_utils/redact.js";

export type LoginMethod = "browser" | "device" | "import" | "paste";

/** What `auth.json` in the config dir holds. The token fields match the Codex CLI's `auth.json`. */
export interface StoredAuth {
  tokens: {
    id_token: string;
    access_token: string;
    refresh_token: string;
    account_id: string | null;
  };
  /** RFC 3339 time of the last login or refresh */
  last_refresh: string;
  /** how this login was made */
  method: LoginMethod;
}

const METHODS: readonly string[] = ["browser", "device", "import", "paste"] satisfies LoginMethod[];
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** What is wrong with the parsed file, or undefined (a hand-written check: a schema validator costs ~150 ms of start). */
function schemaProblem(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return "must be an object";
  const { tokens, last_refresh: lastRefresh, method } = data as Record<string, unknown>;
  if (tokens !== undefined) {
    if (typeof tokens !== "object" || tokens === null || Array.isArray(tokens)) return "tokens must be an object";
    const t = tokens as Record<string, unknown>;
    for (const key of ["id_token", "access_token", "refresh_token"]) {
      if (typeof t[key] !== "string" || !(t[key] as string).length) return `tokens.${key} must be a non-empty string`;
    }
    if (t.account_id !== undefined && t.account_id !== null && typeof t.account_id !== "string") return "tokens.account_id must be a string or null";
  }
  if (lastRefresh !== undefined && (typeof lastRefresh !== "string" || !RFC3339.test(lastRefresh))) return "last_refresh must be an RFC 3339 date-time";
  if (method !== undefined && !METHODS.includes(method as string)) return `method must be one of ${METHODS.join(", ")}`;
  return undefined;
}

/** Tokens on disk: file 0600, directory 0700, atomic writes, schema-checked on every read. */
export class TokenStore {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, "auth.json");
  }

  /** The stored login, `undefined` when signed out. Throws {@link StoreCorruptError}. */
  read(): StoredAuth | undefined {
    if (this.mtimeMs() === undefined) return undefined; // never create the directory just to read
    let data: Partial<StoredAuth>;
    try {
      data = JSON.parse(readFileSync(this.path, "utf8")) as Partial<StoredAuth>;
    } catch (error) {
      // removed or moved since the stat (a logout, another process moving the old store): signed out here
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StoreCorruptError(this.path, describeReadError(error));
    }
    const problem = schemaProblem(data);
    if (problem) throw new StoreCorruptError(this.path, `unexpected content: ${problem}`);
    if (!data.tokens) return undefined;
    const auth = {
      tokens: { ...data.tokens, account_id: data.tokens.account_id ?? null },
      last_refresh: data.last_refresh ?? new Date(0).toISOString(),
      method: data.method ?? "browser",
    };
    registerSecret(auth.tokens.refresh_token);
    return auth;
  }

  write(auth: StoredAuth): void {
    registerSecret(auth.tokens.refresh_token);
    this.#ensureDir();
    try {
      // a fsynced temp file renamed into place (conf's writer opened its temp file without `wx`)
      writeFileAtomic(this.path, `${JSON.stringify(auth, null, "\t")}\n`);
      syncDir(this.dir); // and the rename itself survives a crash
    } catch (error) {
      throw new StoreWriteError(`Cannot write the token store ${this.path}: ${describeReadError(error)}`);
    }
  }

  /**
   * A process killed between writing the temp file and renaming it over `auth.json` leaves the only copy of a
   * rotated refresh token in `auth.json.tmp-*`. Put the newest complete one newer than `auth.json` in place and
   * drop the older leftovers. Call it holding the refresh lock (the only writer then is a `login`).
   * Returns whether it replaced `auth.json`.
   */
  recover(): boolean {
    const current = version(this.path);
    if (!current) return false; // signed out (`logout` removes the leftovers too): nothing to bring back
    const leftovers = this.#leftovers();
    let best: { path: string; at: Version } | undefined;
    for (const path of leftovers) {
      const at = version(path);
      if (at?.complete && newer(at, current) && (!best || newer(at, best.at))) best = { path, at };
    }
    if (best) {
      renameSync(best.path, this.path);
      syncDir(this.dir);
    }
    const settled = best?.at ?? current;
    for (const path of leftovers) {
      const at = version(path);
      if (at && !newer(at, settled)) rmSync(path, { force: true });
    }
    return best !== undefined;
  }

  #leftovers(): string[] {
    try {
      // the temp files of `writeFileAtomic` (and of conf, through `atomically`, which wrote them before)
      const prefix = basename(tempPrefix(this.path));
      return readdirSync(this.dir)
        .filter((name) => name.startsWith(prefix))
        .map((name) => join(this.dir, name));
    } catch {
      return [];
    }
  }

  /** Move a corrupt file aside (so `login` can write a fresh one without losing it); returns the new name. */
  quarantine(): string {
    const aside = `${this.path}.corrupt-${Date.now()}`;
    renameSync(this.path, aside);
    return aside;
  }

  /** Remove the tokens; `false` when there were none. */
  delete(): boolean {
    try {
      statSync(this.path);
    } catch {
      return false;
    }
    rmSync(this.path, { force: true });
    for (const path of this.#leftovers()) rmSync(path, { force: true });
    return true;
  }

  /** Modification time, used to notice a login written by another process. */
  mtimeMs(): number | undefined {
    try {
      return statSync(this.path).mtimeMs;
    } catch {
      return undefined;
    }
  }

  #ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }
}

interface Version {
  mtime: number;
  lastRefresh: number;
  /** a half-written temp file is not */
  complete: boolean;
}

/** When a store file was written: its mtime, then the refresh time inside (for file systems with coarse mtimes). */
function version(path: string): Version | undefined {
  try {
    const mtime = statSync(path).mtimeMs;
    let auth: Partial<StoredAuth> | undefined;
    try {
      auth = JSON.parse(readFileSync(path, "utf8")) as Partial<StoredAuth>;
    } catch {
      auth = undefined;
    }
    const tokens = auth?.tokens;
    const complete = [tokens?.id_token, tokens?.access_token, tokens?.refresh_token].every((t) => typeof t === "string" && t.length > 0);
    return { mtime, lastRefresh: Date.parse(auth?.last_refresh ?? "") || 0, complete };
  } catch {
    return undefined; // gone meanwhile
  }
}

function newer(a: Version, b: Version): boolean {
  return a.mtime > b.mtime || (a.mtime === b.mtime && a.lastRefresh > b.lastRefresh);
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // not supported here (Windows): the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function describeReadError(error: unknown): string {
  if (error instanceof SyntaxError) return "not valid JSON";
  return errorMessage(error);
}
