import { spawn } from "node:child_process";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** the command does not exist */
  missing: boolean;
}

/** Run a command and collect its output (never throws; a missing command is reported as such). */
export function exec(command: string, args: string[], timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", (error: NodeJS.ErrnoException) => resolve({ code: 127, stdout, stderr: error.message, missing: error.code === "ENOENT" }));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr, missing: false }));
  });
}

/** Run a command with the terminal attached (for `logs -f`). */
export function execInherit(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit" });
    child.on("error", () => resolve(127));
    child.on("close", (code) => resolve(code ?? 0));
  });
}
