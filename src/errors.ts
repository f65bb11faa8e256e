/** An error meant for the person at the terminal: the message says what went wrong and how to fix it. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    /** process exit code: 1 failure, 2 usage error */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** No tokens in the store. */
export class NotSignedInError extends CliError {
  override name = "NotSignedInError";
  constructor() {
    super("Not signed in: run `codex-proxy login` first.");
  }
}

/** The refresh token is dead; only a new login helps. */
export class ReloginRequiredError extends CliError {
  override name = "ReloginRequiredError";
  constructor(
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`${reason}. Sign in again: codex-proxy login`);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
