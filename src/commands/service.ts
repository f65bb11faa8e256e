import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { userInfo } from "node:os";
import { CliError } from "../errors.js";
import { serviceManager, type ServiceManager } from "../service/manager.js";
import { assertPortAvailable, FileSnapshot } from "../service/preflight.js";
import { buildSpec, parseEnvFile, renderEnvFile, serviceFiles, type ServiceSpec } from "../service/spec.js";
import { CommandContext, type GlobalOptions } from "./_context.js";
import { assertSafeExposure, serveSettings, type ServeFlags } from "./serve.js";

export interface InstallFlags extends ServeFlags {
  dryRun?: boolean;
}

/** `serve` flags given to `install`, to be repeated in the unit (API keys go to the env file instead). */
function serveArgs(flags: ServeFlags, port: number, host: string): string[] {
  const args = ["serve", "--port", String(port), "--host", host];
  for (const origin of flags.cors ?? []) args.push("--cors", origin);
  for (const name of flags.allowedHost ?? []) args.push("--allowed-host", name);
  const pairs: [string, string | undefined][] = [
    ["--reasoning-effort", flags.reasoningEffort],
    ["--reasoning-summary", flags.reasoningSummary],
    ["--reasoning-format", flags.reasoningFormat],
    ["--default-model", flags.defaultModel],
    ["--claude-model", flags.claudeModel],
    ["--shutdown-timeout", flags.shutdownTimeout],
    ["--body-limit", flags.bodyLimit],
    ["--idle-timeout", flags.idleTimeout],
    ["--service-tier", flags.serviceTier],
    ["--account-strategy", flags.accountStrategy],
  ];
  for (const [flag, value] of pairs) if (value !== undefined) args.push(flag, value);
  if (flags.webSearch) args.push("--web-search");
  if (flags.insecureNoAuth) args.push("--insecure-no-auth");
  return args;
}

/** The API keys of the installed service, from its env file. */
function installedKeys(envFile: string): string[] {
  if (!existsSync(envFile)) return [];
  return (parseEnvFile(readFileSync(envFile, "utf8")).CODEX_PROXY_API_KEY ?? "").split(",").filter(Boolean);
}

function specFor(ctx: CommandContext, flags: ServeFlags): { spec: ServiceSpec; keptKeys: boolean } {
  const { config } = ctx;
  // a reinstall (a new port, a new setting) must not silently open a service that required a key
  const previous = config.apiKeys.length ? [] : installedKeys(serviceFiles(config.configDir).envFile);
  const apiKeys = previous.length ? previous : config.apiKeys;
  assertSafeExposure({ host: config.host, apiKeys }, flags.insecureNoAuth);
  // the service reads its keys from CODEX_PROXY_API_KEY, a comma-separated list
  if (apiKeys.some((key) => key.includes(","))) throw new CliError("An API key for the service may not contain a comma (the service reads its keys as a comma-separated list).", 2);
  const spec = buildSpec({ configDir: config.configDir, serveArgs: serveArgs(flags, config.port, config.host), apiKeys, host: config.host, port: config.port });
  // settings from the shell's CODEX_PROXY_* variables would be lost: the service does not inherit them
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("CODEX_PROXY_") && value && !["CODEX_PROXY_CONFIG_DIR", "CODEX_PROXY_API_KEY", "CODEX_PROXY_PORT", "CODEX_PROXY_HOST"].includes(key)) spec.env[key] = value;
  }
  return { spec, keptKeys: previous.length > 0 };
}

const KEPT_KEY = "API key: the previous install's is kept (give --api-key to change it; `codex-proxy service uninstall` first to run without one)";

