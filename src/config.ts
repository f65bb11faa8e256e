import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import envPaths from "env-paths";
import { CliError } from "./errors.js";
import { parseDuration } from "./_utils/format.js";
import { KNOWN_EFFORTS, REASONING_FORMATS, REASONING_SUMMARIES, type ReasoningFormat } from "./translate/reasoning-settings.js";
import { CODEX_CLIENT_VERSION } from "./upstream/models.js";

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
  /** @default 8787 */
  port: number;
  /** @default "127.0.0.1" */
  host: string;
  /** keys clients must send @default [] */
  apiKeys: string[];
  /** allowed CORS origins @default [] */
  corsOrigins: string[];
  /** Host names besides loopback and `host` that requests may name (DNS-rebinding guard) @default [] */
  allowedHosts: string[];
  /** default reasoning effort for requests that name none @default the model's default */
  reasoningEffort?: string;
  /** @default "auto" */
  reasoningSummary: string;
  /** @default "reasoning_content" (think-tags end up inside the answer in most clients) */
  reasoningFormat: ReasoningFormat;
  /** model for requests that name none */
  defaultModel?: string;
  /** Codex model that `claude-*` model names map to @default the account's first model */
  claudeModel?: string;
  /** "priority": the Fast tier for every request that does not say otherwise @default the standard tier */
  serviceTier?: string;
  /** add the backend's web search to every chat request that does not say otherwise @default false */
  webSearch?: boolean;
  /** abandon a backend stream that sends nothing for this long, ms @default 300_000 */
  idleTimeoutMs: number;
  /** the Codex CLI version the backend is told (`client_version`, user agent) @default CODEX_CLIENT_VERSION */
  clientVersion: string;
  /** with several accounts: "failover" uses the preferred one until it is limited, "round-robin" spreads new conversations @default "failover" */
  accountStrategy: AccountStrategy;
}

export const ACCOUNT_STRATEGIES = ["failover", "round-robin"] as const;
export type AccountStrategy = (typeof ACCOUNT_STRATEGIES)[number];

type Env = Record<string, string | undefined>;
type Key = Exclude<keyof Config, "configDir">;

/** `--config-dir` > `CODEX_PROXY_CONFIG_DIR` > the OS config dir for `codex-proxy`. */
export function resolveConfigDir(flag?: string, env: Env = process.env): string {
  const dir = flag || env.CODEX_PROXY_CONFIG_DIR;
  return dir ? resolve(dir) : envPaths("codex-proxy", { suffix: "" }).config;
}

interface Setting {
  env: string;
  fallback: unknown;
  parse: (raw: unknown, source: string) => unknown;
}

const SETTINGS: Record<Key, Setting> = {
  authUrl: { env: "CODEX_PROXY_AUTH_URL", fallback: DEFAULT_AUTH_URL, parse: parseBaseUrl },
  upstreamUrl: { env: "CODEX_PROXY_UPSTREAM_URL", fallback: DEFAULT_UPSTREAM_URL, parse: parseBaseUrl },
  port: { env: "CODEX_PROXY_PORT", fallback: 8787, parse: parsePort },
  host: { env: "CODEX_PROXY_HOST", fallback: "127.0.0.1", parse: parseString },
  apiKeys: { env: "CODEX_PROXY_API_KEY", fallback: [], parse: parseKeys },
  corsOrigins: { env: "CODEX_PROXY_CORS", fallback: [], parse: parseList },
  allowedHosts: { env: "CODEX_PROXY_ALLOWED_HOSTS", fallback: [], parse: parseList },
  reasoningEffort: { env: "CODEX_PROXY_REASONING_EFFORT", fallback: undefined, parse: oneOf(KNOWN_EFFORTS) },
  reasoningSummary: { env: "CODEX_PROXY_REASONING_SUMMARY", fallback: "auto", parse: oneOf(REASONING_SUMMARIES) },
  reasoningFormat: { env: "CODEX_PROXY_REASONING_FORMAT", fallback: "reasoning_content", parse: oneOf(REASONING_FORMATS) },
  defaultModel: { env: "CODEX_PROXY_DEFAULT_MODEL", fallback: undefined, parse: parseString },
  claudeModel: { env: "CODEX_PROXY_CLAUDE_MODEL", fallback: undefined, parse: parseString },
  serviceTier: { env: "CODEX_PROXY_SERVICE_TIER", fallback: undefined, parse: oneOf(["priority", "default"]) },
  webSearch: { env: "CODEX_PROXY_WEB_SEARCH", fallback: false, parse: parseBoolean },
  idleTimeoutMs: { env: "CODEX_PROXY_IDLE_TIMEOUT", fallback: 300_000, parse: (raw, source) => parseDuration(parseString(raw, source), source) },
  clientVersion: { env: "CODEX_PROXY_CLIENT_VERSION", fallback: CODEX_CLIENT_VERSION, parse: parseVersion },
  accountStrategy: { env: "CODEX_PROXY_ACCOUNT_STRATEGY", fallback: "failover", parse: oneOf(ACCOUNT_STRATEGIES) },
};

