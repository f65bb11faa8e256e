import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireLock } from "../../src/auth/file-lock.js";

/**
 * Every login test needs port 1455 (fixed by the OAuth client's redirect URI), and test files run in parallel:
 * a file that signs in holds this machine-wide lock for its whole run, so two files never fight over the port.
 */
export function holdLoginPort(): Promise<() => void> {
  return acquireLock(join(tmpdir(), "codex-proxy-tests-login-port-1455.lock"));
}

/** generous: the other file may take minutes on a busy machine */
export const LOGIN_PORT_WAIT_MS = 600_000;
