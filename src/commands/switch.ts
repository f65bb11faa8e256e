import { CliError } from "../errors.js";
import { planName } from "../auth/jwt.js";
import { CommandContext, type GlobalOptions } from "./_context.js";
import { nameOf } from "./logout.js";

/** `switch [<email|account-id>]`: make a signed-in account the preferred one (a menu in a terminal). */
export async function run(who: string | undefined, _options: unknown, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals);
  const accounts = ctx.core.accounts;
  const records = accounts.list();
  if (!records.length) throw new CliError("Not signed in: run `codex-proxy login` first.");
  let key: string;
  if (who !== undefined) key = accounts.find(who).key;
  else {
    if (!ctx.ui.interactive || ctx.ui.json) {
      throw new CliError(`Name the account: codex-proxy switch <email|account-id> (signed in: ${records.map(nameOf).join(", ")}).`, 2);
    }
    const { select } = await import("@inquirer/prompts");
    key = await select({
      message: "Which account should be preferred?",
      choices: records.map((r) => ({ name: `${nameOf(r)} (ChatGPT ${planName(r.plan ?? undefined)}${r.preferred ? ", preferred now" : ""})`, value: r.key })),
      default: records[0]!.key,
    }).catch((error: Error) => {
      if (error.name === "ExitPromptError") throw new CliError("Switch cancelled; nothing was changed.", 130);
      throw error;
    });
  }
  accounts.setPreferred(key);
  const record = accounts.list().find((r) => r.key === key)!;
  ctx.ui.result(`✔ ${nameOf(record)} is now the preferred account (a running serve picks it up for new conversations)`, {
    preferred: { email: record.email, accountId: record.accountId },
    accounts: records.length,
  });
}
