import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../_utils/logger.js";
import { errorMessage } from "../errors.js";
import { NetworkError } from "../_utils/http-client.js";
import { NotSignedInError, ReloginRequiredError } from "./errors.js";
import { readAccountClaims, readTimes } from "./jwt.js";
import { OAuthError, PERMANENT_REFRESH_ERRORS, type OAuthClient, type TokenSet } from "./oauth.js";
import { acquireLock } from "./file-lock.js";
import type { StoredAuth, TokenStore } from "./token-store.js";

/** Without `exp` in the access token, refresh this long after the last refresh (as the Codex CLI). */
export const REFRESH_INTERVAL_MS = 8 * 24 * 3600_000;
/** Refresh this long before `exp` (at most half the token's lifetime). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/** When a login's access token is due for refresh, in epoch milliseconds. */
function refreshTime(auth: StoredAuth): number {
  const { expiresAt, issuedAt } = readTimes(auth.tokens.access_token);
  const lastRefresh = Date.parse(auth.last_refresh) || 0;
  if (expiresAt === undefined) return lastRefresh + REFRESH_INTERVAL_MS;
  const lifetime = expiresAt - (issuedAt ?? lastRefresh);
  return expiresAt - Math.min(REFRESH_MARGIN_MS, Math.max(0, lifetime / 2));
}

export interface AccessToken {
  accessToken: string;
  accountId: string | null;
}

export interface TokenManagerOptions {
  store: TokenStore;
  oauth: Pick<OAuthClient, "refresh">;
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
  /** waits between attempts of a transient refresh failure @default [500, 1500, 4000] */
  retryDelaysMs?: number[];
}

/**
 * Hands out a valid access token. Refreshes before expiry and after an upstream 401; concurrent callers
 * share one refresh; the rotated refresh token is on disk before the new access token is handed out; a
 * login written by another process is picked up.
 */
export class TokenManager {
  readonly #store: TokenStore;
  readonly #oauth: Pick<OAuthClient, "refresh">;
  readonly #logger?: Logger;
  readonly #now: () => number;
  readonly #retryDelaysMs: number[];
  #auth?: StoredAuth;
  #mtime?: number;
  #refreshing?: Promise<StoredAuth>;
  /** when the store's mtime was last checked: at most once a second, not on every request */
  #checkedAt = 0;
  /** when each login read is due for refresh: decoding the JWT on every request showed in profiles */
  readonly #refreshAt = new WeakMap<StoredAuth, number>();
  /** a refresh whose answer was lost after it was sent: its token may be spent, and "already used" then means that */
  #lostAnswer?: { refreshToken: string; detail: string };
  /** a permanent refresh failure, remembered until the store changes (a new login) */
  #dead?: { error: ReloginRequiredError; mtime?: number };
  /** how many refreshes this manager made (for tests and `doctor`) */
  refreshCount = 0;

  constructor(options: TokenManagerOptions) {
    this.#store = options.store;
    this.#oauth = options.oauth;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#retryDelaysMs = options.retryDelaysMs ?? [500, 1500, 4000];
  }

