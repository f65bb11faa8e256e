import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../errors.js";
import { formatDuration } from "../_utils/format.js";
import { NetworkError } from "../_utils/http-client.js";
import type { Logger } from "../_utils/logger.js";
import { startCallbackServer } from "./callback-server.js";
import { LoginCancelledError, LoginFailedError } from "./errors.js";
import { readAccountClaims } from "./jwt.js";
import { CALLBACK_PORT, OAuthError, REDIRECT_URI, buildAuthorizeUrl, type OAuthClient, type TokenSet } from "./oauth.js";
import { createPkce, createState } from "./pkce.js";
import { readCodexAuth } from "./codex-import.js";
import type { LoginMethod, StoredAuth } from "./token-store.js";

/** Where a login is saved: the account store adds the account, or replaces its tokens. */
export interface LoginStore {
  /** `quarantined`: a corrupt file that was moved aside to make room */
  save(auth: StoredAuth): { quarantined?: string };
}

/** What a login needs from its caller's user interface (the CLI's Ui is one). */
export interface LoginUi {
  /** a line the user must see: the URL, the device code */
  say(line?: string): void;
  logger: Pick<Logger, "info" | "warn">;
  /** `handleSignals: false`: the login handles Ctrl-C itself */
  spinner(text: string, options: { handleSignals: boolean }): Promise<{ stop(): void }>;
}

export interface LoginContext {
  oauth: OAuthClient;
  store: LoginStore;
  ui: LoginUi;
  /** aborts when the login has taken too long */
  signal: AbortSignal;
  /** how long the login may take (the `signal`'s limit) */
  timeoutMs: number;
}

/** The device code itself expires after 15 minutes. */
export const DEVICE_CODE_LIFETIME_MS = 15 * 60_000;

/** Save a fresh login: a new account, or new tokens for a stored one. A corrupt store is moved aside, not silently lost. */
export function saveLogin(ctx: Pick<LoginContext, "store" | "ui">, tokens: TokenSet, method: LoginMethod, lastRefresh?: string): StoredAuth {
  const { accountId } = readAccountClaims(tokens.id_token, tokens.access_token);
  const auth: StoredAuth = {
    tokens: { ...tokens, account_id: accountId ?? null },
    last_refresh: lastRefresh && !Number.isNaN(Date.parse(lastRefresh)) ? new Date(lastRefresh).toISOString() : new Date().toISOString(),
    method,
  };
  const { quarantined } = ctx.store.save(auth);
  if (quarantined) ctx.ui.logger.warn(`The old token store was corrupt; it was kept as ${quarantined}`);
  return auth;
}

export interface BrowserLoginOptions {
  /** open the system browser @default true */
  openBrowser: boolean;
  /** offer a prompt to paste the redirect URL (terminal only) @default false */
  allowPaste: boolean;
  /** the callback port @default 1455 */
  port?: number;
}

