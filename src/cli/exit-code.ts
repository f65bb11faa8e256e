import { CliError } from "../errors.js";
import { LoginCancelledError } from "../auth/errors.js";

/**
 * The process's exit code for what a command threw: 1 failure, 2 usage error, 130 interrupted. The one place
 * where errors from the library side (auth, login) become exit codes; they carry none themselves.
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof LoginCancelledError) return 130;
  return 1;
}
