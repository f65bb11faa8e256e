import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../_utils/atomic-write.js";
import { AuthError } from "../auth/errors.js";
import type { TokenManager } from "../auth/token-manager.js";
import type { UpstreamClient } from "../upstream/client.js";
import type { UpstreamError } from "../upstream/errors.js";
import type { ModelCatalog } from "../upstream/model-catalog.js";
import { usageJson, type RateLimitSnapshot } from "../upstream/rate-limits.js";
import type { UsageStore } from "../upstream/usage-store.js";
import type { AccountRecord } from "./store.js";

/** How long an account stays set aside after a usage limit without a reset time, or after a model it lacks. */
const UNKNOWN_RESET_MS = 60_000;
const UNSUPPORTED_MODEL_MS = 10 * 60_000;

export interface AccountParts {
  tokens: TokenManager;
  upstream: UpstreamClient;
  catalog: ModelCatalog;
  usage: UsageStore;
}

/** A signed-in account at work: its token, its backend client, its models and usage, and whether it can serve now. */
export class Account implements AccountParts {
  readonly tokens: TokenManager;
  readonly upstream: UpstreamClient;
  readonly catalog: ModelCatalog;
  readonly usage: UsageStore;
  #limitedUntil = 0;
  /** a dead login, until its store file changes (a new `login`) */
  #needsLogin?: { error: Error; mtime?: number };
  readonly #unsupported = new Map<string, number>();
  #unavailableUntil = 0;
  /** `limited.json` as read at the first look: a limit another process (or an earlier serve) met */
  #savedLimit?: number;
  /** `usage.json` as read at the first look (null: there was none) */
  #saved?: RateLimitSnapshot | null;

  constructor(
    public record: AccountRecord,
    parts: AccountParts,
  ) {
    this.tokens = parts.tokens;
    this.upstream = parts.upstream;
    this.catalog = parts.catalog;
    this.usage = parts.usage;
  }

  get key(): string {
    return this.record.key;
  }

  /** What to call it in messages and headers: the email, else the workspace id. */
  get name(): string {
    return this.record.email ?? this.record.accountId ?? this.record.key;
  }

  /** Until when (epoch ms) the plan's usage limit stops this account: a 429 it met, or a window the backend reports full. */
  limitedUntil(now = Date.now()): number | undefined {
    if (this.#savedLimit === undefined) this.#savedLimit = this.#readMarker<{ until?: number }>("limited.json")?.until ?? 0;
    const until = Math.max(this.#limitedUntil, this.#savedLimit, fullUntil(this.usageSnapshot(), now) ?? 0);
    return until > now ? until : undefined;
  }

  /** The last usage windows: this process's, else the ones saved on disk (read once: this is on every request's path). */
  usageSnapshot(): RateLimitSnapshot | undefined {
    if (this.usage.latest) return this.usage.latest;
    if (this.#saved === undefined) this.#saved = this.usage.read() ?? null;
    return this.#saved ?? undefined;
  }

  /** What `status --json` and `GET /v1/usage` say of this account (never a token). */
  describe(now = Date.now()) {
    const limitedUntil = this.limitedUntil(now);
    return {
      email: this.record.email,
      accountId: this.record.accountId,
      plan: this.record.plan,
      preferred: this.record.preferred,
      limitedUntil: limitedUntil === undefined ? null : new Date(limitedUntil).toISOString(),
      needsLogin: this.loginProblem() !== undefined,
      usage: usageJson(this.usageSnapshot()),
    };
  }

  /**
   * Set the account aside until the reset the backend gave; saved beside its tokens, so that `status` and a
   * restarted serve know it too. Returns whether this is news (the account was not known to be limited).
   */
  markLimited(error: UpstreamError, now = Date.now()): boolean {
    const news = this.#limitedUntil <= now;
    this.#limitedUntil = Math.max(this.#limitedUntil, error.extra.resetsAt ?? now + UNKNOWN_RESET_MS);
    if (news) this.#writeMarker("limited.json", { until: this.#limitedUntil, reason: error.message });
    return news;
  }

  /** Set the account aside for a while without a limit (its token could not be refreshed: the issuer is failing). */
  markUnavailable(now = Date.now()): void {
    this.#unavailableUntil = now + UNKNOWN_RESET_MS;
  }

  unavailable(now = Date.now()): boolean {
    return this.#unavailableUntil > now;
  }

  /** The reason this account must be signed in again, while its login on disk is the one that failed. */
  needsLogin(): Error | undefined {
    if (this.#needsLogin && this.#needsLogin.mtime !== this.record.store.mtimeMs()) this.#needsLogin = undefined;
    return this.#needsLogin?.error;
  }

  /** Returns whether this is news. */
  markNeedsLogin(error: Error): boolean {
    const mtime = this.record.store.mtimeMs();
    if (this.#needsLogin?.mtime === mtime) return false;
    this.#needsLogin = { error, mtime };
    this.#writeMarker("needs-login.json", { reason: error.message, storeMtimeMs: mtime }); // `status` in another process says so too
    return true;
  }

  /** A hint for other processes, in the account's directory (never recreated: the account may have been removed). */
  #writeMarker(name: string, data: unknown): void {
    try {
      writeFileAtomic(join(this.record.dir, name), JSON.stringify(data), { durable: false, createDir: false });
    } catch {
      // only a hint
    }
  }

  #readMarker<T>(name: string): T | undefined {
    try {
      return JSON.parse(readFileSync(join(this.record.dir, name), "utf8")) as T;
    } catch {
      return undefined;
    }
  }

  /**
   * Why this account needs a new login: its file is corrupt, or this process or another one (serve) found its
   * login dead; undefined while its login works.
   */
  loginProblem(): string | undefined {
    if (this.record.problem) return this.record.problem.message;
    const known = this.needsLogin();
    if (known) return known.message;
    const marker = this.#readMarker<{ reason?: string; storeMtimeMs?: number }>("needs-login.json");
    return marker && marker.storeMtimeMs === this.record.store.mtimeMs() ? (marker.reason ?? "sign in again") : undefined;
  }

  lacksModel(slug: string, now = Date.now()): boolean {
    return (this.#unsupported.get(slug) ?? 0) > now;
  }

  markLacksModel(slug: string, now = Date.now()): void {
    // keyed by what clients send: expired entries go, so that the map cannot grow in a long-running serve
    for (const [known, until] of this.#unsupported) if (until <= now) this.#unsupported.delete(known);
    if (this.#unsupported.size < 1000) this.#unsupported.set(slug, now + UNSUPPORTED_MODEL_MS);
  }
}

/** The latest reset of the windows the backend reports at 100 %, if any is still ahead. */
export function fullUntil(snapshot: RateLimitSnapshot | undefined, now = Date.now()): number | undefined {
  const resets = [snapshot?.primary, snapshot?.secondary]
    .filter((w) => w && w.usedPercent >= 100 && w.resetsAt && w.resetsAt > now)
    .map((w) => w!.resetsAt!);
  return resets.length ? Math.max(...resets) : undefined;
}

/** A login the owner must renew: the refresh failed for good, or the backend keeps rejecting it. */
export function isDeadLogin(error: UpstreamError): boolean {
  return error.kind === "unauthorized" && (error.cause instanceof AuthError || error.extra.upstreamStatus === 401 || error.extra.upstreamStatus === 403);
}
