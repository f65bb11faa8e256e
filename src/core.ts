import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Dispatcher } from "undici";
import type { Config } from "./config.js";
import { createDispatcher } from "./_utils/http-client.js";
import { createLogger, type Logger } from "./_utils/logger.js";
import { OAuthClient } from "./auth/oauth.js";
import { TokenManager } from "./auth/token-manager.js";
import { TokenStore } from "./auth/token-store.js";
import { UpstreamClient } from "./upstream/client.js";
import { ModelCatalog } from "./upstream/model-catalog.js";
import { UsageStore } from "./upstream/usage-store.js";

export interface CoreOptions {
  /** where the core's warnings and debug lines go @default createLogger() (stderr, redacted) */
  logger?: Logger;
}

/** The account and the backend, wired once: what the CLI's commands, the server and a program use. */
export interface Core {
  readonly config: Config;
  readonly logger: Logger;
  /** the saved login (`auth.json`) */
  readonly store: TokenStore;
  readonly dispatcher: Dispatcher;
  readonly oauth: OAuthClient;
  /** the access token, refreshed single-flight */
  readonly tokens: TokenManager;
  /** the Codex backend: `POST /responses`, the model list */
  readonly upstream: UpstreamClient;
  /** the account's models, cached in `models-cache.json` */
  readonly catalog: ModelCatalog;
  /** the last Codex usage-limit headers, shared between processes through `usage.json` */
  readonly usage: UsageStore;
  /** Another token manager on the same store (e.g. one that does not retry); `close()` waits for its refresh too. */
  tokenManager(options?: { retryDelaysMs?: number[] }): TokenManager;
  /** Delete the account's usage figures and model list (after logout, or a login as someone else); returns what existed. */
  forgetAccountData(): string[];
  /** Save usage, let a token refresh finish (the issuer may already have rotated the token), drop connections. */
  close(): Promise<void>;
}

/**
 * Assemble the core from a resolved config. Each part is built on first use, so a command that only reads the
 * store opens no connection pool.
 */
export function createCore(config: Config, { logger = createLogger() }: CoreOptions = {}): Core {
  const files = { usage: join(config.configDir, "usage.json"), models: join(config.configDir, "models-cache.json") };
  const managers: TokenManager[] = [];
  let dispatcher: Dispatcher | undefined;
  let oauth: OAuthClient | undefined;
  let tokens: TokenManager | undefined;
  let upstream: UpstreamClient | undefined;
  let catalog: ModelCatalog | undefined;
  let usage: UsageStore | undefined;

  const core: Core = {
    config,
    logger,
    store: new TokenStore(config.configDir),
    get dispatcher() {
      return (dispatcher ??= createDispatcher());
    },
    get oauth() {
      return (oauth ??= new OAuthClient(config.authUrl, core.dispatcher));
    },
    get tokens() {
      return (tokens ??= core.tokenManager());
    },
    get usage() {
      return (usage ??= new UsageStore(files.usage, logger));
    },
    get upstream() {
      return (upstream ??= new UpstreamClient({
        idleTimeoutMs: config.idleTimeoutMs,
        clientVersion: config.clientVersion,
        baseUrl: config.upstreamUrl,
        tokens: core.tokens,
        dispatcher: core.dispatcher,
        logger,
        onRateLimits: (snapshot) => core.usage.record(snapshot),
      }));
    },
    get catalog() {
      return (catalog ??= new ModelCatalog({
        fetchModels: (signal) => core.upstream.listModels(signal),
        cachePath: files.models,
        logger,
        clientVersion: config.clientVersion,
      }));
    },
    tokenManager(options = {}) {
      const manager = new TokenManager({ store: core.store, oauth: core.oauth, logger, ...options });
      managers.push(manager);
      return manager;
    },
    forgetAccountData() {
      const removed: string[] = [];
      for (const path of Object.values(files)) {
        try {
          rmSync(path);
          removed.push(path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
      }
      return removed;
    },
    async close() {
      usage?.flush();
      if (managers.some((m) => m.refreshing)) logger.info("Waiting for the token refresh to finish, so that the new token is saved…");
      await Promise.all(managers.map((m) => m.settled()));
      // destroy, not close: the work is done, and close() would wait for a hung request
      await dispatcher?.destroy();
    },
  };
  return core;
}
