import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../_utils/atomic-write.js";
import type { Logger } from "../_utils/logger.js";
import { formatLocalTime, formatRelative } from "../_utils/format.js";
import type { RateLimitSnapshot } from "./rate-limits.js";

/** The last Codex usage-limit headers seen, kept in memory and in `usage.json` for `codex-proxy status`. */
export class UsageStore {
  latest: RateLimitSnapshot | undefined;
  #writeTimer?: NodeJS.Timeout;
  #warned = new Set<string>();

  constructor(
    readonly path: string,
    private readonly logger?: Logger,
    /** whose usage this is, in its warnings (with several accounts) */
    readonly owner?: () => string | undefined,
  ) {}

  /** The last snapshot written by any process. */
  read(): RateLimitSnapshot | undefined {
    try {
      return JSON.parse(readFileSync(this.path, "utf8")) as RateLimitSnapshot;
    } catch {
      return undefined;
    }
  }

  record(snapshot: RateLimitSnapshot): void {
    this.latest = snapshot;
    this.#warnIfHigh(snapshot);
    // many responses per second must not mean many writes
    this.#writeTimer ??= setTimeout(() => {
      this.#writeTimer = undefined;
      this.flush();
    }, 1000);
    this.#writeTimer.unref();
  }

  /** Forget the figures without saving them (the account was removed). */
  discard(): void {
    this.#cancelWrite();
    this.latest = undefined;
  }

  flush(): void {
    this.#cancelWrite();
    if (!this.latest) return;
    try {
      // a cache, written every second under traffic: no fsync on serve's event loop
      writeFileAtomic(this.path, JSON.stringify(this.latest, null, 2), { durable: false, createDir: false });
    } catch (error) {
      this.logger?.debug(`Could not save usage limits: ${(error as Error).message}`);
    }
  }

  #cancelWrite(): void {
    clearTimeout(this.#writeTimer);
    this.#writeTimer = undefined;
  }

  #warnIfHigh(snapshot: RateLimitSnapshot): void {
    for (const [name, window] of [["5-hour", snapshot.primary], ["weekly", snapshot.secondary]] as const) {
      if (!window || window.usedPercent < 90) continue;
      const key = `${name}:${window.resetsAt ?? ""}`;
      if (!this.#warned.has(key)) {
        this.#warned.add(key);
        const resets = window.resetsAt ? `; resets ${formatLocalTime(window.resetsAt)} (${formatRelative(window.resetsAt)})` : "";
        const owner = this.owner?.();
        this.logger?.warn(`${owner ? `${owner}: ` : ""}Codex ${name} usage limit at ${Math.round(window.usedPercent)}%${resets}`);
      }
    }
  }
}
