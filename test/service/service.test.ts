import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderLaunchdPlist } from "../../src/service/launchd.js";
import { serviceManager } from "../../src/service/manager.js";
import { renderSystemdUnit } from "../../src/service/systemd.js";
import type { ServiceSpec } from "../../src/service/spec.js";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { signedInConfigDir } from "../helpers/serve.js";
import { waitFor } from "../helpers/wait.js";

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const FAKE_BIN = resolve(import.meta.dirname, "../fixtures/fake-bin");

const spec: ServiceSpec = {
  nodePath: "/usr/local/bin/node",
  cliPath: "/opt/codex proxy/bin/codex-proxy.js",
  args: ["serve", "--port", "8787", "--host", "127.0.0.1", "--cors", "http://a.example"],
  configDir: "/home/me/.config/codex-proxy",
  env: { CODEX_PROXY_API_KEY: "k1,k2" },
  envFile: "/home/me/.config/codex-proxy/service.env",
  logFile: "/home/me/.config/codex-proxy/logs/serve.log",
  healthUrl: "http://127.0.0.1:8787/health",
};

describe("the systemd unit, as text", () => {
  const unit = renderSystemdUnit(spec);

  it("runs serve with absolute paths, the pinned config dir, restart on failure, and no secret", () => {
    expect(unit).toContain('ExecStart=/usr/local/bin/node --max-semi-space-size=2 --heap-growing-percent=50 "/opt/codex proxy/bin/codex-proxy.js" serve --port 8787 --host 127.0.0.1 --cors http://a.example');
    expect(unit).toContain("Environment=CODEX_PROXY_CONFIG_DIR=/home/me/.config/codex-proxy");
    expect(unit).toContain("EnvironmentFile=-/home/me/.config/codex-proxy/service.env");
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^WantedBy=default\.target$/m);
    expect(unit).not.toContain("k1");
  });

  it("documents itself with the README installed beside the CLI, not a registry page that does not exist yet", () => {
    expect(unit).toMatch(/^Documentation=file:\/\/\/opt\/codex%%20proxy\/README\.md$/m);
  });

  it("passes systemd-analyze verify", () => {
    const dir = tempDir();
    const node = process.execPath;
    const cli = resolve(import.meta.dirname, "../../bin/codex-proxy.js");
    const real = renderSystemdUnit({ ...spec, nodePath: node, cliPath: cli, configDir: dir, envFile: join(dir, "service.env") });
    const file = join(dir, "codex-proxy.service");
    writeFileSync(file, real);
    const result = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
    expect(result.error, "systemd-analyze is part of Debian's systemd package").toBeUndefined();
    // verify complains about nothing in this unit (messages about other system units are not ours)
    expect(`${result.stdout}${result.stderr}`.split("\n").filter((l) => l.includes("codex-proxy.service"))).toEqual([]);
  });
});

describe("the launchd agent, as text", () => {
  const plist = renderLaunchdPlist(spec);

  it("is a valid property list with the expected keys, read by Python's plistlib", () => {
    const parsed = JSON.parse(
      execFileSync("python3", ["-c", "import plistlib,sys,json; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))"], { input: plist, encoding: "utf8" }),
    );
    expect(parsed).toMatchObject({
      Label: "com.codex-proxy.serve",
      ProgramArguments: ["/usr/local/bin/node", "--max-semi-space-size=2", "--heap-growing-percent=50", "--env-file=/home/me/.config/codex-proxy/service.env", "/opt/codex proxy/bin/codex-proxy.js", "serve", "--port", "8787", "--host", "127.0.0.1", "--cors", "http://a.example"],
      EnvironmentVariables: { CODEX_PROXY_CONFIG_DIR: "/home/me/.config/codex-proxy" },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      StandardOutPath: "/home/me/.config/codex-proxy/logs/serve.log",
      StandardErrorPath: "/home/me/.config/codex-proxy/logs/serve.log",
    });
    expect(plist).not.toContain("k1");
  });

  it("is loaded and removed with launchctl bootstrap / bootout", async () => {
    const log = join(tempDir(), "calls.log");
    const saved = { PATH: process.env.PATH, FAKE_SERVICE_LOG: process.env.FAKE_SERVICE_LOG };
    process.env.PATH = `${FAKE_BIN}:${process.env.PATH}`;
    process.env.FAKE_SERVICE_LOG = log;
    try {
      const manager = serviceManager("darwin");
      await manager.start();
      expect((await manager.state()).running).toBe(true);
      await manager.stop();
      const uid = process.getuid!();
      expect(readFileSync(log, "utf8").trim().split("\n")).toEqual([
        `launchctl bootout gui/${uid}/com.codex-proxy.serve`,
        `launchctl bootstrap gui/${uid} ${manager.unitPath}`,
        `launchctl print gui/${uid}/com.codex-proxy.serve`,
        `launchctl bootout gui/${uid}/com.codex-proxy.serve`,
      ]);
    } finally {
      process.env.PATH = saved.PATH;
      process.env.FAKE_SERVICE_LOG = saved.FAKE_SERVICE_LOG;
    }
  });
});