  async getAccessToken(): Promise<AccessToken> {
    let auth = this.#load();
    if (this.#isStale(auth)) auth = await this.#refreshShared(auth.tokens.access_token);
    return toAccessToken(auth);
  }

  /** After the upstream said 401 to `rejected`: use a newer token if there is one, else refresh once. */
  async refreshAfterUnauthorized(rejected: string): Promise<AccessToken> {
    const auth = this.#load();
    if (auth.tokens.access_token !== rejected && !this.#isStale(auth)) return toAccessToken(auth);
    return toAccessToken(await this.#refreshShared(rejected));
  }

  /** Force a refresh now (for `status --refresh` and `doctor`). */
  async refreshNow(): Promise<AccessToken> {
    return toAccessToken(await this.#refreshShared(this.#load().tokens.access_token));
  }

  /**
   * Resolves once no refresh is running. A caller that stopped waiting (doctor's time limit) must not end the
   * process or close the HTTP client before then: the issuer may have rotated the token, and it must be saved.
   */
  get refreshing(): boolean {
    return this.#refreshing !== undefined;
  }

  async settled(): Promise<void> {
    while (this.#refreshing) await this.#refreshing.catch(() => {});
  }

  /** The current login, re-read when the file changed on disk. */
  #load(): StoredAuth {
    const now = Date.now();
    if (this.#auth && !this.#dead && now - this.#checkedAt < 1000) return this.#auth;
    this.#checkedAt = now;
    const mtime = this.#store.mtimeMs();
    if (this.#dead && this.#dead.mtime === mtime) throw this.#dead.error;
    if (!this.#auth || mtime !== this.#mtime) {
      const auth = this.#store.read();
      this.#mtime = mtime;
      this.#auth = auth;
      if (auth) this.#dead = undefined;
    }
    if (!this.#auth) throw new NotSignedInError();
    return this.#auth;
  }

  #isStale(auth: StoredAuth): boolean {
    let refreshAt = this.#refreshAt.get(auth);
    if (refreshAt === undefined) this.#refreshAt.set(auth, (refreshAt = refreshTime(auth)));
    return refreshAt <= this.#now();
  }

  #refreshShared(rejected: string): Promise<StoredAuth> {
    this.#refreshing ??= this.#refreshLocked(rejected).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refreshLocked(rejected: string): Promise<StoredAuth> {
    const release = await acquireLock(`${this.#store.path}.lock`);
    try {
      this.#store.recover(); // a process killed while writing may have left the only live refresh token
      // another process may have refreshed (or logged in) while we waited for the lock
      const disk = this.#store.read();
      if (!disk) throw new NotSignedInError();
      if (disk.tokens.access_token !== rejected && !this.#isStale(disk)) {
        this.#logger?.debug("Using the token another codex-proxy process refreshed");
        return this.#remember(disk);
      }
      return await this.#refreshWithRetry(disk);
    } finally {
      release();
    }
  }

  /** The login on disk (or left by a killed writer) when it holds another refresh token than `spent`. */
  #newerOnDisk(spent: string): StoredAuth | undefined {
    try {
      this.#store.recover();
      const disk = this.#store.read();
      return disk && disk.tokens.refresh_token !== spent ? disk : undefined;
    } catch {
      return undefined;
    }
  }

  #markDead(error: unknown): unknown {
    if (error instanceof ReloginRequiredError) {
      this.#dead = { error, mtime: this.#store.mtimeMs() };
      this.#auth = undefined;
    }
    return error;
  }

  #persist(disk: StoredAuth, fresh: Partial<TokenSet>): StoredAuth {
    const { accountId } = readAccountClaims(fresh.id_token ?? disk.tokens.id_token, fresh.access_token);
    const next: StoredAuth = {
      ...disk,
      tokens: {
        id_token: fresh.id_token ?? disk.tokens.id_token,
        access_token: fresh.access_token ?? disk.tokens.access_token,
        refresh_token: fresh.refresh_token ?? disk.tokens.refresh_token,
        account_id: accountId ?? disk.tokens.account_id,
      },
      last_refresh: new Date(this.#now()).toISOString(),
    };
    this.#store.write(next); // persisted before anyone uses the new access token
    this.refreshCount++;
    this.#logger?.debug("Access token refreshed");
    return this.#remember(next);
  }

  #remember(auth: StoredAuth): StoredAuth {
    this.#auth = auth;
    this.#mtime = this.#store.mtimeMs();
    return auth;
  }

  /**
   * Refresh `disk`'s token, retrying transient failures. Before each retry the store is read again: a login saved
   * meanwhile is used instead of a token that may be spent. A failure after the request left may mean the issuer
   * rotated the token and its answer is lost; the retry can only use the same token, and says so.
   */
  async #refreshWithRetry(disk: StoredAuth): Promise<StoredAuth> {
    /** why the answer to an attempt with this refresh token was lost, if one was (in this refresh or an earlier one) */
    let lost = this.#lostAnswer?.refreshToken === disk.tokens.refresh_token ? this.#lostAnswer.detail : undefined;
    for (let attempt = 0; ; attempt++) {
      const spent = disk.tokens.refresh_token;
      try {
        return this.#persist(disk, await this.#oauth.refresh(spent));
      } catch (error) {
        const newer = attempt < 3 ? this.#newerOnDisk(spent) : undefined;
        if (newer) {
          this.#logger?.debug("The refresh token was replaced on disk meanwhile; using the new one");
          if (!this.#isStale(newer)) return this.#remember(newer);
          disk = newer;
          lost = undefined;
          continue;
        }
        if (error instanceof OAuthError && error.permanent) throw this.#markDead(reloginError(error, lost));
        const delay = this.#retryDelaysMs[attempt];
        if (delay === undefined) throw new RefreshFailedError(error);
        if (error instanceof NetworkError && error.maybeDelivered) {
          lost = error.detail;
          this.#lostAnswer = { refreshToken: spent, detail: lost };
          this.#logger?.warn(
            `Token refresh failed after it was sent (${error.detail}): the issuer may already have rotated the refresh token, and its answer is lost. ` +
              `Retrying in ${delay} ms with the same refresh token, the only one there is; if the issuer says it was used, sign in again.`,
          );
        } else {
          this.#logger?.warn(`Token refresh failed (${errorMessage(error)}); retrying in ${delay} ms`);
        }
        await sleep(delay);
      }
    }
  }
}

/** A permanent refresh error; "already used" right after our own lost answer is that loss, not another client. */
function reloginError(error: OAuthError, lost: string | undefined): ReloginRequiredError {
  if (lost && error.code === "refresh_token_reused") {
    return new ReloginRequiredError(
      `The issuer's answer to our token refresh was lost (${lost}) after it had used up the refresh token (refresh token reused): the new one it sent never arrived`,
      error.code,
    );
  }
  return new ReloginRequiredError(PERMANENT_REFRESH_ERRORS[error.code ?? ""] ?? `The issuer rejected the refresh token (${error.message})`, error.code);
}

/** A refresh that kept failing for a transient reason (network, 5xx): the login itself may still be fine. */
export class RefreshFailedError extends Error {
  override name = "RefreshFailedError";
  constructor(cause: unknown) {
    super(`Could not refresh the ChatGPT access token: ${errorMessage(cause)}`);
  }
}

function toAccessToken(auth: StoredAuth): AccessToken {
  return { accessToken: auth.tokens.access_token, accountId: auth.tokens.account_id };
}
