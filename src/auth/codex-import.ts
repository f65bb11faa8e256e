import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CodexImportError } from "./errors.js";
import type { TokenSet } from "./oauth.js";

/** `$CODEX_HOME/auth.json`, else `~/.codex/auth.json`. */
export function defaultCodexAuthPath(env: Record<string, string | undefined> = process.env): string {
  return env.CODEX_HOME ? join(resolve(env.CODEX_HOME), "auth.json") : join(homedir(), ".codex", "auth.json");
}

export interface CodexAuth extends TokenSet {
  account_id: string | null;
  last_refresh?: string;
}

/** Read the Codex CLI's login. The file is only ever read: refreshing it would break the Codex CLI's own login. */
export function readCodexAuth(path: string): CodexAuth {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CodexImportError(
        `No Codex CLI login at ${path}. Sign in with \`codex login\` first, or give the path: \`codex-proxy login --import <path>\`.`,
        "codex login",
      );
    }
    throw new CodexImportError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CodexImportError(`${path} is not valid JSON, so there is nothing to import.`);
  }
  const tokens = data?.tokens as Record<string, unknown> | undefined | null;
  if (!tokens || typeof tokens !== "object") {
    const apiKeyOnly = typeof data?.OPENAI_API_KEY === "string";
    throw new CodexImportError(
      apiKeyOnly
        ? `${path} holds an API key login, not a ChatGPT sign-in. Run \`codex-proxy login\` to sign in with ChatGPT.`
        : `${path} holds no ChatGPT tokens. Run \`codex-proxy login\` to sign in.`,
    );
  }
  const missing = ["id_token", "access_token", "refresh_token"].filter((k) => typeof tokens[k] !== "string" || !tokens[k]);
  if (missing.length) throw new CodexImportError(`${path} lacks ${missing.join(", ")}. Run \`codex-proxy login\` to sign in.`);
  return {
    id_token: tokens.id_token as string,
    access_token: tokens.access_token as string,
    refresh_token: tokens.refresh_token as string,
    account_id: typeof tokens.account_id === "string" ? tokens.account_id : null,
    last_refresh: typeof data.last_refresh === "string" ? data.last_refresh : undefined,
  };
}
