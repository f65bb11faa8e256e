import { NotSignedInError } from "../auth/errors.js";
import { formatDuration, formatLocalTime, formatRelative, formatRows, parseDuration } from "../_utils/format.js";
import { untilAborted, withTimeLimit } from "../_utils/deadline.js";
import { UpstreamError } from "../upstream/errors.js";
import { describeLogin } from "../auth/describe.js";
import { formatUsage } from "../cli/usage-format.js";
import { usageJson } from "../upstream/rate-limits.js";
import { errorMessage } from "../errors.js";
import { CommandContext, type GlobalOptions } from "./_context.js";

export interface StatusOptions {
  /** refresh the token if due, and make one cheap backend call (`/models`) to update the usage limits */
  refresh?: boolean;
  /** how long the token refresh and the backend call may take @default "10s" */
  timeout?: string;
}

export async function run(options: StatusOptions, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals);
  const limitMs = parseDuration(options.timeout ?? "10s", "--timeout");
  try {
    if (options.refresh && ctx.core.store.read()) {
      const spinner = await ctx.ui.spinner("Asking the Codex backend for the usage limits…", { logElsewhere: false });
      // a backend or issuer that accepts and never answers must not leave a blank screen
      let late: Error | undefined;
      const warn = (error: unknown) => ctx.logger.warn(`Could not update the usage limits: ${errorMessage(error)}`);
      await withTimeLimit(
        async (signal) => {
          await untilAborted(ctx.core.tokens.getAccessToken(), signal);
          await ctx.core.upstream.listModels(signal).catch((error) => signal.aborted || warn(error));
        },
        limitMs,
        () => (late = new UpstreamError("timeout", `no answer within ${formatDuration(limitMs)}`)),
      )
        .catch((error) => {
          if (error !== late) throw error;
          warn(error);
        })
        .finally(() => spinner.stop());
    }
  } finally {
    await ctx.close();
  }
  const auth = ctx.core.store.read();
  if (!auth) {
    if (ctx.ui.json) ctx.ui.result("", { signedIn: false, store: ctx.core.store.path });
    throw new NotSignedInError();
  }
  const now = Date.now();
  const s = describeLogin(auth, ctx.core.store.path, now);
  const expiry = s.accessTokenExpiresAt
    ? `${s.accessTokenExpired ? "expired" : "expires"} ${formatLocalTime(Date.parse(s.accessTokenExpiresAt))} (${formatRelative(Date.parse(s.accessTokenExpiresAt), now)})` +
      (s.accessTokenExpired ? ", refreshed on next use" : "")
    : "no expiry in the token";
  const lastRefresh = Date.parse(s.lastRefresh);
  const usage = ctx.core.usage.latest ?? ctx.core.usage.read();
  ctx.ui.result(
    `Signed in as ${s.email ?? "(no email in the token)"}\n` +
      formatRows([
        ["plan", s.planName],
        ["account id", s.accountId ?? "unknown"],
        ["access token", expiry],
        ["last refresh", `${formatLocalTime(lastRefresh)} (${formatRelative(lastRefresh, now)})`],
        ["signed in via", s.method],
        ["token store", s.store],
      ]) +
      `\n\n${formatUsage(usage, now)}`,
    { ...s, usage: usageJson(usage) },
  );
}
