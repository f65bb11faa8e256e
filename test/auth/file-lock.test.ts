import { spawn } from "node:child_process";
import { readFileSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock } from "../../src/auth/file-lock.js";
import { tempDir, deadPid } from "../helpers/cli.js";

describe("acquireLock", () => {
  it("names its holder, and leaves nothing behind on release", async () => {
    const dir = tempDir();
    const path = join(dir, "auth.json.lock");
    const release = await acquireLock(path);
    expect(readFileSync(path, "utf8")).toMatch(new RegExp(`^${process.pid} ${hostname()} [0-9a-f]{16} \\S+$`));
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("many waiters take over a dead holder's lock one at a time", async () => {
    const path = join(tempDir(), "auth.json.lock");
    writeFileSync(path, `${await deadPid()} ${hostname()} 0123456789abcdef`);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const release = await acquireLock(path);
        most = Math.max(most, ++inside);
        await new Promise((r) => setImmediate(r));
        inside--;
        release();
      }),
    );
    expect(most).toBe(1);
  });

  it("a take-over left half-done by a killed waiter does not block the next one", async () => {
    const path = join(tempDir(), "auth.json.lock");
    writeFileSync(path, `${await deadPid()} ${hostname()} 0123456789abcdef`);
    writeFileSync(`${path}.break`, `${await deadPid()} ${hostname()} fedcba9876543210`);
    const release = await acquireLock(path);
    expect(readFileSync(path, "utf8")).toContain(`${process.pid} `);
    release();
    expect(readdirSync(dirname(path))).toEqual([]);
  });

  it("a lock naming this very PID but not held by it is a dead process's (the PID was reused)", async () => {
    const path = join(tempDir(), "auth.json.lock");
    writeFileSync(path, `${process.pid} ${hostname()} 0123456789abcdef`);
    const release = await acquireLock(path);
    expect(readFileSync(path, "utf8")).not.toContain("0123456789abcdef");
    release();
  });

  it("waits for a live holder, and goes on at once when it is killed", async () => {
    const path = join(tempDir(), "auth.json.lock");
    const holder = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
    writeFileSync(path, `${holder.pid} ${hostname()} 0123456789abcdef`);
    let acquired = false;
    const waiting = acquireLock(path).then((release) => {
      acquired = true;
      return release;
    });
    // still waiting after many of its polls (each is at most 50 ms)
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 25));
    expect(acquired).toBe(false);
    holder.kill("SIGKILL");
    (await waiting)();
    expect(acquired).toBe(true);
  });

  it("a holder in another PID namespace (a container with the host's hostname) cannot be checked: it is waited for", async () => {
    const path = join(tempDir(), "auth.json.lock");
    // a PID that is dead here may be a live serve in that container
    writeFileSync(path, `${await deadPid()} ${hostname()} 0123456789abcdef pid:[1]`);
    const outcome = await Promise.race([acquireLock(path).then((release) => (release(), "taken")), new Promise((r) => setTimeout(r, 1000, "waiting"))]);
    expect(outcome).toBe("waiting"); // (a slow machine can only make the take-over slower, never earlier)
    const old = (Date.now() - 130_000) / 1000;
    utimesSync(path, old, old);
    const release = await acquireLock(path); // until it is older than any live refresh
    release();
  });

  it("release leaves a lock alone that is not its own", async () => {
    const path = join(tempDir(), "auth.json.lock");
    const release = await acquireLock(path);
    writeFileSync(path, `${process.pid} ${hostname()} fedcba9876543210`);
    release();
    expect(readFileSync(path, "utf8")).toContain("fedcba9876543210");
  });
});
