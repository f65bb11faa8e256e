import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { BIN, tempDir } from "./cli.js";
import { waitFor } from "./wait.js";

/**
 * A real `systemd --user` (with its own journald) on a machine without systemd as PID 1: inside a private mount
 * namespace with tmpfs on /run/systemd, /run/log and /var/log/journal, in a cgroup shaped like
 * `…/user-<uid>.slice/user@<uid>.service` so journald files the units' lines as a logged-in user's would be.
 */
export interface SystemdUser {
  home: string;
  env: NodeJS.ProcessEnv;
  /** run a command in the namespace */
  run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  /** run the built CLI in the namespace */
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

const SYSTEMD = ["/lib/systemd/systemd", "/usr/lib/systemd/systemd"].find(existsSync);
const JOURNALD = ["/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"].find(existsSync);

/** The cgroup hierarchies systemd tracks units in: the cgroup2 one, and the named v1 one on a hybrid host. */
function cgroupRoots(): string[] {
  const mounts = readFileSync("/proc/self/mounts", "utf8").split("\n").map((l) => l.split(" "));
  return mounts.filter(([, , type, opts]) => type === "cgroup2" || (type === "cgroup" && opts?.split(",").includes("name=systemd"))).map(([, dir]) => dir!);
}

/** Why a real user manager cannot be started here, or undefined when it can. */
export function systemdUserUnavailable(): string | undefined {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "needs root, to mount tmpfs over /run/systemd in a private mount namespace";
  if (!SYSTEMD || !JOURNALD) return "systemd is not installed (Debian: apt-get install -y systemd)";
  for (const tool of ["unshare", "nsenter", "systemctl", "journalctl"]) if (spawnSync(tool, ["--version"]).error) return `${tool} is missing`;
  const probe = spawnSync("unshare", ["-m", "true"], { encoding: "utf8" });
  if (probe.status !== 0) return `unshare -m is not permitted here (${(probe.stderr || "").trim() || `exit ${probe.status}`}), as in an unprivileged container`;
  const roots = cgroupRoots();
  if (!roots.length) return "no cgroup hierarchy is mounted";
  const test = join(roots[0]!, `codex-proxy-probe-${process.pid}`);
  try {
    mkdirSync(test);
    rmdirSync(test);
  } catch (error) {
    return `cgroups cannot be created here (${(error as NodeJS.ErrnoException).code})`;
  }
  return undefined;
}

const SCRIPT = `
set -e
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/system /run/systemd/journal /run/log
mount -t tmpfs tmpfs /run/log
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
"$JOURNALD" &
until [ -S /run/systemd/journal/stdout ]; do sleep 0.05; done
sh -c 'for d in $CGROUPS; do mkdir -p "$d"; echo $$ > "$d/cgroup.procs"; done; exec "$SYSTEMD" --user' &
until [ -S "$XDG_RUNTIME_DIR/systemd/private" ]; do sleep 0.05; done
echo READY
wait
`;

export async function startSystemdUser(): Promise<SystemdUser> {
  const home = tempDir("codex-proxy-systemd-");
  const runtime = join(home, "run");
  mkdirSync(runtime, { mode: 0o700 });
  const uid = process.getuid!();
  const slice = `codex-proxy-test-${process.pid}.slice`;
  const cgroups = cgroupRoots().map((root) => join(root, slice, `user-${uid}.slice`, `user@${uid}.service`));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_RUNTIME_DIR: runtime, XDG_CONFIG_HOME: join(home, ".config") };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  const holder: ChildProcess = spawn("unshare", ["-m", "--propagation", "private", "bash", "-c", SCRIPT], {
    env: { ...env, SYSTEMD, JOURNALD, CGROUPS: cgroups.join(" ") },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  holder.stdout!.on("data", (d: Buffer) => (output += d));
  holder.stderr!.on("data", (d: Buffer) => (output += d));
  let exited = false;
  holder.on("exit", () => (exited = true));
  await waitFor(() => output.includes("READY") || (exited && Promise.reject(new Error(`the namespace script ended: ${output}`))), { timeoutMs: 60_000, what: "systemd --user to start" });

  const run = (command: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("nsenter", ["-t", String(holder.pid), "-m", "--", command, ...args], { env: { ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d));
      child.stderr.on("data", (d: Buffer) => (stderr += d));
      child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });

  return {
    home,
    env,
    run,
    cli: (args, extra) => run(process.execPath, [BIN, ...args], extra),
    async close() {
      await run("systemctl", ["--user", "exit"]);
      await waitFor(() => !cgroups.some((dir) => existsSync(dir) && readFileSync(join(dir, "cgroup.procs"), "utf8").trim()), { timeoutMs: 30_000, what: "systemd --user to exit" }).catch(() => undefined);
      try {
        process.kill(-holder.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      await waitFor(() => exited, { timeoutMs: 30_000, what: "the namespace to end" });
      // the cgroups this created, deepest first (a cgroup directory is removed with rmdir, once empty)
      for (const root of cgroupRoots()) removeCgroupTree(join(root, slice));
    },
  };
}

function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (statSync(join(dir, name)).isDirectory()) removeCgroupTree(join(dir, name));
  try {
    rmdirSync(dir);
  } catch {
    // a process still in it: left for the kernel to report, not worth failing the suite
  }
}
