import { CliError } from "../errors.js";
import { describeLogin } from "../auth/describe.js";
import { CommandContext, type GlobalOptions } from "./_context.js";

export interface LogoutOptions {
  yes?: boolean;
}

export async function run(options: LogoutOptions, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals);
  let who = "the stored login";
  try {
    const auth = ctx.core.store.read();
    if (!auth) {
      if (ctx.ui.json) ctx.ui.result("", { signedOut: false, store: ctx.core.store.path });
      throw new CliError("Not signed in: there is nothing to log out.");
    }
    who = describeLogin(auth, ctx.core.store.path).email ?? who;
  } catch (error) {
    // a corrupt store can still be removed
    if (error instanceof CliError) throw error;
  }
  if (!options.yes) {
    if (!ctx.ui.interactive || ctx.ui.json) {
      const why = ctx.ui.json ? "--json asks no questions" : "there is no terminal to confirm in";
      throw new CliError(`Nothing was removed: ${why}. To log out, run \`codex-proxy logout --yes\`.`, 2);
    }
    const { confirm } = await import("@inquirer/prompts");
    const ok = await confirm({ message: `Sign out ${who} and delete its tokens, usage figures and model list?`, default: false }).catch((error: Error) => {
      if (error.name === "ExitPromptError") throw new CliError("Logout cancelled; nothing was removed.", 130);
      throw error;
    });
    if (!ok) throw new CliError("Logout cancelled; nothing was removed.");
  }
  ctx.core.store.delete();
  // usage figures and the model list belong to this account: the next one must not show them
  const removed = [ctx.core.store.path, ...ctx.core.forgetAccountData()];
  ctx.ui.result(`✔ Signed out ${who}: removed ${removed.join(", ")}`, { signedOut: true, store: ctx.core.store.path, removed });
}