/** Flags hold raw strings (or arrays of them) as commander parsed them; they are checked like env values. */
export function loadConfig(flags: Partial<Record<keyof Config, unknown>> = {}, env: Env = process.env): Config {
  const configDir = resolveConfigDir(flags.configDir as string | undefined, env);
  const file = readConfigFile(join(configDir, "config.json"));
  const config: Record<string, unknown> = { configDir };
  for (const key of Object.keys(SETTINGS) as Key[]) {
    const setting = SETTINGS[key];
    const flag = flags[key];
    const flagSet = flag !== undefined && !(Array.isArray(flag) && flag.length === 0);
    if (flagSet) config[key] = setting.parse(flag, `--${kebab(key)}`);
    else if (env[setting.env]) config[key] = setting.parse(env[setting.env], setting.env);
    else if (file[key] !== undefined && file[key] !== null) config[key] = setting.parse(file[key], `"${key}" in ${join(configDir, "config.json")}`);
    else config[key] = setting.fallback;
  }
  return config as unknown as Config;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/-(key|host)s$/, "-$1").replace(/-origins$/, "").replace(/-ms$/, "");
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

function parseString(raw: unknown, source: string): string {
  if (typeof raw !== "string" || !raw.trim()) throw new CliError(`${source} must be a non-empty string.`, 2);
  return raw.trim();
}

function parseBaseUrl(raw: unknown, source: string): string {
  const text = parseString(raw, source);
  try {
    const url = new URL(text);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
    return url.href.replace(/\/+$/, "");
  } catch {
    throw new CliError(`${source} must be an http(s) URL, got "${text}".`, 2);
  }
}

function parseVersion(raw: unknown, source: string): string {
  const text = parseString(raw, source).replace(/^v/, "");
  if (!/^\d+\.\d+\.\d+$/.test(text)) throw new CliError(`${source} must be a Codex CLI version such as ${CODEX_CLIENT_VERSION}, got "${raw}".`, 2);
  return text;
}

function parsePort(raw: unknown, source: string): number {
  const n = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new CliError(`${source} must be a port number (0-65535), got "${raw}".`, 2);
  return n;
}

/** A list from repeated flags, a comma-separated string, or a JSON array. */
function parseList(raw: unknown, source: string): string[] {
  const items = Array.isArray(raw) ? raw : [raw];
  const out = items.flatMap((item) => {
    if (typeof item !== "string") throw new CliError(`${source} must be a string or a list of strings.`, 2);
    return item.split(",").map((s) => s.trim()).filter(Boolean);
  });
  return [...new Set(out)];
}

/**
 * API keys: each repeated flag (or config-file array item) is one key, whole; only a string (the environment
 * variable) is a comma-separated list. A key must be printable ASCII, since clients send it in a header; an
 * empty one would leave the server open. Errors name the key's position, never its value.
 */
function parseKeys(raw: unknown, source: string): string[] {
  const items = Array.isArray(raw) ? raw : typeof raw === "string" ? raw.split(",") : [raw];
  const keys = items.map((item, i) => {
    const which = items.length > 1 ? `key #${i + 1} of ${source}` : `the key of ${source}`;
    if (typeof item !== "string") throw new CliError(`${source} must be a string or a list of strings.`, 2);
    const key = item.trim();
    if (!key) throw new CliError(`${which} is empty: an empty key would let anyone in. Give a real key, or none.`, 2);
    if (!/^[\x20-\x7e]+$/.test(key)) throw new CliError(`${which} has a character clients cannot send in a header: use printable ASCII only.`, 2);
    return key;
  });
  return [...new Set(keys)];
}

function parseBoolean(raw: unknown, source: string): boolean {
  if (typeof raw === "boolean") return raw;
  const text = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  if (["1", "true", "yes", "on"].includes(text)) return true;
  if (["0", "false", "no", "off"].includes(text)) return false;
  throw new CliError(`${source} must be true or false; got "${raw}".`, 2);
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: unknown, source: string): T => {
    const text = typeof raw === "string" ? raw.trim().toLowerCase() : "";
    if (!(values as readonly string[]).includes(text)) throw new CliError(`${source} must be one of ${values.join(", ")}; got "${raw}".`, 2);
    return text as T;
  };
}
