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

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
