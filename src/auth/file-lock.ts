import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

export interface LockOptions {
  /**
   * A lock held this long is taken over even when its PID lives: that PID was reused by another program
   * (a live holder's refresh ends long before, bounded by its own request timeouts). @default 600_000
   */
  maxHoldMs?: number;
}

/**
 * How long a lock whose holder cannot be checked (another host on a shared home, another PID namespace such as
 * a container with the host's network and hostname) is honoured: longer than a live refresh can take with its
 * retries (3 attempts of at most 30 s each, and the waits between them).
 */
const UNCHECKABLE_HOLD_MS = 120_000;

/** This process's PID namespace: a PID from another one means nothing here (`kill(pid, 0)` would lie). */
const PID_NAMESPACE = (() => {
  try {
    return readlinkSync("/proc/self/ns/pid").replace(/\s/g, "");
  } catch {
    return "-"; // no /proc (macOS): one namespace
  }
})();

/** the locks this process holds, by content: a lock naming our own PID that is not here is a dead process's */
const held = new Set<string>();

/**
 * A lock file shared by every codex-proxy process on the machine, so that `serve`, `status` and `doctor`
 * never spend the same refresh token twice (the issuer would answer `refresh_token_reused`). It names its
 * holder (`pid host nonce`); a waiter waits as long as that process lives and takes over at once when it died.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<() => void> {
  const maxHoldMs = options.maxHoldMs ?? 600_000;
  const me = `${process.pid} ${hostname()} ${randomBytes(8).toString("hex")} ${PID_NAMESPACE}`;
  for (;;) {
    const got = tryCreate(path, me);
    if (got === "gone") return () => {}; // the directory is gone: nothing to protect
    if (got === "ok") {
      held.add(me);
      return () => {
        held.delete(me);
        removeIf(path, me);
      };
    }
    const holder = readHolder(path);
    const dead = holder !== undefined && !holderAlive(path, holder, maxHoldMs);
    if (!dead || !takeOver(path, holder, maxHoldMs)) await sleep(20 + Math.random() * 30);
  }
}

/**
 * Create `path` holding `content`, complete from its first instant: written to a unique file, then hard-linked
 * into place (link fails if the lock exists), so no waiter ever sees an empty lock.
 */
function tryCreate(path: string, content: string): "ok" | "taken" | "gone" {
  const temp = `${path}.${process.pid}-${randomBytes(6).toString("hex")}`;
  try {
    writeFileSync(temp, content, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
  try {
    linkSync(temp, path);
    return "ok";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return "taken";
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

function readHolder(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // released meanwhile
  }
}

function removeIf(path: string, content: string): boolean {
  if (readHolder(path) !== content) return false;
  rmSync(path, { force: true });
  return true;
}

/**
 * Remove the dead holder's lock and nothing else. Two waiters may find the same dead holder: they take turns
 * through a second lock, and each removes the lock only if it still holds the dead holder's own content.
 */
function takeOver(path: string, dead: string, maxHoldMs: number): boolean {
  const breaker = `${path}.break`;
  const me = `${process.pid} ${hostname()} ${randomBytes(8).toString("hex")} ${PID_NAMESPACE}`;
  const got = tryCreate(breaker, me);
  if (got === "taken") {
    // a waiter killed inside the few lines below leaves the breaker behind
    const holder = readHolder(breaker);
    if (holder !== undefined && !holderAlive(breaker, holder, maxHoldMs)) removeIf(breaker, holder);
    return false;
  }
  if (got === "gone") return false;
  try {
    return removeIf(path, dead);
  } finally {
    removeIf(breaker, me);
  }
}

/** Whether the process named in a lock still runs; a lock from another host counts as alive until it is very old. */
function holderAlive(path: string, holder: string, maxHoldMs: number): boolean {
  // versions before 0.2 wrote only the PID, and then no namespace
  const [pidText = "", host = hostname(), , namespace = PID_NAMESPACE] = holder.split(" ");
  const pid = Number(pidText);
  let age: number;
  try {
    age = Date.now() - statSync(path).mtimeMs;
  } catch {
    return true; // released meanwhile: try again
  }
  // no PID to check (an old version killed between creating and writing it), or another host's: wait it out
  if (!/^\d+$/.test(pidText) || host !== hostname() || namespace !== PID_NAMESPACE) return age < UNCHECKABLE_HOLD_MS;
  if (age > maxHoldMs) return false;
  if (pid === process.pid) return held.has(holder);
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // ESRCH: no such process
  }
  return !isZombie(pid);
}

/** A killed process nobody reaped yet still answers `kill(pid, 0)`. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false; // no /proc (macOS): trust kill(pid, 0)
  }
}