/** The Codex CLI's browser flow: PKCE, a callback server on 127.0.0.1:1455, and the code exchange. */
export async function loginWithBrowser(ctx: LoginContext, options: BrowserLoginOptions): Promise<StoredAuth> {
  const pkce = createPkce();
  const state = createState();
  const url = buildAuthorizeUrl(ctx.oauth.issuer, { challenge: pkce.challenge, state });
  let saved: StoredAuth | undefined;
  const fix = "codex-proxy login";
  const exchange = async (code: string) => {
    const tokens = await ctx.oauth
      .exchangeCode({ code, verifier: pkce.verifier, redirectUri: REDIRECT_URI })
      .catch((error) => Promise.reject(explainUnreachable(error, ctx.oauth.issuer, fix)));
    saved = saveLogin(ctx, tokens, "browser");
  };

  const server = await startCallbackServer({
    port: options.port ?? CALLBACK_PORT,
    expectedState: state,
    onCode: (code) => exchange(code).catch((error) => Promise.reject(withNextStep(error, fix))),
  });
  const stopPrompt = new AbortController();
  try {
    ctx.ui.say("Sign in with ChatGPT by opening this URL in a browser:");
    ctx.ui.say("");
    ctx.ui.say(`  ${url}`);
    ctx.ui.say("");
    if (options.openBrowser) await openBrowser(url, ctx.ui, options.allowPaste);
    const waiting: Promise<unknown>[] = [server.done, rejectOnAbort(ctx.signal)];
    if (options.allowPaste) {
      waiting.push(
        promptForRedirect(state, stopPrompt.signal, exchange).then(
          (exchanged) => {
            if (!exchanged) return new Promise(() => {}); // the browser's callback finished first
            saved!.method = "paste";
            ctx.store.save(saved!);
          },
          (error) => Promise.reject(withNextStep(error, fix)),
        ),
      );
    } else {
      // no terminal to paste into: the browser's redirect is the only way back
      ctx.ui.logger.info(
        `Waiting for the browser to finish signing in… Its redirect to localhost:${CALLBACK_PORT} must reach this machine ` +
          `(from another one: ssh -L ${CALLBACK_PORT}:127.0.0.1:${CALLBACK_PORT} <this host>); otherwise use \`codex-proxy login --device\`.`,
      );
    }
    await Promise.race(waiting);
    return saved!;
  } finally {
    stopPrompt.abort();
    // give the browser a moment to load the success page it was redirected to
    if (saved) await sleep(300);
    await server.close();
  }
}

async function openBrowser(url: string, ui: LoginUi, canPaste: boolean): Promise<void> {
  const headless =
    process.env.SSH_CONNECTION || process.env.SSH_TTY || (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY);
  if (headless && !process.env.BROWSER) {
    ui.logger.info(
      "No local browser here. Open the URL on any device; if its redirect to localhost:1455 fails, " +
        `${canPaste ? "paste that page's URL here, " : ""}forward the port (ssh -L 1455:127.0.0.1:1455 <host>), or use \`codex-proxy login --device\`.`,
    );
    return;
  }
  const { default: open } = await import("open");
  await open(url).catch((error) => ui.logger.warn(`Could not open a browser (${errorMessage(error)}): open the URL yourself.`));
}

/**
 * Ask for the final redirect URL (or just the code) when the browser cannot reach this machine, and exchange it.
 * A value the issuer rejects asks again; false when the prompt was closed because the browser finished first.
 */
async function promptForRedirect(state: string, signal: AbortSignal, exchange: (code: string) => Promise<void>): Promise<boolean> {
  const { input } = await import("@inquirer/prompts");
  let failure: unknown;
  try {
    await input(
      {
        message: "If the browser cannot reach this machine, paste the URL it ended on (or the code):",
        theme: { validationFailureMode: "clear" },
        validate: async (value) => {
          const parsed = parseRedirect(value, state);
          if (typeof parsed !== "string") return parsed.error;
          try {
            await exchange(parsed);
          } catch (error) {
            // a typo or a stray word: the issuer refuses the code, and the login is not over
            if (error instanceof OAuthError && error.status >= 400 && error.status < 500) {
              return `The issuer did not accept that code (${error.code ?? `HTTP ${error.status}`}). Paste the whole URL the browser ended on (http://localhost:${CALLBACK_PORT}/auth/callback?code=…).`;
            }
            failure = error;
          }
          return true;
        },
      },
      { signal, clearPromptOnDone: true },
    );
  } catch (error) {
    const name = (error as Error).name;
    if (name === "AbortPromptError") return false;
    if (name === "ExitPromptError") throw new LoginCancelledError();
    throw error;
  }
  if (failure) throw failure;
  return true;
}

