import { CliError } from "../errors.js";
import type { AccountRecord } from "../accounts/store.js";
import { StoreCorruptError } from "../auth/errors.js";
import { CommandContext, type GlobalOptions } from "./_context.js";

export interface LogoutOptions {
  yes?: boolean;
  /** every account */
  all?: boolean;
}

/** `logout [<email|account-id>]`: one account (the preferred by default), or `--all`. */
export async function run(who: string | undefined, options: LogoutOptions, globals: GlobalOptions): Promise<void> {
  if (who !== undefined && options.all) throw new CliError("Name one account or use --all, not both.", 2);
  const ctx = new CommandContext(globals);
  const accounts = ctx.core.accounts;
  let targets: AccountRecord[];
  try {
    const records = accounts.list();
    targets = options.all ? records : who !== undefined ? [accounts.find(who)] : records.slice(0, 1);
  } catch (error) {
    // a corrupt store from before several accounts can still be removed
    if (!(error instanceof StoreCorruptError) || error.path !== accounts.legacy.path || who !== undefined) throw error;
    await confirm(ctx, options, "the corrupt token store", `logout${options.all ? " --all" : ""} --yes`);
    accounts.legacy.delete();
    ctx.ui.result(`✔ Removed the corrupt token store ${error.path}`, { signedOut: true, store: error.path, removed: [error.path] });
    return;
  }
  if (!targets.length) {
    if (ctx.ui.json) ctx.ui.result("", { signedOut: false, store: accounts.dir });
    throw new CliError("Not signed in: there is nothing to log out.");
  }
  const names = targets.map(nameOf);
  await confirm(ctx, options, names.join(", "), ["logout", ...(who !== undefined ? [who] : []), ...(options.all ? ["--all"] : []), "--yes"].join(" "));
  const removed: string[] = [];
  for (const record of targets) removed.push(...(await accounts.remove(record)));
  const left = accounts.list();
  const rest = left.length ? `\n${left.length} account${left.length > 1 ? "s" : ""} left; preferred: ${nameOf(left[0]!)}` : "";
  ctx.ui.result(`✔ Signed out ${names.join(", ")}: removed ${removed.join(", ")}${rest}`, {
    signedOut: true,
    store: targets[0]!.store.path,
    accounts: targets.map((r) => ({ email: r.email, accountId: r.accountId })),
    removed,
    remaining: left.length,
    preferred: left[0] ? nameOf(left[0]) : null,
  });
}

/** `command`: this logout with `--yes`, for the message when there is nobody to ask */
async function confirm(ctx: CommandContext, options: LogoutOptions, what: string, command: string): Promise<void> {
  if (options.yes) return;
  if (!ctx.ui.interactive || ctx.ui.json) {
    const why = ctx.ui.json ? "--json asks no questions" : "there is no terminal to confirm in";
    throw new CliError(`Nothing was removed: ${why}. To log out, run \`codex-proxy ${command}\`.`, 2);
  }
  const { confirm: ask } = await import("@inquirer/prompts");
  const ok = await ask({ message: `Sign out ${what} and delete ${what.includes(", ") ? "their" : "its"} tokens, usage figures and model list?`, default: false }).catch((error: Error) => {
    if (error.name === "ExitPromptError") throw new CliError("Logout cancelled; nothing was removed.", 130);
    throw error;
  });
  if (!ok) throw new CliError("Logout cancelled; nothing was removed.");
}

export function nameOf(record: AccountRecord): string {
  if (record.problem && !record.email) return `the corrupt token store ${record.store.path}`;
  return record.email ?? record.accountId ?? record.key;
}
