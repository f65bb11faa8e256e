import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { NODE_FLAGS, SERVICE_NAME, type ServiceSpec } from "./spec.js";

export const UNIT = `${SERVICE_NAME}.service`;

export function systemdUnitPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "systemd", "user", UNIT);
}

/** Quote one ExecStart word the way systemd splits them; `%` is systemd's specifier character. */
function quote(word: string): string {
  const escaped = word.replace(/%/g, "%%");
  return /^[\w@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The README installed beside the CLI (bin/../README.md): a page that exists wherever the unit does. */
function readmeUrl(cliPath: string): string {
  return pathToFileURL(join(dirname(dirname(cliPath)), "README.md")).href.replace(/%/g, "%%");
}

/** A systemd user unit: absolute paths, pinned config dir, secrets in an EnvironmentFile, restart on failure. */
export function renderSystemdUnit(spec: ServiceSpec): string {
  const exec = [spec.nodePath, ...NODE_FLAGS, spec.cliPath, ...spec.args].map(quote).join(" ");
  return `[Unit]
Description=codex-proxy: the ChatGPT plan's Codex models over OpenAI, Ollama and Anthropic APIs
Documentation=${readmeUrl(spec.cliPath)}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${exec}
Environment=${quote(`CODEX_PROXY_CONFIG_DIR=${spec.configDir}`)}
EnvironmentFile=-${spec.envFile}
Restart=on-failure
RestartSec=5
# serve finishes open streams on SIGTERM before exiting
KillSignal=SIGTERM
TimeoutStopSec=30
NoNewPrivileges=true

[Install]
WantedBy=default.target
`;
}
