import { LogLevels, type ConsolaInstance, type ConsolaReporter } from "consola/basic";
import { redactValue } from "./redact.js";

export type Logger = ConsolaInstance;

export interface LoggerOptions {
  /** debug logs @default false */
  verbose?: boolean;
  /** only warnings and errors @default false */
  quiet?: boolean;
}

// the fancy reporter (and what it loads, ~4 MiB) only for a person at a terminal; a daemon's log is plain lines
const fancy = Boolean(process.stderr.isTTY) && !process.env.CI;
const { createConsola } = fancy ? await import("consola") : await import("consola/basic");

/** Logs go to stderr (stdout is for results and `--json`), every argument redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.quiet ? LogLevels.warn : options.verbose ? LogLevels.debug : LogLevels.info;
  const logger = createConsola({
    level,
    stdout: process.stderr,
    stderr: process.stderr,
    fancy,
    formatOptions: { date: Boolean(options.verbose) },
  });
  const reporters = logger.options.reporters.map(
    (inner): ConsolaReporter => ({
      log: (logObj, ctx) => inner.log(Object.assign({}, logObj, { args: logObj.args.map((a) => redactValue(a)) }), ctx),
    }),
  );
  logger.setReporters(reporters);
  return logger;
}
