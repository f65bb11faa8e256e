import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { CliError } from "../errors.js";
import { exec, execInherit, type ExecResult } from "./exec.js";
import { LABEL, launchdPlistPath, renderLaunchdPlist } from "./launchd.js";
import type { ServiceSpec } from "./spec.js";
import { UNIT, renderSystemdUnit, systemdUnitPath } from "./systemd.js";

export interface ServiceState {
  installed: boolean;
  running: boolean;
  /** what the service manager said */
  detail: string;
}

/** One way to run `serve` in the background: systemd --user on Linux, launchd on macOS. */
export interface ServiceManager {
  kind: "systemd" | "launchd";
  unitPath: string;
  render(spec: ServiceSpec): string;
  /** the commands `install` runs after writing the files, for --dry-run */
  startCommands(): string[][];
  stopCommands(): string[][];
  /** fails early with the way out when the service manager cannot be used here */
  preflight(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  state(): Promise<ServiceState>;
  logs(lines: number, follow: boolean, spec: { logFile: string }): Promise<number>;
}

async function run(argv: string[], what: string): Promise<ExecResult> {
  const result = await exec(argv[0]!, argv.slice(1));
  if (result.code !== 0) throw new CliError(`\`${argv.join(" ")}\` failed (${what}): ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`);
  return result;
}

function systemd(): ServiceManager {
  const sc = (...args: string[]) => ["systemctl", "--user", ...args];
  return {
    kind: "systemd",
    unitPath: systemdUnitPath(),
    render: renderSystemdUnit,
    startCommands: () => [sc("daemon-reload"), sc("enable", UNIT), sc("restart", UNIT)],
    stopCommands: () => [sc("disable", "--now", UNIT), sc("daemon-reload")],
    async preflight() {
      const probe = await exec("systemctl", ["--user", "show-environment"]);
      if (probe.missing) throw new CliError("systemctl was not found: `codex-proxy service` needs systemd. Run `codex-proxy serve` under your own supervisor instead (`service install --dry-run` shows the unit).");
      if (probe.code !== 0) {
        throw new CliError(
          `The systemd user manager is not reachable (${(probe.stderr || probe.stdout).trim()}). Log in to a full session, or run ` +
            `\`loginctl enable-linger ${userInfo().username}\` as root; or run \`codex-proxy serve\` under another supervisor.`,
        );
      }
    },
    async start() {
      for (const argv of this.startCommands()) await run(argv, "starting the service");
    },
    async stop() {
      await exec("systemctl", ["--user", "disable", "--now", UNIT]);
      await exec("systemctl", ["--user", "daemon-reload"]);
    },
    async state() {
      const installed = existsSync(this.unitPath);
      const active = await exec("systemctl", ["--user", "is-active", UNIT]);
      const status = await exec("systemctl", ["--user", "status", UNIT, "--no-pager", "--lines", "0"]);
      return { installed, running: active.code === 0 && active.stdout.trim() === "active", detail: (status.stdout || status.stderr || active.stdout).trim() };
    },
    logs(lines, follow) {
      return execInherit("journalctl", ["--user", "-u", UNIT, "-n", String(lines), "--no-pager", ...(follow ? ["-f"] : [])]);
    },
  };
}

function launchd(): ServiceManager {
  const domain = `gui/${process.getuid?.() ?? 501}`;
  return {
    kind: "launchd",
    unitPath: launchdPlistPath(),
    render: renderLaunchdPlist,
    startCommands() {
      return [["launchctl", "bootout", `${domain}/${LABEL}`], ["launchctl", "bootstrap", domain, this.unitPath]];
    },
    stopCommands: () => [["launchctl", "bootout", `${domain}/${LABEL}`]],
    async preflight() {
      const probe = await exec("launchctl", ["version"]);
      if (probe.missing) throw new CliError("launchctl was not found: `codex-proxy service` needs launchd on macOS.");
    },
    async start() {
      await exec("launchctl", ["bootout", `${domain}/${LABEL}`]); // an older copy may be loaded
      await run(["launchctl", "bootstrap", domain, this.unitPath], "loading the agent");
    },
    async stop() {
      await exec("launchctl", ["bootout", `${domain}/${LABEL}`]);
    },
    async state() {
      const installed = existsSync(this.unitPath);
      const print = await exec("launchctl", ["print", `${domain}/${LABEL}`]);
      return { installed, running: print.code === 0 && /state = running/.test(print.stdout), detail: (print.stdout || print.stderr).trim().split("\n").slice(0, 12).join("\n") };
    },
    logs(lines, follow, spec) {
      return execInherit("tail", ["-n", String(lines), ...(follow ? ["-F"] : []), spec.logFile]);
    },
  };
}

export function serviceManager(platform: NodeJS.Platform = process.platform): ServiceManager {
  if (platform === "linux") return systemd();
  if (platform === "darwin") return launchd();
  throw new CliError(`codex-proxy service supports Linux (systemd --user) and macOS (launchd), not ${platform}. Run \`codex-proxy serve\` under your platform's own service tool.`);
}
