import { realpathSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../errors.js";

/** Everything a service unit needs, platform independent. */
export interface ServiceSpec {
  /** absolute path of the node binary running now */
  nodePath: string;
  /** absolute path of the CLI entry (bin/codex-proxy.js) */
  cliPath: string;
  /** `serve` and its flags (never an API key) */
  args: string[];
  /** pinned, so the service and the user's shell use the same tokens */
  configDir: string;
  /** secrets and proxy settings, written to a 0600 env file rather than the command line */
  env: Record<string, string>;
  envFile: string;
  logFile: string;
  /** where to check `/health` after starting */
  healthUrl: string;
}

export const SERVICE_NAME = "codex-proxy";

/**
 * Node flags of the daemon. V8 sizes its heap for throughput: after waves of 64 concurrent streams the young
 * generation has grown to 32 MiB and the old one has grown too, RSS about 102 MiB. `serve` caps the semi-spaces at
 * 8 MiB at run time (`limitSemiSpace`), for 83–87 MiB at about the same CPU. The daemon goes further: semi-spaces of
 * 2 MiB and an old generation grown by half keep it at 80–82 MiB, for about a third more CPU per short request in
 * such bursts (bench/RESULTS.md). Only the command line sets a semi-space limit outright.
 */
export const NODE_FLAGS = ["--max-semi-space-size=2", "--heap-growing-percent=50"];

const PROXY_VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];

/** The service's own files in the config dir: the 0600 env file and (launchd) the log file. */
export function serviceFiles(configDir: string): { envFile: string; logFile: string } {
  return { envFile: join(configDir, "service.env"), logFile: join(configDir, "logs", "serve.log") };
}

export function buildSpec(input: { configDir: string; serveArgs: string[]; apiKeys: string[]; host: string; port: number; env?: NodeJS.ProcessEnv }): ServiceSpec {
  const env = input.env ?? process.env;
  const cliPath = realpathSync(process.argv[1] ?? "");
  if (/[\\/]_npx[\\/]/.test(cliPath)) {
    throw new CliError("codex-proxy runs from npx's cache here, which can vanish: install it first (from a clone of its repository: `npm install -g .`; README \"Install\" has every way), then run `codex-proxy service install`.");
  }
  const serviceEnv: Record<string, string> = {};
  if (input.apiKeys.length) serviceEnv.CODEX_PROXY_API_KEY = input.apiKeys.join(",");
  // the service does not inherit the shell: keep the proxy settings it was installed with
  for (const name of PROXY_VARS) if (env[name]) serviceEnv[name] = env[name]!;
  const healthHost = input.host === "0.0.0.0" || input.host === "::" ? "127.0.0.1" : input.host.includes(":") ? `[${input.host}]` : input.host;
  return {
    nodePath: realpathSync(process.execPath),
    cliPath,
    args: input.serveArgs,
    configDir: input.configDir,
    env: serviceEnv,
    ...serviceFiles(input.configDir),
    healthUrl: `http://${healthHost}:${input.port}/health`,
  };
}

/** KEY=value lines, values quoted for systemd's EnvironmentFile and Node's --env-file alike. */
export function renderEnvFile(env: Record<string, string>): string {
  const lines = Object.entries(env).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`);
  return `# written by codex-proxy service install; mode 0600\n${lines.join("\n")}\n`;
}

/** The values of an env file written by renderEnvFile. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/\\(.)/g, "$1");
  }
  return env;
}
