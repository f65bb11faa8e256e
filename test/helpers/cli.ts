import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const BIN = resolve(import.meta.dirname, "../../bin/codex-proxy.js");

export function tempDir(prefix = "codex-proxy-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Nothing listens here: a test that forgets to point the CLI at the fake fails at once instead of going online. */
export const DEAD_URL = "http://127.0.0.1:9";

/** A clean environment: no proxies, no display, no CI-detected terminal, and never the real OpenAI hosts. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(https?_proxy|all_proxy|no_proxy|codex_proxy_.*|codex_home|display|wayland_display|browser|ssh_.*)$/i.test(key)) delete env[key];
  }
  delete env.NODE_OPTIONS;
  env.CODEX_PROXY_AUTH_URL = `${DEAD_URL}/auth`;
  env.CODEX_PROXY_UPSTREAM_URL = `${DEAD_URL}/backend-api/codex`;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface CliRun {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** resolves with the exit code */
  exited: Promise<number>;
  /** wait until stdout+stderr match */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): CliRun {
  return startNode(BIN, args, env);
}

/** Run a Node script (the CLI, or a program using the package) and watch its output; `nodeFlags` go to node itself. */
export function startNode(script: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string, nodeFlags: string[] = []): CliRun {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<number>((resolveExit) => child.on("close", (code, signal) => resolveExit(code ?? (signal ? 128 : 1))));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const match = (out + err).match(pattern);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolveMatch(match);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern}\nstdout: ${out}\nstderr: ${err}`));
        }, timeoutMs);
        listeners.add(check);
        check();
        exited.then(() => setTimeout(check, 0));
      });
    },
  };
}

export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = startCli(args, env);
  run.child.stdin.end();
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** The PID of a process that has exited (and was reaped): a lock holder that is certainly dead. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((r) => child.on("close", r));
  return child.pid!;
}
