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
  /** the manager restarts it after a failure (systemd: `activating (auto-restart)`) */
  restarting: boolean;
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
  /** fails early with the way out when the service manager cannot be used here (`runInstead`: the same serve, by hand) */
  preflight(runInstead: string): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  state(): Promise<ServiceState>;
  logs(lines: number, follow: boolean, spec: { logFile: string }): Promise<number>;
  /** the last lines the service logged since `since`, as text (for an error message) */
  recentLogs(lines: number, spec: { logFile: string }, since: Date): Promise<string>;
}

async function run(argv: string[], what: string): Promise<ExecResult> {
  const result = await exec(argv[0]!, argv.slice(1));
  if (result.code !== 0) throw new CliError(`\`${argv.join(" ")}\` failed (${what}): ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`);
  return result;
}

const elsewhere = (runInstead: string) => `Run \`codex-proxy serve\` under your own supervisor instead, or in the background with:\n  ${runInstead}`;

function systemd(): ServiceManager {
  const sc = (...args: string[]) => ["systemctl", "--user", ...args];
  return {
    kind: "systemd",
    unitPath: systemdUnitPath(),
    render: renderSystemdUnit,
    startCommands: () => [sc("daemon-reload"), sc("enable", UNIT), sc("restart", UNIT)],
    stopCommands: () => [sc("disable", "--now", UNIT), sc("daemon-reload")],
    async preflight(runInstead) {
      const probe = await exec("systemctl", ["--user", "show-environment"]);
      if (probe.missing) throw new CliError(`systemctl was not found: \`codex-proxy service\` needs systemd. ${elsewhere(runInstead)}`);
      if (probe.code !== 0) {
        // sd_booted(): without systemd as PID 1 (a container, WSL1) there is no user manager to start
        if (!existsSync("/run/systemd/system")) {
          throw new CliError(`systemd is not the init system here (PID 1 is something else, as in a container or WSL1), so there are no user services. ${elsewhere(runInstead)}`);
        }
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
      const show = await exec("systemctl", ["--user", "show", UNIT, "--property", "ActiveState,SubState"]);
      const prop = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(show.stdout)?.[1]?.trim();
      const status = await exec("systemctl", ["--user", "status", UNIT, "--no-pager", "--lines", "0"]);
      return {
        installed,
        running: prop("ActiveState") === "active",
        restarting: prop("ActiveState") === "activating" && prop("SubState") === "auto-restart",
        detail: (status.stdout || status.stderr || show.stdout).trim(),
      };
    },
    // journald files a user unit's lines under _SYSTEMD_USER_UNIT, and root's (any uid below 1000) in the system
    // journal, where `journalctl --user` does not look: --user-unit matches the field in every journal file we can read
    logs(lines, follow) {
      return execInherit("journalctl", ["--user-unit", UNIT, "-n", String(lines), "--no-pager", ...(follow ? ["-f"] : [])]);
    },
    async recentLogs(lines, _spec, since) {
      // only this attempt's lines: the journal also holds those of the service it replaces
      const out = await exec("journalctl", ["--user-unit", UNIT, "--since", `@${Math.floor(since.getTime() / 1000)}`, "-n", String(lines), "--no-pager", "--quiet"]);
      return (out.stdout || out.stderr).trim();
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
      const running = print.code === 0 && /state = running/.test(print.stdout);
      // launchd's KeepAlive waits ThrottleInterval between restarts; it prints the last exit then
      const restarting = !running && print.code === 0 && /last exit code = [1-9]/.test(print.stdout);
      return { installed, running, restarting, detail: (print.stdout || print.stderr).trim().split("\n").slice(0, 12).join("\n") };
    },
    logs(lines, follow, spec) {
      return execInherit("tail", ["-n", String(lines), ...(follow ? ["-F"] : []), spec.logFile]);
    },
    async recentLogs(lines, spec) {
      return (await exec("tail", ["-n", String(lines), spec.logFile])).stdout.trim();
    },
  };
}

export function serviceManager(platform: NodeJS.Platform = process.platform): ServiceManager {
  if (platform === "linux") return systemd();
  if (platform === "darwin") return launchd();
  throw new CliError(`codex-proxy service supports Linux (systemd --user) and macOS (launchd), not ${platform}. Run \`codex-proxy serve\` under your platform's own service tool.`);
}
