import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
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
    expect(unit).toContain('ExecStart=/usr/local/bin/node "/opt/codex proxy/bin/codex-proxy.js" serve --port 8787 --host 127.0.0.1 --cors http://a.example');
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
      ProgramArguments: ["/usr/local/bin/node", "--env-file=/home/me/.config/codex-proxy/service.env", "/opt/codex proxy/bin/codex-proxy.js", "serve", "--port", "8787", "--host", "127.0.0.1", "--cors", "http://a.example"],
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
    expect(result.stderr).toMatch(/systemd user manager is not reachable|systemctl was not found/);
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
    expect(unit).toContain(`serve --port ${port} --host 127.0.0.1 --reasoning-format none`);
    expect(unit).not.toContain("svc-secret");
    const envFile = join(configDir, "service.env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, "utf8")).toContain('CODEX_PROXY_API_KEY="svc-secret"');
    expect(readFileSync(envFile, "utf8")).toContain('HTTPS_PROXY="http://proxy.internal:3128"');
    expect(readFileSync(log, "utf8").split("\n").slice(0, 4)).toEqual([
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
    const logs = await runCli(["service", "logs", "-n", "20"], env);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("listening on");
    expect(readFileSync(log, "utf8")).toContain("journalctl --user -u codex-proxy.service -n 20 --no-pager");

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

  it("refuses a non-loopback host without an API key, like serve", async () => {
    const home = tempDir();
    const out = await runCli(["service", "install", "--host", "0.0.0.0", "--dry-run"], cliEnv({ HOME: home, CODEX_PROXY_CONFIG_DIR: join(home, "cfg") }));
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("Refusing to serve on 0.0.0.0 without an API key");
  });
});
