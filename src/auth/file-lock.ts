import { closeSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export interface LockOptions {
  /** a lock older than this is from a crashed process and is taken over @default 30_000 */
  staleMs?: number;
  /** give up waiting after this long and go on without the lock @default 20_000 */
  waitMs?: number;
}

/**
 * A lock file shared by every codex-proxy process on the machine, so that `serve`, `status` and `doctor`
 * never spend the same refresh token twice (the issuer would answer `refresh_token_reused`).
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<() => void> {
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + (options.waitMs ?? 20_000);
  for (;;) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return () => {}; // the directory is gone: nothing to protect
      if (code !== "EEXIST") throw error;
    }
    try {
      if (Date.now() - statSync(path).mtimeMs > staleMs) rmSync(path, { force: true });
    } catch {
      // released meanwhile
    }
    if (Date.now() > deadline) return () => {};
    await sleep(25 + Math.random() * 25);
  }
}