export async function install(flags: InstallFlags, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals, serveSettings(flags));
  const manager = serviceManager();
  const { spec, keptKeys } = specFor(ctx, flags);
  const unit = manager.render(spec);
  if (keptKeys && !ctx.ui.json) ctx.logger.info(KEPT_KEY);
  if (flags.dryRun) {
    const shown = Object.fromEntries(Object.entries(spec.env).map(([k, v]) => [k, k === "CODEX_PROXY_API_KEY" ? "<redacted>" : v]));
    const commands = manager.startCommands().map((c) => `  ${c.join(" ")}`);
    ctx.ui.result(
      [`# ${manager.unitPath}`, unit, `# ${spec.envFile} (mode 0600)`, renderEnvFile(shown), "# then it would run:", ...commands, `  (and wait for ${spec.healthUrl})`].join("\n"),
      { kind: manager.kind, unitPath: manager.unitPath, unit, envFile: spec.envFile, envKeys: Object.keys(spec.env), commands: manager.startCommands(), healthUrl: spec.healthUrl },
    );
    return;
  }
  await manager.preflight(runInstead(spec));
  const previous = await manager.state();
  const previousUnit = previous.installed ? readFileSync(manager.unitPath, "utf8") : undefined;
  // a port someone else holds fails the new service: refuse before touching the working one
  await assertPortAvailable(ctx.config.host, ctx.config.port, async () => previous.running && healthUrlOf(previousUnit ?? "") === spec.healthUrl && (await waitForHealth(spec.healthUrl, 1000)));
  const snapshot = new FileSnapshot([manager.unitPath, spec.envFile]);
  mkdirSync(spec.configDir, { recursive: true, mode: 0o700 });
  mkdirSync(dirname(spec.logFile), { recursive: true, mode: 0o700 });
  writeFileSync(spec.envFile, renderEnvFile(spec.env), { mode: 0o600 });
  chmodSync(spec.envFile, 0o600);
  mkdirSync(dirname(manager.unitPath), { recursive: true });
  writeFileSync(manager.unitPath, unit);
  let failure: string | undefined;
  const startedAt = new Date();
  try {
    await manager.start();
    if (!(await waitForHealth(spec.healthUrl, 20_000, () => stoppedForGood(manager)))) failure = `does not answer on ${spec.healthUrl}`;
  } catch (error) {
    failure = `could not be started: ${(error as Error).message}`;
  }
  if (failure) throw new CliError(`The service ${failure}. ${await rollBack(manager, spec, snapshot, previous.running, previousUnit, startedAt)}`);
  const lines = [`✔ codex-proxy runs as a ${manager.kind === "systemd" ? "systemd user service" : "launchd agent"}: ${spec.healthUrl.replace(/\/health$/, "")}`, `  unit    ${manager.unitPath}`, `  config  ${spec.configDir}`];
  if (spec.env.CODEX_PROXY_API_KEY) lines.push(`  API key kept in ${spec.envFile} (mode 0600); \`codex-proxy service status --show-key\` prints it`);
  if (manager.kind === "systemd") lines.push("", `To keep it running after you log out: loginctl enable-linger ${userInfo().username}`);
  lines.push("Check it with `codex-proxy service status`; read its logs with `codex-proxy service logs`.");
  ctx.ui.result(lines.join("\n"), { installed: true, kind: manager.kind, unitPath: manager.unitPath, url: spec.healthUrl.replace(/\/health$/, ""), envFile: spec.envFile });
}

/** The same serve, started by hand in the background, for hosts without a service manager. */
function runInstead(spec: ServiceSpec): string {
  const key = spec.env.CODEX_PROXY_API_KEY ? " --api-key <your key>" : "";
  const sh = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return `mkdir -p ${sh(dirname(spec.logFile))} && setsid nohup codex-proxy ${spec.args.map(sh).join(" ")}${key} >> ${sh(spec.logFile)} 2>&1 < /dev/null &\n(nothing was installed or saved)`;
}

/** The manager gave up on it or restarts it after a crash: waiting longer for /health will not help. */
async function stoppedForGood(manager: ServiceManager): Promise<boolean> {
  const state = await manager.state();
  return !state.running;
}

/** After a failed install: the previous service back as it was, or nothing left; says which, with the service's own error. */
async function rollBack(manager: ServiceManager, spec: ServiceSpec, snapshot: FileSnapshot, wasRunning: boolean, previousUnit: string | undefined, since: Date): Promise<string> {
  const logs = await manager.recentLogs(15, spec, since);
  const why = logs ? `Its last log lines:\n${logs.split("\n").map((l) => `  ${l}`).join("\n")}\n` : "";
  let outcome: string;
  try {
    await manager.stop();
    snapshot.restore();
    if (previousUnit === undefined) outcome = "Removed it again: nothing is left installed.";
    else if (wasRunning) {
      await manager.start();
      outcome = `Put the previous unit and settings back; it runs again on ${healthUrlOf(previousUnit).replace(/\/health$/, "")}.`;
    } else outcome = "Put the previous unit and settings back (it was not running before either).";
  } catch (error) {
    outcome = `Putting the previous state back failed too (${(error as Error).message}); \`codex-proxy service uninstall\` removes what is left (${manager.unitPath}).`;
  }
  return `${why}${outcome}`;
}

