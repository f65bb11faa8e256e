import type { Dispatcher } from "undici";
import { loadConfig, type Config } from "../config.js";
import { createDispatcher } from "../http-client.js";
import { createLogger, type Logger } from "../logger.js";
import { TokenStore } from "../auth/token-store.js";
import { OAuthClient } from "../auth/oauth.js";
import { TokenManager } from "../auth/token-manager.js";
import { Ui } from "../ui.js";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { UpstreamClient } from "../upstream/client.js";
import { ModelCatalog } from "../upstream/model-catalog.js";
import { UsageStore } from "../upstream/usage-store.js";
import { configDirProblem } from "../config-dir.js";
import { CliError } from "../errors.js";

/** Options every command accepts. */
export interface GlobalOptions {
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
  configDir?: string;
}

/** What a command needs, built once per run; nothing here is module-level state. */
export class CommandContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly ui: Ui;
  readonly store: TokenStore;
  #dispatcher?: Dispatcher;
  #oauth?: OAuthClient;
  #tokens?: TokenManager;
  readonly #managers: TokenManager[] = [];
  #upstream?: UpstreamClient;
  #catalog?: ModelCatalog;
  #usage?: UsageStore;

  constructor(
    readonly globals: GlobalOptions,
    /** command-specific settings (e.g. serve's `--port`), checked like environment values */
    flags: Partial<Record<keyof Config, unknown>> = {},
    /** `doctor` reports an unsafe config dir as a failed check instead */
    { allowUnsafeConfigDir = false }: { allowUnsafeConfigDir?: boolean } = {},
  ) {
    this.logger = createLogger(globals);
    this.ui = new Ui(this.logger, globals);
    this.config = loadConfig({ ...flags, configDir: globals.configDir });
    const unsafe = allowUnsafeConfigDir ? undefined : configDirProblem(this.config.configDir);
    if (unsafe) throw new CliError(`${unsafe.problem}. Fix: ${unsafe.fix}.`);
    this.store = new TokenStore(this.config.configDir);
  }

  get dispatcher(): Dispatcher {
    return (this.#dispatcher ??= createDispatcher());
  }

  get oauth(): OAuthClient {
    return (this.#oauth ??= new OAuthClient(this.config.authUrl, this.dispatcher));
  }

  get tokens(): TokenManager {
    return (this.#tokens ??= this.tokenManager());
  }

  /** A token manager whose refresh `close()` lets finish and save: the issuer may already have rotated the token. */
  tokenManager(options: { retryDelaysMs?: number[] } = {}): TokenManager {
    const manager = new TokenManager({ store: this.store, oauth: this.oauth, logger: this.logger, ...options });
    this.#managers.push(manager);
    return manager;
  }

  /** the last Codex usage-limit headers, shared with `serve` through `usage.json` */
  get usage(): UsageStore {
    return (this.#usage ??= new UsageStore(this.#accountFiles().usage, this.logger));
  }

  get upstream(): UpstreamClient {
    return (this.#upstream ??= new UpstreamClient({
      idleTimeoutMs: this.config.idleTimeoutMs,
      clientVersion: this.config.clientVersion,
      baseUrl: this.config.upstreamUrl,
      tokens: this.tokens,
      dispatcher: this.dispatcher,
      logger: this.logger,
      onRateLimits: (snapshot) => this.usage.record(snapshot),
    }));
  }

  /** the account's models, cached in `models-cache.json` */
  get catalog(): ModelCatalog {
    return (this.#catalog ??= new ModelCatalog({
      fetchModels: (signal) => this.upstream.listModels(signal),
      cachePath: this.#accountFiles().models,
      logger: this.logger,
      clientVersion: this.config.clientVersion,
    }));
  }

  /** Files that describe the signed-in account besides its tokens. */
  #accountFiles() {
    return { usage: join(this.config.configDir, "usage.json"), models: join(this.config.configDir, "models-cache.json") };
  }

  /** Delete the account's usage figures and model list (after logout, or a login as someone else); returns what existed. */
  forgetAccountData(): string[] {
    const removed: string[] = [];
    for (const path of Object.values(this.#accountFiles())) {
      try {
        rmSync(path);
        removed.push(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    this.#usage?.flush();
    if (this.#managers.some((m) => m.refreshing)) this.logger.info("Waiting for the token refresh to finish, so that the new token is saved…");
    await Promise.all(this.#managers.map((m) => m.settled()));
    // destroy, not close: a command is done, and close() would wait for a hung request
    await this.#dispatcher?.destroy();
  }
}
