import { spawn } from "node:child_process";
import { BIN } from "./cli.js";

/** Run the CLI under a real pseudo-terminal (util-linux `script`), so spinners and prompts appear as a user sees them. */
export function startInPty(args: string[], env: NodeJS.ProcessEnv) {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], { env: { ...env, CI: undefined, TERM: "xterm" } });
  let screen = "";
  child.stdout.on("data", (d: Buffer) => (screen += d.toString()));
  const exited = new Promise<number>((r) => child.on("close", (code) => r(code ?? 1)));
  /** the screen without cursor movements and colours */
  const text = () => screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  const waitFor = async (pattern: RegExp, timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const match = text().match(pattern);
      if (match) return match;
      if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  return { child, exited, waitFor, type: (input: string) => child.stdin.write(input), screen: text };
}
