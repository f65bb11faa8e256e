import type { Logger } from "../_utils/logger.js";
import { formatLocalTime, formatRelative } from "../_utils/format.js";
import { AuthError, NotSignedInError } from "../auth/errors.js";
import { RefreshFailedError } from "../auth/token-manager.js";
import { UpstreamAnswer, type ResponseStreamOptions, type UpstreamStream } from "../upstream/client.js";
import type { UpstreamEvent } from "../upstream/sse.js";
import { UpstreamError, unauthorizedBy } from "../upstream/errors.js";
import type { CatalogSnapshot } from "../upstream/model-catalog.js";
import { BUNDLED_MODELS, type ModelInfo } from "../upstream/models.js";
import { isDeadLogin, type Account } from "./account.js";
import type { AccountRecord, AccountStore } from "./store.js";

import type { AccountStrategy } from "../config.js";

export interface PoolResponseOptions extends ResponseStreamOptions {
  /** serve with this account only (`x-codex-proxy-account`: an email, workspace id or key) */
  account?: string;
}

export interface PooledStream extends UpstreamStream {
  /** the account that serves this answer */
  account: AccountRecord;
  /** several accounts are signed in (then logs name the one that served) */
  shared: boolean;
}

export interface AccountPoolOptions {
  store: AccountStore;
  /** the account at work for a stored one (the core builds and keeps them) */
  account: (record: AccountRecord) => Account;
  /** an account removed on disk: drop it and what it would still write */
  forget?: (account: Account) => void;
  strategy?: AccountStrategy;
  logger?: Logger;
  now?: () => number;
}

/** the conversations remembered for stickiness: enough for a busy day, bounded for a long-running daemon */
const MAX_CONVERSATIONS = 10_000;

/**
 * Picks the account for each request: a conversation stays on the account it started on (the backend's prompt
 * cache is per account), new ones go to the preferred account (failover) or in turn (round-robin), and a
 * request that meets a usage limit, a dead login or a model the plan lacks moves to the next account before any
 * byte reached the client. Picks up accounts added or removed on disk without a restart.
 */
export class AccountPool {
  readonly #options: AccountPoolOptions;
  readonly #now: () => number;
  readonly #conversations = new Map<string, string>();
  #accounts: Account[] = [];
  #fingerprint?: string;
  #checkedAt = 0;
  #turn = 0;