export async function uninstall(_flags: unknown, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals);
  const manager = serviceManager();
  const state = await manager.state();
  if (!state.installed) {
    ctx.ui.result("The service is not installed: nothing to remove.", { removed: false });
    return;
  }
  const envFile = envFileOf(readFileSync(manager.unitPath, "utf8")) ?? serviceFiles(ctx.config.configDir).envFile;
  await manager.stop();
  rmSync(manager.unitPath, { force: true });
  rmSync(envFile, { force: true });
  ctx.ui.result(`✔ Removed the service (${manager.unitPath})`, { removed: true, unitPath: manager.unitPath });
}

export async function status(flags: { showKey?: boolean }, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals);
  const manager = serviceManager();
  const state = await manager.state();
  if (!state.installed) {
    if (ctx.ui.json) ctx.ui.result("", { installed: false, running: false });
    throw new CliError("The service is not installed: `codex-proxy service install` sets it up.");
  }
  const unit = readFileSync(manager.unitPath, "utf8");
  const url = healthUrlOf(unit);
  const healthy = state.running && (await waitForHealth(url, 1000));
  const envFile = envFileOf(unit) ?? serviceFiles(ctx.config.configDir).envFile;
  const keys = installedKeys(envFile);
  const headline = state.running
    ? "✔ running"
    : state.restarting
      ? `↻ restarting: it exits with an error and ${manager.kind} starts it again (\`codex-proxy service logs\` shows why)`
      : "✖ not running";
  const keyLine = !keys.length ? "" : flags.showKey ? `\nAPI key${keys.length > 1 ? "s" : ""}: ${keys.join(", ")}` : `\nAPI key: kept in ${envFile} (\`--show-key\` prints it)`;
  ctx.ui.result(
    `${headline} (${manager.kind}, ${manager.unitPath})${healthy ? `, answering on ${url}` : ""}${keyLine}\n\n${state.detail}`,
    { installed: true, running: state.running, restarting: state.restarting, healthy, unitPath: manager.unitPath, envFile, detail: state.detail, ...(flags.showKey ? { apiKeys: keys } : {}) },
  );
  if (!state.running) process.exitCode = 1;
}

export async function logs(flags: { lines?: string; follow?: boolean }, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals);
  const manager = serviceManager();
  const lines = flags.lines ?? "100";
  if (!/^\d+$/.test(lines) || Number(lines) < 1) throw new CliError(`\`--lines\` takes a number of lines, like \`-n 50\`, not "${lines}".`, 2);
  const code = await manager.logs(Number(lines), Boolean(flags.follow), serviceFiles(ctx.config.configDir));
  if (code !== 0) process.exitCode = code;
}

/** The address the installed unit serves on, read from its `--port` / `--host` arguments. */
function healthUrlOf(unit: string): string {
  const port = /--port(?:\s+|<\/string>\s*<string>)(\d+)/.exec(unit)?.[1] ?? "8787";
  let host = /--host(?:\s+|<\/string>\s*<string>)([^\s<]+)/.exec(unit)?.[1] ?? "127.0.0.1";
  if (host === "0.0.0.0" || host === "::") host = "127.0.0.1";
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}/health`;
}

/** The env file the installed unit reads (systemd EnvironmentFile=, launchd --env-file=). */
function envFileOf(unit: string): string | undefined {
  return (/^EnvironmentFile=-?(.+)$/m.exec(unit) ?? /--env-file=([^<]+)</.exec(unit))?.[1]?.trim();
}

/** Polls /health until it answers or the deadline; `gaveUp` (checked every ~2s after a 3s grace) ends the wait early. */
async function waitForHealth(url: string, timeoutMs: number, gaveUp?: () => Promise<boolean>): Promise<boolean> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let lastCheck = started;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { name?: string };
      if (res.ok && body.name === "codex-proxy") return true;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) return false;
    if (gaveUp && Date.now() - started > 3000 && Date.now() - lastCheck > 2000) {
      lastCheck = Date.now();
      if (await gaveUp()) return false;
    }
    await sleep(250);
  }
}
