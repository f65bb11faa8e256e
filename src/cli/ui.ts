import type { Logger } from "../_utils/logger.js";

export interface UiOptions {
  /** machine-readable output on stdout; human lines go to stderr @default false */
  json?: boolean;
  quiet?: boolean;
}

/** Whether prompts may be shown: a terminal on both ends and not CI. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env.CI;
}

/**
 * Output for people and for scripts. Human text goes to stdout, or to stderr under `--json` so that stdout
 * holds exactly one JSON document.
 */
export class Ui {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly interactive = isInteractive();

  constructor(
    readonly logger: Logger,
    options: UiOptions = {},
  ) {
    this.json = Boolean(options.json);
    this.quiet = Boolean(options.quiet);
  }

  /** A line the user needs to act on (a URL, a code); printed even with `--quiet`. */
  say(line = ""): void {
    (this.json ? process.stderr : process.stdout).write(`${line}\n`);
  }

  /** The command's result: `value` as JSON under `--json`, else the human text. */
  result(human: string, value: unknown): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else if (human) process.stdout.write(`${human}\n`);
  }

  /**
   * A spinner on stderr in a terminal; elsewhere a single log line, unless `logElsewhere` is false.
   * `handleSignals: false` when the caller handles Ctrl-C.
   */
  async spinner(text: string, { logElsewhere = true, handleSignals = true }: { logElsewhere?: boolean; handleSignals?: boolean } = {}): Promise<{ stop(final?: string): void }> {
    if (!process.stderr.isTTY || this.quiet) {
      if (!this.quiet && logElsewhere) this.logger.info(text);
      return { stop: () => {} };
    }
    const { default: yoctoSpinner } = await import("yocto-spinner");
    const spinner = yoctoSpinner({ text, stream: process.stderr, handleSignals }).start();
    return {
      stop: (final?: string) => {
        if (final) spinner.success(final);
        else spinner.stop();
      },
    };
  }
}