  constructor(options: AccountPoolOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get strategy(): AccountStrategy {
    return this.#options.strategy ?? "failover";
  }

  /** The accounts, preferred first; re-read from disk at most once a second, and only when they changed. */
  accounts(): Account[] {
    const now = Date.now();
    // signed out, every request looks: the first login must work at once
    if (this.#fingerprint !== undefined && this.#accounts.length && now - this.#checkedAt < 1000) return this.#accounts;
    this.#checkedAt = now;
    const fingerprint = this.#options.store.fingerprint();
    if (fingerprint === this.#fingerprint) return this.#accounts;
    const before = this.#accounts;
    this.#accounts = this.#options.store.list().map((record) => {
      const account = this.#options.account(record);
      account.record = record; // preferred may have changed
      return account;
    });
    // logged out elsewhere: nothing of it may be written back (its usage figures, its model list)
    for (const gone of before) if (!this.#accounts.includes(gone)) this.#options.forget?.(gone);
    this.#fingerprint = fingerprint;
    return this.#accounts;
  }

  async createResponse(body: Record<string, unknown>, options: PoolResponseOptions = {}): Promise<PooledStream> {
    const accounts = this.#usable();
    // an account whose file is corrupt says so (and how to fix it) rather than "not signed in"
    if (!accounts.length) throw unauthorizedBy(this.#accounts.find((a) => a.record.problem)?.record.problem ?? new NotSignedInError());
    const model = typeof body.model === "string" ? body.model : "";
    if (options.account !== undefined) {
      return this.#only(this.#find(accounts, options.account), body, options);
    }
    // one account: nothing to choose, remember or fail over to (the common case stays as cheap as before)
    if (accounts.length === 1 && this.#accounts.length === 1) return this.#only(accounts[0]!, body, options);
    const now = this.#now();
    const failures: { account: Account; error: UpstreamError }[] = [];
    const limited: Account[] = [];
    for (const account of this.#candidates(accounts, options.sessionId, model, now)) {
      if (account.limitedUntil(now) !== undefined) {
        limited.push(account);
        continue;
      }
      const served = await this.#try(account, body, options, failures);
      if (served) return served;
    }
    // every account is limited: ask with the one that resets first (the limit may have lifted), and relay its answer
    const first = limited.sort((a, b) => a.limitedUntil(now)! - b.limitedUntil(now)!)[0];
    if (first) {
      const served = await this.#try(first, body, options, failures);
      if (served) return served;
    }
    throw this.#finalError(failures, limited, accounts.length);
  }

  /** The accounts whose store can be read; a corrupt store from before several accounts is the client's 401. */
  #usable(): Account[] {
    try {
      return this.accounts().filter((a) => !a.record.problem);
    } catch (error) {
      if (error instanceof AuthError) throw unauthorizedBy(error);
      throw error;
    }
  }

  /** Serve with this account and no other (pinned, or the only one); what its failure says about it is kept. */
  async #only(account: Account, body: Record<string, unknown>, options: PoolResponseOptions): Promise<PooledStream> {
    try {
      return new PooledAnswer(await account.upstream.createResponse(body, options), account.record, this.#accounts.length > 1);
    } catch (error) {
      if (error instanceof UpstreamError && !options.signal?.aborted) this.#learn(account, error, body);
      throw error;
    }
  }

  async #try(account: Account, body: Record<string, unknown>, options: PoolResponseOptions, failures: { account: Account; error: UpstreamError }[]): Promise<PooledStream | undefined> {
    try {
      // with another account to go to, a usage limit the backend reports in the stream (before any output) is one too
      let stream = await account.upstream.createResponse(body, options);
      if (this.#accounts.length > 1) stream = await throughPreamble(stream);
      if (options.sessionId) this.#remember(options.sessionId, account.key);
      return new PooledAnswer(stream, account.record, this.#accounts.length > 1);
    } catch (error) {
      if (!(error instanceof UpstreamError) || options.signal?.aborted || !this.#learn(account, error, body)) throw error;
      failures.push({ account, error });
      this.#options.logger?.debug(`Account ${account.name}: ${error.message}; trying the next account`);
      return undefined;
    }
  }

  /**
   * Keep what a failure says about the account (limited, needs login, lacks the model, issuer failing); true when
   * another account may serve the request, false when it is the request's own fault or the backend's.
   */
  #learn(account: Account, error: UpstreamError, body: Record<string, unknown>): boolean {
    const logger = this.#options.logger;
    const shared = this.#accounts.length > 1;
    if (error.kind === "usage_limit") {
      if (account.markLimited(error) && shared) logger?.info(`${account.name}: ${error.message} Other accounts serve meanwhile.`);
    } else if (isDeadLogin(error)) {
      if (account.markNeedsLogin(error) && shared) logger?.warn(`${account.name} needs a new login (${error.message}); other accounts serve meanwhile.`);
    } else if (error.kind === "model_not_supported") account.markLacksModel(String(body.model));
    else if (error.cause instanceof RefreshFailedError && shared) {
      account.markUnavailable(); // its issuer is failing: the next account's token may be fine
      logger?.warn(`${account.name}: ${error.message}; other accounts serve for a minute.`);
    } else return false;
    return true;
  }

  /** The sticky account first, then the strategy's order; accounts needing login, or lacking the model, last. */
  #candidates(accounts: Account[], sessionId: string | undefined, model: string, now: number): Account[] {
    let order = accounts;
    if (this.strategy === "round-robin" && accounts.length > 1) {
      const start = this.#turn++ % accounts.length;
      order = [...accounts.slice(start), ...accounts.slice(0, start)];
    }
    const stickyKey = sessionId ? this.#conversations.get(sessionId) : undefined;
    const sticky = order.find((a) => a.key === stickyKey);
    if (sticky) {
      if (this.strategy === "round-robin") this.#turn--; // an old conversation does not take a new one's turn
      order = [sticky, ...order.filter((a) => a !== sticky)];
    }
    const usable = (a: Account) => !a.needsLogin() && !a.lacksModel(model, now) && !a.unavailable(now);
    return [...order.filter(usable), ...order.filter((a) => !usable(a))];
  }

  #remember(sessionId: string, key: string): void {
    this.#conversations.delete(sessionId);
    this.#conversations.set(sessionId, key);
    if (this.#conversations.size > MAX_CONVERSATIONS) this.#conversations.delete(this.#conversations.keys().next().value!);
  }

  /** The pinned account, looked up among the accounts in memory (the disk only when it names none of them: a new login). */
  #find(accounts: Account[], who: string): Account {
    let record: AccountRecord;
    try {
      record = this.#options.store.find(who, this.#accounts.map((a) => a.record));
    } catch {
      this.#checkedAt = 0;
      record = this.#options.store.find(who, this.accounts().map((a) => a.record));
      accounts = this.#accounts.filter((a) => !a.record.problem);
    }
    const account = accounts.find((a) => a.key === record.key);
    if (!account) throw unauthorizedBy(record.problem ?? new NotSignedInError());
    return account;
  }

  /** No account could serve: the usage limit with the earliest reset, else the first failure. */
  #finalError(failures: { account: Account; error: UpstreamError }[], skipped: Account[], count: number): UpstreamError {
    const limits = failures.filter((f) => f.error.kind === "usage_limit");
    if (limits.length && count > 1) {
      const now = this.#now();
      // the limited accounts: those that answered so now, and those known to be limited (not asked again)
      const limitedNames = new Set([...limits.map((f) => f.account.name), ...skipped.map((a) => a.name)]);
      const resets = [...limits.map((f) => f.error.extra.resetsAt), ...skipped.map((a) => a.limitedUntil(now))].filter((t): t is number => t !== undefined);
      const resetsAt = resets.length ? Math.min(...resets) : undefined;
      const when = resetsAt ? ` The first resets at ${formatLocalTime(resetsAt)} (${formatRelative(resetsAt, now)}).` : "";
      const which = limitedNames.size >= count ? `Every signed-in ChatGPT account (${count}) has` : `${limitedNames.size} of the ${count} signed-in ChatGPT accounts have`;
      const others = failures.filter((f) => f.error.kind !== "usage_limit").map((f) => `${f.account.name}: ${f.error.message}`);
      const rest = others.length ? ` The others cannot serve either (${others.join("; ")}).` : "";
      return new UpstreamError("usage_limit", `${which} reached the Codex usage limit.${when}${rest}`, {
        ...limits[0]!.error.extra,
        resetsAt,
        retryAfterSec: resetsAt ? Math.max(1, Math.ceil((resetsAt - now) / 1000)) : limits[0]!.error.extra.retryAfterSec,
      });
    }
    const order = ["usage_limit", "model_not_supported", "unauthorized"];
    const sorted = [...failures].sort((a, b) => order.indexOf(a.error.kind) - order.indexOf(b.error.kind));
    return sorted[0]?.error ?? unauthorizedBy(new NotSignedInError());
  }

  /** Each account's models together; the accounts that cannot serve are left out while others can. */
  readonly catalog = {
    get: async (options: { refresh?: boolean; signal?: AbortSignal } = {}): Promise<CatalogSnapshot> => {
      let accounts: Account[];
      try {
        accounts = this.#usable();
      } catch {
        accounts = []; // the requests say why; the list is the bundled one meanwhile
      }
      if (accounts.length === 1) return accounts[0]!.catalog.get(options); // one account: its list, nothing to join
      const live = accounts.filter((a) => !a.needsLogin() && !a.unavailable());
      const snapshots = await Promise.all((live.length ? live : accounts).map((a) => a.catalog.get(options)));
      return unionCatalog(snapshots);
    },
    invalidate: (): void => {
      for (const account of this.accounts()) account.catalog.invalidate();
    },
  };

  /** The usage windows of every account, the preferred first (`GET /v1/usage`). */
  usageReport(now = this.#now()) {
    const accounts = this.accounts().map((a) => a.describe(now));
    return { usage: accounts[0]?.usage ?? null, accounts };
  }

  /** Save every account's usage figures. */
  flush(): void {
    for (const account of this.#accounts) account.usage.flush();
  }
}

/** Several accounts' model lists as one: every model any of them offers, the freshest source. */
export function unionCatalog(snapshots: CatalogSnapshot[]): CatalogSnapshot {
  if (!snapshots.length) return { models: BUNDLED_MODELS, source: "bundled", fetchedAt: null, error: new NotSignedInError().message };
  if (snapshots.length === 1) return snapshots[0]!;
  const models = new Map<string, ModelInfo>();
  for (const snapshot of snapshots) for (const model of snapshot.models) if (!models.has(model.slug)) models.set(model.slug, model);
  const rank = { backend: 0, cache: 1, bundled: 2 } as const;
  const best = [...snapshots].sort((a, b) => rank[a.source] - rank[b.source])[0]!;
  const errors = snapshots.map((s) => s.error).filter(Boolean);
  return Object.assign({}, best, { models: [...models.values()] }, errors.length ? { error: errors.join("; ") } : {});
}

/** the events a stream starts with before the model's output (or its failure) */
const PREAMBLE = new Set(["response.created", "response.in_progress"]);

/**
 * Read a stream up to its first event past the preamble. A usage limit reported there is thrown (nothing has
 * reached the client, so another account can take the request); the events read are replayed.
 */
async function throughPreamble(stream: UpstreamStream): Promise<UpstreamStream> {
  const iterator = stream.events[Symbol.asyncIterator]();
  const head: UpstreamEvent[][] = [];
  let failure: unknown;
  let done = false;
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        done = true;
        break;
      }
      head.push(next.value);
      if (next.value.some((event) => !PREAMBLE.has(event.type))) break;
    }
  } catch (error) {
    if (error instanceof UpstreamError && error.kind === "usage_limit") throw error;
    failure = error;
  }
  async function* replay(): AsyncGenerator<UpstreamEvent[]> {
    try {
      yield* head;
      if (failure !== undefined) throw failure;
      if (done) return;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      await iterator.return?.();
    }
  }
  return new UpstreamAnswer(stream.headers, replay(), stream);
}

/** The stream with the account that serves it; `usage` stays live. */
class PooledAnswer extends UpstreamAnswer implements PooledStream {
  readonly account: AccountRecord;
  readonly shared: boolean;

  constructor(stream: UpstreamStream, account: AccountRecord, shared: boolean) {
    super(stream.headers, stream.events, stream);
    this.account = account;
    this.shared = shared;
  }
}

