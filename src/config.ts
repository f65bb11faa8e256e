import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import envPaths from "env-paths";
import { CliError } from "./errors.js";

export const DEFAULT_AUTH_URL = "https://auth.openai.com";
export const DEFAULT_UPSTREAM_URL = "https://chatgpt.com/backend-api/codex";

/** The resolved configuration: flag > environment variable > `config.json` > default. */
export interface Config {
  /** where tokens and config live */
  configDir: string;
  /** OAuth issuer @default "https://auth.openai.com" */
  authUrl: string;
  /** Codex backend base URL @default "https://chatgpt.com/backend-api/codex" */
  upstreamUrl: string;
}

type Env = Record<string, string | undefined>;

/** `--config-dir` > `CODEX_PROXY_CONFIG_DIR` > the OS config dir for `codex-proxy`. */
export function resolveConfigDir(flag?: string, env: Env = process.env): string {
  const dir = flag || env.CODEX_PROXY_CONFIG_DIR;
  return dir ? resolve(dir) : envPaths("codex-proxy", { suffix: "" }).config;
}

interface Setting<K extends keyof Config> {
  env: string;
  fallback: Config[K];
  parse: (raw: string, source: string) => Config[K];
}

const SETTINGS: { [K in Exclude<keyof Config, "configDir">]: Setting<K> } = {
  authUrl: { env: "CODEX_PROXY_AUTH_URL", fallback: DEFAULT_AUTH_URL, parse: parseBaseUrl },
  upstreamUrl: { env: "CODEX_PROXY_UPSTREAM_URL", fallback: DEFAULT_UPSTREAM_URL, parse: parseBaseUrl },
};

export function loadConfig(flags: Partial<Config> = {}, env: Env = process.env): Config {
  const configDir = resolveConfigDir(flags.configDir, env);
  const file = readConfigFile(join(configDir, "config.json"));
  const config = { configDir } as Config;
  for (const key of Object.keys(SETTINGS) as (keyof typeof SETTINGS)[]) {
    const setting = SETTINGS[key] as Setting<typeof key>;
    const flag = flags[key];
    const fromEnv = env[setting.env];
    const fromFile = file[key];
    if (flag !== undefined) config[key] = flag;
    else if (fromEnv) config[key] = setting.parse(fromEnv, setting.env);
    else if (typeof fromFile === "string") config[key] = setting.parse(fromFile, `${key} in config.json`);
    else config[key] = setting.fallback;
  }
  return config;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CliError(`${path} is not a JSON object: fix or delete it.`);
}

function parseBaseUrl(raw: string, source: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
    return url.href.replace(/\/+$/, "");
  } catch {
    throw new CliError(`${source} must be an http(s) URL, got "${raw}".`, 2);
  }
}