describe("codex-proxy service on Linux", () => {
  let fake: FakeBackend;
  beforeAll(async () => {
    fake = await startFakeBackend();
  });
  afterAll(() => fake.close());

  it("without a reachable systemd user manager: a clear error that names the ways out", async () => {
    const home = tempDir();
    const result = await runCli(["service", "install", "--port", "0"], cliEnv({ HOME: home, CODEX_PROXY_CONFIG_DIR: join(home, "cfg"), DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent", XDG_RUNTIME_DIR: join(home, "run") }));
    expect(result.code).toBe(1);
    if (existsSync("/run/systemd/system")) expect(result.stderr).toMatch(/systemd user manager is not reachable|systemctl was not found/);
    else {
      // no systemd as PID 1 (this container, WSL1): no advice about loginctl, which cannot help, but a way that works
      expect(result.stderr).toContain("systemd is not the init system here");
      expect(result.stderr).not.toContain("loginctl");
    }
    if (!result.stderr.includes("not reachable")) expect(result.stderr).toContain(`mkdir -p ${join(home, "cfg", "logs")} && setsid nohup codex-proxy serve --port 0 --host 127.0.0.1 >> ${join(home, "cfg", "logs", "serve.log")} 2>&1 < /dev/null &`);
    expect(existsSync(join(home, ".config/systemd/user/codex-proxy.service"))).toBe(false);
  });

  it("install writes the unit and a 0600 env file, starts it and waits for /health; status, logs and uninstall work", async () => {
    const home = tempDir();
    const { configDir } = signedInConfigDir(fake);
    const log = join(home, "calls.log");
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const env = cliEnv({
      HOME: home,
      PATH: `${FAKE_BIN}:${process.env.PATH}`,
      FAKE_SERVICE_LOG: log,
      CODEX_PROXY_CONFIG_DIR: configDir,
      CODEX_PROXY_AUTH_URL: fake.issuerUrl,
      CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl,
      HTTPS_PROXY: "http://proxy.internal:3128",
      NO_PROXY: "127.0.0.1,localhost",
    });
    mkdirSync(home, { recursive: true });
    const install = await runCli(["service", "install", "--port", String(port), "--api-key", "svc-secret", "--reasoning-format", "none"], env);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain(`runs as a systemd user service: http://127.0.0.1:${port}`);
    expect(install.stdout + install.stderr).not.toContain("svc-secret");
    const unit = readFileSync(join(home, ".config/systemd/user/codex-proxy.service"), "utf8");
    // the daemon's heap flags (bench/RESULTS.md): the node that installed it runs it, so it accepts them
    expect(unit).toMatch(new RegExp(`^ExecStart=\\S+ --max-semi-space-size=2 --heap-growing-percent=50 \\S+ serve --port ${port} --host 127\\.0\\.0\\.1 --reasoning-format none$`, "m"));
    expect(unit).not.toContain("svc-secret");
    const envFile = join(configDir, "service.env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, "utf8")).toContain('CODEX_PROXY_API_KEY="svc-secret"');
    expect(readFileSync(envFile, "utf8")).toContain('HTTPS_PROXY="http://proxy.internal:3128"');
    expect(install.stdout).toContain(`API key kept in ${join(configDir, "service.env")} (mode 0600); \`codex-proxy service status --show-key\` prints it`);
    expect(readFileSync(log, "utf8").split("\n").filter((l) => !/ (show|status) /.test(l)).slice(0, 4)).toEqual([
      "systemctl --user show-environment",
      "systemctl --user daemon-reload",
      "systemctl --user enable codex-proxy.service",
      "systemctl --user restart codex-proxy.service",
    ]);
    // the running service uses the key from the env file
    const unauthorized = await fetch(`http://127.0.0.1:${port}/v1/models`);
    expect(unauthorized.status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: "Bearer svc-secret" } })).status).toBe(200);

    const status = await runCli(["service", "status"], env);
    expect(status.stdout).toContain("✔ running (systemd");
    expect(status.stdout).toContain(`answering on http://127.0.0.1:${port}/health`);
    expect(status.stdout).toContain(`API key: kept in ${envFile} (\`--show-key\` prints it)`);
    expect(status.stdout).not.toContain("svc-secret");
    const shown = await runCli(["service", "status", "--show-key"], env);
    expect(shown.stdout).toContain("API key: svc-secret");
    const logs = await runCli(["service", "logs", "-n", "20"], env);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("listening on");
    // not `journalctl --user`: root's user units are in the system journal, which --user never reads
    expect(readFileSync(log, "utf8")).toContain("journalctl --user-unit codex-proxy.service -n 20 --no-pager");
    const badLines = await runCli(["service", "logs", "-n", "abc"], env);
    expect(badLines.code).toBe(2);
    expect(badLines.stderr).toContain('`--lines` takes a number of lines, like `-n 50`, not "abc"');

    const uninstall = await runCli(["service", "uninstall"], env);
    expect(uninstall.code).toBe(0);
    expect(existsSync(join(home, ".config/systemd/user/codex-proxy.service"))).toBe(false);
    expect(existsSync(envFile)).toBe(false);
    expect(readFileSync(log, "utf8")).toContain("systemctl --user disable --now codex-proxy.service");
    await waitFor(() => fetch(`http://127.0.0.1:${port}/health`).then(() => false, () => true), { what: "the service to stop listening" });
    const after = await runCli(["service", "status"], env);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("not installed");
  });

  it("a reinstall onto a busy port is refused before anything changes; one that fails to start puts the working service back", async () => {
    const home = tempDir();
    const { configDir } = signedInConfigDir(fake);
    const log = join(home, "calls.log");
    const env = cliEnv({ HOME: home, PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_SERVICE_LOG: log, CODEX_PROXY_CONFIG_DIR: configDir, CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl });
    const unitPath = join(home, ".config/systemd/user/codex-proxy.service");
    const envFile = join(configDir, "service.env");
    const port = await freePort();
    const first = await runCli(["service", "install", "--port", String(port), "--api-key", "keep-me"], env);
    expect(first.code, first.stderr).toBe(0);
    const unitBefore = readFileSync(unitPath, "utf8");
    const authorized = () => fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: "Bearer keep-me" } }).then((r) => r.status, () => 0);
    try {
      // someone else holds the new port
      const squatter = createServer();
      await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
      const busy = (squatter.address() as AddressInfo).port;
      const callsBefore = readFileSync(log, "utf8");
      const refused = await runCli(["service", "install", "--port", String(busy)], env);
      squatter.close();
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`Port ${busy} on 127.0.0.1 is in use`);
      expect(refused.stderr).toContain("the service was not changed");
      expect(readFileSync(unitPath, "utf8")).toBe(unitBefore);
      expect(readFileSync(envFile, "utf8")).toContain('CODEX_PROXY_API_KEY="keep-me"');
      expect(readFileSync(log, "utf8").slice(callsBefore.length)).not.toMatch(/daemon-reload|restart|disable/);
      expect(await authorized()).toBe(200);

      // the new service dies at start: its own error is shown and the old one runs again, key and all
      const crashPort = await freePort();
      const crashed = await runCli(["service", "install", "--port", String(crashPort)], { ...env, FAKE_SERVICE_CRASH: `${crashPort} Error: the new service cannot start` });
      expect(crashed.code).toBe(1);
      expect(crashed.stderr).toContain("Error: the new service cannot start");
      expect(crashed.stderr).toContain(`Put the previous unit and settings back; it runs again on http://127.0.0.1:${port}`);
      expect(readFileSync(unitPath, "utf8")).toBe(unitBefore);
      expect(readFileSync(envFile, "utf8")).toContain('CODEX_PROXY_API_KEY="keep-me"');
      await waitFor(async () => (await authorized()) === 200, { what: "the previous service to answer again" });
    } finally {
      await runCli(["service", "uninstall"], env);
    }
  });

  it("a reinstall without --api-key keeps the key the service had, and says so", async () => {
    const home = tempDir();
    const { configDir } = signedInConfigDir(fake);
    const env = cliEnv({ HOME: home, PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_SERVICE_LOG: join(home, "calls.log"), CODEX_PROXY_CONFIG_DIR: configDir, CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl });
    const first = await runCli(["service", "install", "--port", String(await freePort()), "--api-key", "keep-me"], env);
    expect(first.code, first.stderr).toBe(0);
    try {
      const port = await freePort();
      const again = await runCli(["service", "install", "--port", String(port)], env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout + again.stderr).toContain("API key: the previous install's is kept");
      expect(again.stdout + again.stderr).not.toContain("keep-me");
      expect(await fetch(`http://127.0.0.1:${port}/v1/models`).then((r) => r.status)).toBe(401);
      expect(await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: "Bearer keep-me" } }).then((r) => r.status)).toBe(200);
    } finally {
      await runCli(["service", "uninstall"], env);
    }
  });

  it("a first install that fails to start shows the service's error and leaves nothing installed", async () => {
    const home = tempDir();
    const { configDir } = signedInConfigDir(fake);
    const port = await freePort();
    const env = cliEnv({ HOME: home, PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_SERVICE_LOG: join(home, "calls.log"), CODEX_PROXY_CONFIG_DIR: configDir, FAKE_SERVICE_CRASH: `${port} Error: no way to start` });
    const started = Date.now();
    const out = await runCli(["service", "install", "--port", String(port)], env);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("Error: no way to start");
    expect(out.stderr).toContain("Removed it again: nothing is left installed.");
    // it stops waiting once the manager shows the service down, not after the full 20 s
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(existsSync(join(home, ".config/systemd/user/codex-proxy.service"))).toBe(false);
    expect(existsSync(join(configDir, "service.env"))).toBe(false);
  });

  it("doctor tells a service that keeps crashing from a stopped one", async () => {
    const home = tempDir();
    const port = await freePort();
    const unit = join(home, ".config/systemd/user/codex-proxy.service");
    mkdirSync(join(home, ".config/systemd/user"), { recursive: true });
    writeFileSync(unit, `[Service]\nExecStart=/usr/bin/node /x/codex-proxy.js serve --port ${port} --host 127.0.0.1\n`);
    const env = cliEnv({ HOME: home, PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_SERVICE_LOG: join(home, "calls.log"), CODEX_PROXY_CONFIG_DIR: join(home, "cfg") });
    const service = async (extra: Record<string, string>) => {
      const out = await runCli(["doctor", "--json", "--no-refresh", "--timeout", "5s"], { ...env, ...extra });
      return (JSON.parse(out.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === "Service");
    };
    expect(await service({ FAKE_SERVICE_CRASH: `${port} Error: boom` })).toMatchObject({ status: "fail", detail: expect.stringMatching(/^restarting: it exits with an error and systemd starts it again/) });
    expect(await service({})).toMatchObject({ status: "fail", detail: expect.stringMatching(/^installed but not running/) });
  });

  it("--dry-run prints the unit and touches nothing", async () => {
    const home = tempDir();
    const log = join(home, "calls.log");
    const out = await runCli(["service", "install", "--dry-run", "--api-key", "dry-secret"], cliEnv({ HOME: home, PATH: `${FAKE_BIN}:${process.env.PATH}`, FAKE_SERVICE_LOG: log, CODEX_PROXY_CONFIG_DIR: join(home, "cfg") }));
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("[Service]");
    expect(out.stdout).toContain('CODEX_PROXY_API_KEY="<redacted>"');
    expect(out.stdout).not.toContain("dry-secret");
    expect(existsSync(log)).toBe(false);
    expect(existsSync(join(home, ".config/systemd/user/codex-proxy.service"))).toBe(false);
  });

  it("the service gets every serve setting it was installed with", async () => {
    const home = tempDir();
    const flags = ["--account-strategy", "round-robin", "--service-tier", "priority", "--web-search", "--reasoning-effort", "high"];
    const out = await runCli(["service", "install", "--dry-run", ...flags], cliEnv({ HOME: home, CODEX_PROXY_CONFIG_DIR: join(home, "cfg") }));
    expect(out.code, out.stderr).toBe(0);
    const execStart = out.stdout.split("\n").find((line) => line.startsWith("ExecStart="));
    for (const flag of flags) expect(execStart).toContain(flag);
  });

  it("refuses a non-loopback host without an API key, like serve", async () => {
    const home = tempDir();
    const out = await runCli(["service", "install", "--host", "0.0.0.0", "--dry-run"], cliEnv({ HOME: home, CODEX_PROXY_CONFIG_DIR: join(home, "cfg") }));
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("Refusing to serve on 0.0.0.0 without an API key");
  });
});
