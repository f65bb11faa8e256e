import { NotSignedInError } from "../auth/errors.js";
import { formatDuration, formatLocalTime, formatRelative, formatRows, parseDuration } from "../_utils/format.js";
import { untilAborted, withTimeLimit } from "../_utils/deadline.js";
import { UpstreamError } from "../upstream/errors.js";
import { describeLogin, type LoginSummary } from "../auth/describe.js";
import { formatUsage } from "../cli/usage-format.js";
import { errorMessage } from "../errors.js";
import { AuthError } from "../auth/errors.js";
import type { Account } from "../accounts/account.js";
import { CommandContext, type GlobalOptions } from "./_context.js";
import { nameOf } from "./logout.js";

export interface StatusOptions {
  /** refresh each token if due, and make one cheap backend call (`/models`) per account to update the usage limits */
  refresh?: boolean;
  /** how long the token refreshes and the backend calls may take @default "10s" */
  timeout?: string;
}

export async function run(options: StatusOptions, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals);
  const limitMs = parseDuration(options.timeout ?? "10s", "--timeout");
  let accounts: Account[];
  /** an account's token could not be refreshed (the issuer refused it, or could not be reached) */
  let refreshFailed = false;
  try {
    accounts = ctx.core.accounts.list().map((record) => ctx.core.account(record));
    if (options.refresh && accounts.length) {
      const spinner = await ctx.ui.spinner("Asking the Codex backend for the usage limits…", { logElsewhere: false });
      // a backend or issuer that accepts and never answers must not leave a blank screen
      let late: Error | undefined;
      const warn = (account: Account, error: unknown) =>
        ctx.logger.warn(`Could not update the usage limits${accounts.length > 1 ? ` of ${account.name}` : ""}: ${errorMessage(error)}`);
      await withTimeLimit(
        (signal) =>
          Promise.all(
            accounts.map(async (account) => {
              if (account.record.problem) return;
              // with several accounts each one's failure is its own: the others are still refreshed and shown
              try {
                await untilAborted(account.tokens.getAccessToken(), signal);
              } catch (error) {
                if (error instanceof AuthError) account.markNeedsLogin(error);
                if (signal.aborted) return; // the time limit's warning says it
                if (accounts.length === 1) throw error; // with one account the failed refresh is the answer
                refreshFailed = true;
                warn(account, error);
                return;
              }
              await account.upstream.listModels(signal).catch((error) => signal.aborted || warn(account, error));
            }),
          ),
        limitMs,
        () => (late = new UpstreamError("timeout", `no answer within ${formatDuration(limitMs)}`)),
      )
        .catch((error) => {
          if (error !== late) throw error;
          ctx.logger.warn(`Could not update the usage limits: ${errorMessage(error)}`);
        })
        .finally(() => spinner.stop());
    }
  } finally {
    await ctx.close();
  }
  if (!accounts.length) {
    if (ctx.ui.json) ctx.ui.result("", { signedIn: false, store: ctx.core.accounts.dir, accounts: [] });
    throw new NotSignedInError();
  }
  for (const account of accounts) if (account.record.problem) ctx.logger.warn(account.record.problem.message);
  const now = Date.now();
  const views = accounts.map((account) => view(account, now));
  const preferred = views[0]!;
  const text =
    views.length === 1
      ? `Signed in as ${preferred.title}\n${preferred.text}`
      : `${views.length} ChatGPT accounts (serve uses ${ctx.config.accountStrategy}; change the preferred one with \`codex-proxy switch\`)\n\n` +
        views.map((v, i) => `${i === 0 ? "★" : "•"} ${v.title}${i === 0 ? " (preferred)" : ""}\n${indent(v.text)}`).join("\n\n");
  ctx.ui.result(text, { ...(preferred.summary ?? { signedIn: true }), usage: preferred.json.usage, accounts: views.map((v) => v.json) });
  // as `gh auth status`: a login that must be renewed is a failure, though the other accounts still work
  if (refreshFailed || views.some((v) => v.json.needsLogin)) process.exitCode = 1;
}

/** One account's lines and JSON. */
function view(account: Account, now: number) {
  const { record } = account;
  const usage = account.usageSnapshot();
  const limitedUntil = account.limitedUntil(now);
  const loginProblem = account.loginProblem();
  let summary: LoginSummary | undefined;
  try {
    const auth = record.store.read();
    summary = auth && describeLogin(auth, record.store.path, now);
  } catch {
    summary = undefined; // the problem is shown instead
  }
  const rows: [string, string][] = [];
  if (summary) {
    const expiry = summary.accessTokenExpiresAt
      ? `${summary.accessTokenExpired ? "expired" : "expires"} ${formatLocalTime(Date.parse(summary.accessTokenExpiresAt))} (${formatRelative(Date.parse(summary.accessTokenExpiresAt), now)})` +
        (summary.accessTokenExpired ? ", refreshed on next use" : "")
      : "no expiry in the token";
    const lastRefresh = Date.parse(summary.lastRefresh);
    rows.push(
      ["plan", summary.planName],
      ["account id", summary.accountId ?? "unknown"],
      ["access token", expiry],
      ["last refresh", `${formatLocalTime(lastRefresh)} (${formatRelative(lastRefresh, now)})`],
      ["signed in via", summary.method],
      ["token store", summary.store],
    );
  }
  if (limitedUntil) rows.push(["limited until", `${formatLocalTime(limitedUntil)} (${formatRelative(limitedUntil, now)}): requests go to another account meanwhile`]);
  if (loginProblem) rows.push(["needs login", `${loginProblem} (codex-proxy login)`]);
  return {
    title: record.problem ? nameOf(record) : (record.email ?? "(no email in the token)"),
    summary,
    text: `${formatRows(rows)}\n\n${formatUsage(usage, now)}`,
    json: { ...account.describe(now), accessTokenExpiresAt: summary?.accessTokenExpiresAt ?? null },
  };
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line ? `  ${line}` : line))
    .join("\n");
}
