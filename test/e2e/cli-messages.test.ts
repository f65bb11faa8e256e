import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { spawn } from "node:child_process";
import { BIN, cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { startServe } from "../helpers/serve.js";

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

const env = () => cliEnv({ CODEX_PROXY_CONFIG_DIR: tempDir() });

describe("messages that say what is wrong", () => {
  it("serve --host with an address that is not this machine's says so, not that the port is in use", async () => {
    for (const host of ["10.99.99.99", "fd00:dead:beef::99"]) {
      const out = await runCli(["serve", "--host", host, "--insecure-no-auth", "--port", "0"], env());
      expect(out.code, out.stderr).toBe(2);
      expect(out.stderr).toContain(`Cannot listen on ${host}: it is not an address of this machine. Use 127.0.0.1 (this machine only), 0.0.0.0 (every interface, with an API key) or an address of this machine: 127.0.0.1`);
      expect(out.stderr).not.toContain("in use");
    }
  });

  it("`-v` alone says that the version is -V", async () => {
    for (const flag of ["-v", "--verbose"]) {
      const out = await runCli([flag], env());
      expect(out.code).toBe(2);
      expect(out.stderr).toBe("error: -v is --verbose (debug logs); for the version use -V or --version\n");
    }
    expect((await runCli(["-V"], env())).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("every command's --help lists the global options; the main help lists the exit codes", async () => {
    for (const command of [["models"], ["serve"], ["service", "logs"]]) {
      const out = await runCli([...command, "--help"], env());
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/Global Options:\n[^]*--verbose[^]*--quiet[^]*--json[^]*--config-dir <dir>/);
    }
    expect((await runCli(["--help"], env())).stdout).toContain("Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C).");
  });
});

describe("exit codes", () => {
  it("serve stopped with Ctrl-C (SIGINT) exits 130; stopped by a service manager (SIGTERM), 0", async () => {
    const interrupted = await startServe(fake);
    expect(await interrupted.stop("SIGINT")).toBe(130);
    expect(interrupted.run.stderr()).toContain("SIGINT: finishing open requests");
    const terminated = await startServe(fake);
    expect(await terminated.stop("SIGTERM")).toBe(0);
  });

  it("a reader that leaves early (`--help | head`) ends the CLI quietly, not with an EPIPE stack trace", async () => {
    const child = spawn(process.execPath, [BIN, "--help"], { env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy(); // the reading end is gone before the help is written
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).not.toContain("EPIPE");
    expect(code).toBe(0);
  });

  it("a usage error is 2", async () => {
    expect((await runCli(["models", "--no-such-flag"], env())).code).toBe(2);
    expect((await runCli(["no-such-command"], env())).code).toBe(2);
  });
});
