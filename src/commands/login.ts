import { existsSync } from "node:fs";
import { CliError } from "../errors.js";
import { formatRows, parseDuration, formatDuration } from "../format.js";
import { defaultCodexAuthPath } from "../auth/codex-import.js";
import { describeLogin } from "../auth/describe.js";
import { LoginTimeoutError, importFromCodex, loginWithBrowser, loginWithDevice, type LoginContext } from "../auth/login.js";
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
  try {
    const method = await chooseMethod(ctx, options);
    let auth: StoredAuth;
    if (method === "import") {
      auth = importFromCodex(ctx, typeof options.import === "string" ? options.import : defaultCodexAuthPath());
    } else {
      // the device code itself expires after 15 minutes
      const limitMs = explicitTimeout ?? (method === "device" ? 15 * 60_000 : 5 * 60_000);
      auth = await withTimeout(limitMs, method, (signal) => {
        const loginCtx: LoginContext = { oauth: ctx.oauth, store: ctx.store, ui: ctx.ui, signal };
        return method === "device"
          ? loginWithDevice(loginCtx)
          : loginWithBrowser(loginCtx, { openBrowser: options.browser, allowPaste: ctx.ui.interactive });
      });
    }
    const summary = describeLogin(auth, ctx.store.path);
    ctx.ui.result(
      `✔ Signed in as ${summary.email ?? "(no email in the token)"} (ChatGPT ${summary.planName})\n` +
        formatRows([
          ["account", summary.accountId ?? "unknown"],
          ["tokens", ctx.store.path],
        ]),
      summary,
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
    if ((error as Error).name === "ExitPromptError") throw new CliError("Login cancelled.", 130);
    throw error;
  }
}

async function withTimeout<T>(ms: number, method: Method, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const hint = method === "device" ? "Run `codex-proxy login --device` again." : "Run `codex-proxy login` again, or use `--device` on a machine without a browser.";
  const timer = setTimeout(
    () => controller.abort(new LoginTimeoutError(`Login timed out after ${formatDuration(ms)} without being completed. ${hint}`)),
    ms,
  );
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
