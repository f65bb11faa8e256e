// The account cannot be used until its owner acts: plain errors that say how (`fix`), so that each caller maps
// them its own way — the CLI to exit code 1, the server to a 401 in the client's format.

/** A problem with the saved login that only its owner can fix. */
export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    message: string,
    /** the command that fixes it */
    readonly fix = "codex-proxy login",
  ) {
    super(message);
  }
}

/** No tokens in the store. */
export class NotSignedInError extends AuthError {
  override name = "NotSignedInError";
  constructor() {
    super("Not signed in: run `codex-proxy login` first.");
  }
}

/** The refresh token is dead; only a new login helps. */
export class ReloginRequiredError extends AuthError {
  override name = "ReloginRequiredError";
  constructor(
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`${reason}. Sign in again: codex-proxy login`);
  }
}

/** The corrupt store names the file and the way out; nothing is wiped behind the user's back. */
export class StoreCorruptError extends AuthError {
  override name = "StoreCorruptError";
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`The token store ${path} is corrupt (${detail}). Run \`codex-proxy login\` to replace it, or \`codex-proxy logout --yes\` to remove it.`);
  }
}

/** The store cannot be written (a refreshed token would be lost). */
export class StoreWriteError extends AuthError {
  override name = "StoreWriteError";
}

/**
 * A sign-in that ended without a login; nothing was stored. Plain errors with the command that starts over
 * (`fix`): the CLI maps them to its exit codes, a program shows them its own way.
 */
export class LoginError extends Error {
  override name = "LoginError";
  constructor(
    message: string,
    /** the command that starts over */
    readonly fix = "codex-proxy login",
  ) {
    super(message);
  }
}

/** The issuer, the browser or the network ended the sign-in. */
export class LoginFailedError extends LoginError {
  override name = "LoginFailedError";
}

/** The sign-in was not completed in time (`--timeout`). */
export class LoginTimeoutError extends LoginError {
  override name = "LoginTimeoutError";
}

/** Ctrl-C during a login: nothing was stored, and the callback port is freed on the way out. */
export class LoginCancelledError extends LoginError {
  override name = "LoginCancelledError";
  constructor() {
    super("Login cancelled; nothing was changed.");
  }
}

/** The browser flow's callback port is held by another process. */
export class CallbackPortBusyError extends LoginError {
  override name = "CallbackPortBusyError";
}

/** The Codex CLI's login cannot be imported (missing, unreadable, not a ChatGPT sign-in). */
export class CodexImportError extends LoginError {
  override name = "CodexImportError";
}
