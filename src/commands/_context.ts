import type { Dispatcher } from "undici";
import { loadConfig, type Config } from "../config.js";
import { createDispatcher } from "../http-client.js";
import { createLogger, type Logger } from "../logger.js";
import { TokenStore } from "../auth/token-store.js";
import { OAuthClient } from "../auth/oauth.js";
import { TokenManager } from "../auth/token-manager.js";
import { Ui } from "../ui.js";

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

  constructor(
    readonly globals: GlobalOptions,
    /** command-specific settings (e.g. serve's `--port`), checked like environment values */
    flags: Partial<Record<keyof Config, unknown>> = {},
  ) {
    this.logger = createLogger(globals);
    this.ui = new Ui(this.logger, globals);
    this.config = loadConfig({ ...flags, configDir: globals.configDir });
    this.store = new TokenStore(this.config.configDir);
  }

  get dispatcher(): Dispatcher {
    return (this.#dispatcher ??= createDispatcher());
  }

  get oauth(): OAuthClient {
    return (this.#oauth ??= new OAuthClient(this.config.authUrl, this.dispatcher));
  }

  get tokens(): TokenManager {
    return (this.#tokens ??= new TokenManager({ store: this.store, oauth: this.oauth, logger: this.logger }));
  }

  async close(): Promise<void> {
    // destroy, not close: a command is done, and close() would wait for a hung request
    await this.#dispatcher?.destroy();
  }
}
