// Naming an account that is not there: plain errors, which the CLI prints (exit 1) and the server answers as a 400.

/** No signed-in account has that email, workspace id or key. */
export class AccountNotFoundError extends Error {
  override name = "AccountNotFoundError";
  constructor(
    readonly who: string,
    known: string[],
  ) {
    super(
      known.length
        ? `No signed-in account is ${JSON.stringify(who)}; the accounts are ${known.join(", ")}.`
        : `No signed-in account is ${JSON.stringify(who)}: no account is signed in (run \`codex-proxy login\`).`,
    );
  }
}

/** A workspace id that two signed-in users share names neither. */
export class AmbiguousAccountError extends Error {
  override name = "AmbiguousAccountError";
  constructor(
    readonly who: string,
    emails: string[],
  ) {
    super(`The workspace ${JSON.stringify(who)} has several signed-in users (${emails.join(", ")}); name one by its email.`);
  }
}
