import { homedir } from "node:os";
import { join } from "node:path";
import { NODE_FLAGS, type ServiceSpec } from "./spec.js";

export const LABEL = "com.codex-proxy.serve";

export function launchdPlistPath(): string {
  return join(homedir(), "Library", "LaunchAgents", `${LABEL}.plist`);
}

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * A launchd agent: absolute paths, pinned config dir, restarted when it exits with an error, logs in the config
 * dir. Secrets stay in the 0600 env file, which Node reads itself (`--env-file`).
 */
export function renderLaunchdPlist(spec: ServiceSpec): string {
  const args = [spec.nodePath, ...NODE_FLAGS, `--env-file=${spec.envFile}`, spec.cliPath, ...spec.args].map((a) => `    <string>${xml(a)}</string>`).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>CODEX_PROXY_CONFIG_DIR</key>
    <string>${xml(spec.configDir)}</string>
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>10</integer>
  <key>ProcessType</key>
  <string>Background</string>
  <key>StandardOutPath</key>
  <string>${xml(spec.logFile)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(spec.logFile)}</string>
</dict>
</plist>
`;
}
