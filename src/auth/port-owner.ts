import { execFile } from "node:child_process";
import { readdir, readFile, readlink } from "node:fs/promises";

/** Best effort "PID 4242 (node)" for a listening TCP port, so an error can say who holds it. */
export async function describePortOwner(port: number): Promise<string | undefined> {
  const pid = (await pidFromLsof(port)) ?? (await pidFromProc(port));
  if (!pid) return undefined;
  const name = await readFile(`/proc/${pid}/comm`, "utf8").then((s) => s.trim(), () => undefined);
  return name ? `PID ${pid} (${name})` : `PID ${pid}`;
}

function pidFromLsof(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-t"], { timeout: 2000 }, (error, stdout) => {
      const pid = Number.parseInt(String(stdout).trim().split("\n")[0] ?? "", 10);
      resolve(!error && pid > 0 ? pid : undefined);
    });
  });
}

/** Linux without lsof: find the socket inode in /proc/net/tcp*, then the process holding it. */
async function pidFromProc(port: number): Promise<number | undefined> {
  if (process.platform !== "linux") return undefined;
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is col 1 (ADDR:PORT), state col 3 (0A = LISTEN), inode col 9
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === "0A" && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) return Number(pid);
    }
  }
  return undefined;
}
