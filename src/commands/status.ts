import { NotSignedInError } from "../errors.js";
import { formatLocalTime, formatRelative, formatRows } from "../format.js";
import { describeLogin } from "../auth/describe.js";
import { formatUsage, usageJson } from "../usage-format.js";
import { errorMessage } from "../errors.js";
import { CommandContext, type GlobalOptions } from "./_context.js";

export interface StatusOptions {
  /** refresh the token if due, and make one cheap backend call (`/models`) to update the usage limits */
  refresh?: boolean;
}

export async function run(options: StatusOptions, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals);
  try {
    if (options.refresh && ctx.store.read()) {
      await ctx.tokens.getAccessToken();
      await ctx.upstream.listModels().catch((error) => ctx.logger.warn(`Could not update the usage limits: ${errorMessage(error)}`));
    }
  } finally {
    await ctx.close();
  }
  const auth = ctx.store.read();
  if (!auth) {
    if (ctx.ui.json) ctx.ui.result("", { signedIn: false, store: ctx.store.path });
    throw new NotSignedInError();
  }
  const now = Date.now();
  const s = describeLogin(auth, ctx.store.path, now);
  const expiry = s.accessTokenExpiresAt
    ? `${s.accessTokenExpired ? "expired" : "expires"} ${formatLocalTime(Date.parse(s.accessTokenExpiresAt))} (${formatRelative(Date.parse(s.accessTokenExpiresAt), now)})` +
      (s.accessTokenExpired ? ", refreshed on next use" : "")
    : "no expiry in the token";
  const lastRefresh = Date.parse(s.lastRefresh);
  const usage = ctx.usage.latest ?? ctx.usage.read();
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