/** A pasted redirect URL, query string or bare code → the code, or why it is not usable. */
export function parseRedirect(value: string, state: string): string | { error: string } {
  const text = value.trim();
  if (!text) return { error: "Paste the URL from the browser's address bar, or the code." };
  if (!/[?&=]|:\/\//.test(text)) return text; // a bare code
  let params: URLSearchParams;
  try {
    params = text.includes("://") ? new URL(text).searchParams : new URLSearchParams(text.replace(/^[^?]*\?/, ""));
  } catch {
    return { error: "That is not a URL." };
  }
  const error = params.get("error");
  if (error) return { error: `The issuer answered ${error}${params.get("error_description") ? `: ${params.get("error_description")}` : ""}` };
  if (params.has("state") && params.get("state") !== state) return { error: "That URL belongs to another login attempt (state mismatch)." };
  const code = params.get("code");
  return code ? code : { error: "That URL has no `code` parameter." };
}

/** Headless sign-in: the user enters a code at {issuer}/codex/device on any device. */
export async function loginWithDevice(ctx: LoginContext): Promise<StoredAuth> {
  const fix = "codex-proxy login --device";
  const device = await ctx.oauth.requestDeviceCode().catch((error) => {
    // a 404 (device login not enabled) already names the way out
    const explained = explainUnreachable(error, ctx.oauth.issuer, fix);
    return Promise.reject(error instanceof OAuthError && error.status === 404 ? error : withNextStep(explained, fix));
  });
  ctx.ui.say("Sign in with ChatGPT on any device:");
  ctx.ui.say("");
  ctx.ui.say(`  1. Open ${device.verificationUrl}`);
  ctx.ui.say(`  2. Enter the code ${device.userCode}`);
  ctx.ui.say("");
  ctx.ui.say(
    ctx.timeoutMs < DEVICE_CODE_LIFETIME_MS
      ? `Approve it within ${formatDuration(ctx.timeoutMs)} (--timeout).`
      : `The code expires in ${formatDuration(DEVICE_CODE_LIFETIME_MS)}.`,
  );
  // the login's own Ctrl-C handler cancels it (the spinner's would exit at once, without a word)
  const spinner = await ctx.ui.spinner("Waiting for you to approve the sign-in…", { handleSignals: false });
  try {
    for (;;) {
      await sleep(device.intervalMs, undefined, { signal: ctx.signal });
      const approved = await ctx.oauth.pollDeviceCode(device);
      if (!approved) continue;
      const tokens = await ctx.oauth.exchangeCode({
        code: approved.authorizationCode,
        verifier: approved.codeVerifier,
        redirectUri: ctx.oauth.deviceRedirectUri,
      });
      spinner.stop();
      return saveLogin(ctx, tokens, "device");
    }
  } catch (error) {
    spinner.stop();
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (error instanceof OAuthError && error.code === "authorization_declined") {
      throw new LoginFailedError(
        `The sign-in was declined on the device page (authorization_declined). To sign in, ${runAgain(fix)} and approve it; or sign in with a browser: \`codex-proxy login\`.`,
        fix,
      );
    }
    throw withNextStep(explainUnreachable(error, ctx.oauth.issuer, fix), fix);
  }
}

/** Copy the Codex CLI's tokens into our own store; its file is never written. */
export function importFromCodex(ctx: Pick<LoginContext, "store" | "ui">, path: string): StoredAuth {
  const codex = readCodexAuth(path);
  return saveLogin(ctx, codex, "import", codex.last_refresh);
}

/** A sign-in server that cannot be reached: say which, and what to check, instead of a bare socket error. */
function explainUnreachable(error: unknown, issuer: string, fix: string): unknown {
  if (!(error instanceof NetworkError)) return error;
  return new LoginFailedError(
    `Cannot reach the sign-in server ${issuer} (${error.detail}). Check this machine's network and proxy settings ` +
      `(HTTPS_PROXY, NO_PROXY), then ${runAgain(fix)}.`,
    fix,
  );
}

/** The issuer refused or failed: its words, and how to start over. */
function withNextStep(error: unknown, fix: string): unknown {
  return error instanceof OAuthError ? new LoginFailedError(`${error.message}. To sign in, ${runAgain(fix)}.`, fix) : error;
}

function runAgain(fix: string): string {
  return `run \`${fix}\` again`;
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
