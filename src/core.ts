import { join } from "node:path";
import type { Dispatcher } from "undici";
import type { Config } from "./config.js";
import { createDispatcher } from "./_utils/http-client.js";
import { createLogger, type Logger } from "./_utils/logger.js";
import { Account } from "./accounts/account.js";
import { AccountPool } from "./accounts/pool.js";
import { AccountStore, type AccountRecord } from "./accounts/store.js";
import { OAuthClient } from "./auth/oauth.js";
import { TokenManager } from "./auth/token-manager.js";
import { UpstreamClient } from "./upstream/client.js";
import { ModelCatalog } from "./upstream/model-catalog.js";
import { UsageStore } from "./upstream/usage-store.js";

export interface CoreOptions {
  /** where the core's warnings and debug lines go @default createLogger() (stderr, redacted) */
  logger?: Logger;
}

/** The accounts and the backend, wired once: what the CLI's commands, the server and a program use. */
export interface Core {
  readonly config: Config;
  readonly logger: Logger;
  /** the signed-in accounts on disk (`accounts/<key>/auth.json`, `accounts.json`) */
  readonly accounts: AccountStore;
  readonly dispatcher: Dispatcher;
  readonly oauth: OAuthClient;
  /** picks the account for each request (strategy, stickiness, failover); the server's upstream */
  readonly pool: AccountPool;
  /** `POST /responses` through the pool */
  readonly upstream: AccountPool;
  /** every account's models together */
  readonly catalog: AccountPool["catalog"];
  /** every account's usage windows */
  readonly usage: AccountPool;
  /** A stored account at work: its token manager (single-flight refresh), backend client, models and usage. */
  account(record: AccountRecord): Account;
  /** Another token manager for an account (e.g. one that does not retry); `close()` waits for its refresh too. */
  tokenManager(record: AccountRecord, options?: { retryDelaysMs?: number[] }): TokenManager;
  /** Save usage, let token refreshes finish (the issuer may already have rotated a token), drop connections. */
  close(): Promise<void>;
}

/**
 * Assemble the core from a resolved config. Each part is built on first use, so a command that only reads the
 * store opens no connection pool.
 */
export function createCore(config: Config, { logger = createLogger() }: CoreOptions = {}): Core {
  const managers: TokenManager[] = [];
  const accounts = new Map<string, Account>();
  let dispatcher: Dispatcher | undefined;
  let oauth: OAuthClient | undefined;
  let pool: AccountPool | undefined;

  const core: Core = {
    config,
    logger,
    accounts: new AccountStore(config.configDir),
    get dispatcher() {
      return (dispatcher ??= createDispatcher());
    },
    get oauth() {
      return (oauth ??= new OAuthClient(config.authUrl, core.dispatcher));
    },
    get pool() {
      return (pool ??= new AccountPool({
        store: core.accounts,
        account: (record) => core.account(record),
        forget: (account) => {
          account.usage.discard();
          accounts.delete(account.key);
        },
        strategy: config.accountStrategy,
        logger,
      }));
    },
    get upstream() {
      return core.pool;
    },
    get catalog() {
      return core.pool.catalog;
    },
    get usage() {
      return core.pool;
    },
    account(record) {
      const known = accounts.get(record.key);
      if (known) return known;
      const tokens = core.tokenManager(record);
      // with several accounts, a warning names whose limit it is
      const usage = new UsageStore(join(record.dir, "usage.json"), logger, (): string | undefined => (accounts.size > 1 ? (record.email ?? record.key) : undefined));
      const upstream = new UpstreamClient({
        idleTimeoutMs: config.idleTimeoutMs,
        clientVersion: config.clientVersion,
        baseUrl: config.upstreamUrl,
        tokens,
        dispatcher: core.dispatcher,
        logger,
        onRateLimits: (snapshot) => usage.record(snapshot),
      });
      const catalog = new ModelCatalog({
        fetchModels: (signal) => upstream.listModels(signal),
        cachePath: join(record.dir, "models-cache.json"),
        logger,
        clientVersion: config.clientVersion,
      });
      const account = new Account(record, { tokens, upstream, catalog, usage });
      accounts.set(record.key, account);
      return account;
    },
    tokenManager(record, options = {}) {
      const manager = new TokenManager({ store: record.store, oauth: core.oauth, logger, ...options });
      managers.push(manager);
      return manager;
    },
    async close() {
      for (const account of accounts.values()) account.usage.flush();
      if (managers.some((m) => m.refreshing)) logger.info("Waiting for the token refresh to finish, so that the new token is saved…");
      await Promise.all(managers.map((m) => m.settled()));
      // destroy, not close: the work is done, and close() would wait for a hung request
      await dispatcher?.destroy();
    },
  };
  return core;
}
