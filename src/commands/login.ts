import { existsSync } from "node:fs";
import { CliError } from "../errors.js";
import { formatRows, parseDuration, formatDuration } from "../_utils/format.js";
import { defaultCodexAuthPath } from "../auth/codex-import.js";
import { describeLogin } from "../auth/describe.js";
import type { SaveResult } from "../accounts/store.js";
import { LoginCancelledError, LoginTimeoutError } from "../auth/errors.js";
import { DEVICE_CODE_LIFETIME_MS, importFromCodex, loginWithBrowser, loginWithDevice, type LoginContext, type LoginStore } from "../auth/login.js";
import type { StoredAuth } from "../auth/token-store.js";
import { CommandContext, type GlobalOptions } from "./_context.js";

export interface LoginOptions {
  /** false with `--no-browser` */
  browser: boolean;
  device?: boolean;
  /** `--import` alone is `true`; with a path it is the path */
  import?: string | boolean;
  timeout?: string;
}

type Method = "browser" | "device" | "import";

export async function run(options: LoginOptions, globals: GlobalOptions): Promise<void> {
  if (options.device && options.import !== undefined) throw new CliError("Choose one of --device and --import.", 2);
  const ctx = new CommandContext(globals);
  const explicitTimeout = options.timeout === undefined ? undefined : parseDuration(options.timeout, "--timeout");
  if (explicitTimeout !== undefined && explicitTimeout <= 0) throw new CliError(`--timeout must be longer than 0, e.g. 90s or 5m.`, 2);
  const saves: SaveResult[] = [];
  // every login adds its account, or replaces the tokens of the stored one, and makes it the preferred one
  const store: LoginStore = { save: (auth) => saves[saves.push(ctx.core.accounts.save(auth)) - 1]! };
  try {
    const method = await chooseMethod(ctx, options);
    let auth: StoredAuth;
    if (method === "import") {
      auth = importFromCodex({ store, ui: ctx.ui }, typeof options.import === "string" ? options.import : defaultCodexAuthPath());
    } else {
      const limitMs = explicitTimeout ?? (method === "device" ? DEVICE_CODE_LIFETIME_MS : 5 * 60_000);
      auth = await withTimeout(limitMs, method, (signal) => {
        const loginCtx: LoginContext = { oauth: ctx.core.oauth, store, ui: ctx.ui, signal, timeoutMs: limitMs };
        return method === "device"
          ? loginWithDevice(loginCtx)
          : loginWithBrowser(loginCtx, { openBrowser: options.browser, allowPaste: ctx.ui.interactive });
      });
    }
    // a pasted redirect saves twice (then once more as "paste"): the first save says whether the account is new
    const saved = { ...saves.at(-1)!, added: saves.some((s) => s.added) };
    const summary = describeLogin(auth, saved.account.store.path);
    const others = saved.count - 1;
    const what = saved.added
      ? others
        ? ` — added; ${saved.count} accounts, this one preferred`
        : ""
      : ` — its tokens were renewed${others ? `; ${saved.count} accounts, this one preferred` : ""}`;
    ctx.ui.result(
      `✔ Signed in as ${summary.email ?? "(no email in the token)"} (ChatGPT ${summary.planName})${what}\n` +
        formatRows([
          ["account", summary.accountId ?? "unknown"],
          ["tokens", summary.store],
          ...(others ? [["switch", "codex-proxy switch <email>  (see all: codex-proxy status)"] as [string, string]] : []),
        ]),
      { ...summary, added: saved.added, preferred: true, accounts: saved.count },
    );
  } finally {
    await ctx.close();
  }
}

async function chooseMethod(ctx: CommandContext, options: LoginOptions): Promise<Method> {
  if (options.device) return "device";
  if (options.import !== undefined) return "import";
  // any other flag (--no-browser, --timeout) already says "browser"; only a bare `login` in a terminal asks
  const bare = options.browser && options.timeout === undefined;
  if (!bare || !ctx.ui.interactive || ctx.ui.json) return "browser";
  const codexAuth = defaultCodexAuthPath();
  const { select } = await import("@inquirer/prompts");
  try {
    return await select<Method>({
      message: "How do you want to sign in?",
      choices: [
        { name: "Browser (sign in on the ChatGPT page)", value: "browser" },
        { name: "Device code (for machines without a browser)", value: "device" },
        ...(existsSync(codexAuth) ? [{ name: `Import the Codex CLI login (${codexAuth})`, value: "import" as const }] : []),
      ],
    });
  } catch (error) {
    if ((error as Error).name === "ExitPromptError") throw new LoginCancelledError();
    throw error;
  }
}

/** Run a login that ends after `ms`, or at Ctrl-C: either way the callback server is closed and nothing is stored. */
async function withTimeout<T>(ms: number, method: Method, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const fix = method === "device" ? "codex-proxy login --device" : "codex-proxy login";
  const hint = method === "device" ? "Run `codex-proxy login --device` again." : "Run `codex-proxy login` again, or use `--device` on a machine without a browser.";
  const timer = setTimeout(
    () => controller.abort(new LoginTimeoutError(`Login timed out after ${formatDuration(ms)} without being completed. ${hint}`, fix)),
    ms,
  );
  const onInterrupt = () => controller.abort(new LoginCancelledError());
  process.once("SIGINT", onInterrupt);
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", onInterrupt);
  }
}
