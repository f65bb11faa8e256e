import { loadConfig, type Config } from "../config.js";
import { createLogger, type Logger } from "../_utils/logger.js";
import { Ui } from "../cli/ui.js";
import { configDirProblem } from "../config-dir.js";
import { CliError } from "../errors.js";
import { createCore, type Core } from "../core.js";

/** Options every command accepts. */
export interface GlobalOptions {
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
  configDir?: string;
}

/** The CLI's own concerns for one run (flags, logger, terminal UI) around the core; nothing here is module-level state. */
export class CommandContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly ui: Ui;
  readonly core: Core;

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
    this.core = createCore(this.config, { logger: this.logger });
  }

  close(): Promise<void> {
    return this.core.close();
  }
}
