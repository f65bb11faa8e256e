import { chmodSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import Conf from "conf";
import { CliError, errorMessage } from "../errors.js";
import { registerSecret } from "../redact.js";

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

const TOKEN = { type: "string", minLength: 1 } as const;
const SCHEMA = {
  tokens: {
    type: "object",
    required: ["id_token", "access_token", "refresh_token"],
    properties: {
      id_token: TOKEN,
      access_token: TOKEN,
      refresh_token: TOKEN,
      account_id: { type: ["string", "null"] },
    },
  },
  last_refresh: { type: "string", format: "date-time" },
  method: { enum: ["browser", "device", "import", "paste"] },
} as const;

/** The corrupt store names the file and the way out; nothing is wiped behind the user's back. */
export class StoreCorruptError extends CliError {
  override name = "StoreCorruptError";
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`The token store ${path} is corrupt (${detail}). Run \`codex-proxy login\` to replace it, or \`codex-proxy logout --yes\` to remove it.`);
  }
}

/** Tokens on disk: file 0600, directory 0700, atomic writes, schema-checked on every read. */
export class TokenStore {
  readonly path: string;
  #conf?: Conf<Partial<StoredAuth>>;

  constructor(readonly dir: string) {
    this.path = join(dir, "auth.json");
  }

  /** The stored login, `undefined` when signed out. Throws {@link StoreCorruptError}. */
  read(): StoredAuth | undefined {
    if (this.mtimeMs() === undefined) return undefined; // never create the directory just to read
    let data: Partial<StoredAuth>;
    try {
      data = this.#open().store;
    } catch (error) {
      throw new StoreCorruptError(this.path, describeReadError(error));
    }
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
      this.#open().store = auth;
    } catch (error) {
      throw new CliError(`Cannot write the token store ${this.path}: ${describeReadError(error)}`);
    }
  }

  /** Move a corrupt file aside (so `login` can write a fresh one without losing it); returns the new name. */
  quarantine(): string {
    const aside = `${this.path}.corrupt-${Date.now()}`;
    renameSync(this.path, aside);
    this.#conf = undefined;
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

  #open(): Conf<Partial<StoredAuth>> {
    this.#conf ??= new Conf<Partial<StoredAuth>>({
      cwd: this.dir,
      configName: "auth",
      configFileMode: 0o600,
      schema: SCHEMA as never,
      clearInvalidConfig: false,
      accessPropertiesByDotNotation: false,
    });
    return this.#conf;
  }
}

function describeReadError(error: unknown): string {
  if (error instanceof SyntaxError) return "not valid JSON";
  const message = errorMessage(error);
  return message.replace(/^Config schema violation: /, "unexpected content: ");
}
