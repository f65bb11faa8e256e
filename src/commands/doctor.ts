import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { withDeadline } from "../_utils/deadline.js";
import { errorMessage } from "../errors.js";
import { AuthError } from "../auth/errors.js";
import { UpstreamError } from "../upstream/errors.js";
import { formatDuration, formatLocalTime, formatRelative, parseDuration } from "../_utils/format.js";
import type { AccountRecord } from "../accounts/store.js";
import { describeLogin } from "../auth/describe.js";
import { CALLBACK_PORT } from "../auth/oauth.js";
import { describePortOwner } from "../auth/port-owner.js";
import { serviceManager } from "../service/manager.js";
import { configDirProblem } from "../config-dir.js";
import { BUNDLED_MODELS, CODEX_CLIENT_VERSION, isNewerVersion, type ModelInfo } from "../upstream/models.js";
import { CommandContext, type GlobalOptions } from "./_context.js";

export interface DoctorOptions {
  /** false with --no-refresh */
  refresh: boolean;
  /** time limit of each network check @default "10s" */
  timeout?: string;
}

type Status = "ok" | "fail" | "warn" | "info";
export interface Check {
  name: string;
  status: Status;
  detail: string;
  /** one line that says how to fix it */
  fix?: string;
}

const MARK: Record<Status, string> = { ok: "✔", fail: "✖", warn: "!", info: "○" };

/** Every check that can explain a broken setup; each has a time limit, none prints a token. */
export async function run(options: DoctorOptions, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals, {}, { allowUnsafeConfigDir: true });
  const CHECK_TIMEOUT_MS = parseDuration(options.timeout ?? "10s", "--timeout");
  const checks: Check[] = [];
  const add = (check: Check) => {
    if (check.status === "ok") delete check.fix;
    checks.push(check);
    if (!ctx.ui.json) {
      ctx.ui.say(`${MARK[check.status]} ${check.name}: ${check.detail}`);
      if (check.fix && check.status !== "ok") ctx.ui.say(`    → ${check.fix}`);
    }
  };
  /** `fn`'s check, or a failed one with `fix(error)` when it throws or takes too long */
  const timed = async (name: string, fn: () => Promise<Check>, fix: (error: unknown) => string = () => "run `codex-proxy doctor` again, with a longer --timeout if it was cut off") => {
    const late = new Error(`no answer within ${formatDuration(CHECK_TIMEOUT_MS)}`);
    add(await withDeadline(fn(), CHECK_TIMEOUT_MS, () => late).catch((error): Check => ({ name, status: "fail", detail: errorMessage(error), fix: fix(error) })));
  };
  const networkFix = (url: string) => `check the network, HTTPS_PROXY and NO_PROXY: ${url} must be reachable from here`;
  /** a failed backend answer: the login, the plan's limits, or the network */
  const backendFix = (error: unknown) => {
    if (error instanceof UpstreamError && error.kind === "unauthorized") return "run `codex-proxy login`";
    if (error instanceof UpstreamError && (error.kind === "usage_limit" || error.kind === "rate_limited")) return "wait for the usage limit to reset (`codex-proxy status` shows when)";
    if (error instanceof UpstreamError && error.extra.upstreamStatus && error.extra.upstreamStatus >= 500) return "the backend is failing on its side: try again in a few minutes";
    return networkFix(ctx.config.upstreamUrl);
  };
  const refreshFix = (error: unknown) => (error instanceof AuthError ? `run \`${error.fix}\`` : networkFix(ctx.config.authUrl));
  try {
    add(checkNode());
    add(checkDir(ctx.config.configDir));
    // every account: its file, its tokens, a refresh and one backend call each (the backend's clock from the first)
    let records: AccountRecord[] = [];
    try {
      records = ctx.core.accounts.list();
    } catch (error) {
      add({ name: "Tokens", status: "fail", detail: errorMessage(error), fix: "run `codex-proxy login`" });
    }
    if (!records.length && !checks.some((c) => c.name === "Tokens")) add({ name: "Tokens", status: "fail", detail: "not signed in", fix: "run `codex-proxy login`" });
    // the backend's clock is read from its answer; when there is none, say why
    let backendDate: string | undefined = undefined;
    let noDate = "not compared: sign in first (the backend's clock is read from its answer)";
    let live: ModelInfo[] = [];
    if (!records.length) add({ name: "Codex backend", status: "info", detail: "not checked: sign in first" });
    for (const record of records) {
      const of = records.length > 1 ? ` (${record.email ?? record.accountId ?? record.key})` : "";
      if (!checkStore(record, of, add)) continue;
      const account = ctx.core.account(record);
      if (options.refresh) {
        await timed(`Token refresh${of}`, async () => {
          const quick = ctx.core.tokenManager(record, { retryDelaysMs: [] }); // a refresh past the time limit is still saved
          await quick.refreshNow().catch((error) => {
            if (error instanceof AuthError) account.markNeedsLogin(error);
            throw error;
          });
          return { name: `Token refresh${of}`, status: "ok", detail: "the issuer issued a new access token" };
        }, refreshFix);
      } else add({ name: `Token refresh${of}`, status: "info", detail: "skipped (--no-refresh)" });
      await timed(
        `Codex backend${of}`,
        async () => {
          if (backendDate === undefined) noDate = "not compared: the Codex backend did not answer";
          const models = await account.upstream.listModels(undefined, (h) => {
            if (typeof h.date === "string") backendDate ??= h.date;
            else noDate = "not compared: the backend's answer had no Date header";
          });
          if (!live.length) live = models;
          const limited = account.limitedUntil();
          if (limited) return { name: `Codex backend${of}`, status: "warn", detail: `answers, but this account's usage limit is reached until ${formatLocalTime(limited)}`, fix: "wait for the reset (`codex-proxy status` shows when), or sign in to another account: `codex-proxy login`" };
          return { name: `Codex backend${of}`, status: "ok", detail: `${ctx.config.upstreamUrl} answers (${models.filter((m) => m.visible).length} models)` };
        },
        backendFix,
      );
    }
    add(checkClock(backendDate, noDate));
    const saved = records.flatMap((record) => ctx.core.account(record).catalog.saved()?.models ?? []);
    add(checkClientVersion(ctx.config.clientVersion, [...saved, ...BUNDLED_MODELS], live));
    await timed("Login port", () => checkPort(CALLBACK_PORT, "127.0.0.1", "login"));
    await timed("Serve port", () => checkPort(ctx.config.port, ctx.config.host === "0.0.0.0" ? "127.0.0.1" : ctx.config.host, "serve"));
    await timed("Service", () => checkService());
    add(checkProxyEnv());
  } finally {
    await ctx.close();
  }
  const failed = checks.filter((c) => c.status === "fail").length;
  if (ctx.ui.json) ctx.ui.result("", { ok: failed === 0, checks });
  else ctx.ui.say(failed ? `\n✖ ${failed} problem${failed > 1 ? "s" : ""} found` : "\n✔ All checks passed");
  if (failed) process.exitCode = 1;
}

function checkNode(): Check {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  const ok = major > 20 || (major === 20 && minor >= 19);
  return { name: "Node.js", status: ok ? "ok" : "fail", detail: process.versions.node, fix: "install Node.js 20.19 or newer" };
}

function checkDir(dir: string): Check {
  const unsafe = configDirProblem(dir);
  if (unsafe) return { name: "Config dir", status: "fail", detail: unsafe.problem, fix: unsafe.fix };
  if (!existsSync(dir)) return { name: "Config dir", status: "fail", detail: `${dir} does not exist`, fix: "run `codex-proxy login`" };
  const mode = statSync(dir).mode & 0o777;
  if (mode & 0o077) return { name: "Config dir", status: "fail", detail: `${dir} is readable by others (mode ${mode.toString(8)})`, fix: `chmod 700 ${dir}` };
  return { name: "Config dir", status: "ok", detail: `${dir} (mode 700)` };
}

/** The token file, the tokens in it, and the access token's expiry. Returns whether someone is signed in. */
function checkStore(record: AccountRecord, of: string, add: (c: Check) => void): boolean {
  const path = record.store.path;
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) add({ name: `Token file${of}`, status: "fail", detail: `${path} is readable by others (mode ${mode.toString(8)})`, fix: `chmod 600 ${path}` });
  else add({ name: `Token file${of}`, status: "ok", detail: `${path} (mode 600)` });
  let auth;
  try {
    auth = record.store.read();
  } catch (error) {
    add({ name: `Tokens${of}`, status: "fail", detail: errorMessage(error), fix: "run `codex-proxy login`" });
    return false;
  }
  if (!auth) {
    add({ name: `Tokens${of}`, status: "fail", detail: "the store holds no tokens", fix: "run `codex-proxy login`" });
    return false;
  }
  const s = describeLogin(auth, path);
  add({ name: `Tokens${of}`, status: "ok", detail: `${record.preferred && of ? "preferred; " : ""}signed in as ${s.email ?? "unknown"} (ChatGPT ${s.planName}, account ${s.accountId ?? "unknown"})` });
  if (s.accessTokenExpiresAt) {
    const at = Date.parse(s.accessTokenExpiresAt);
    add({ name: `Access token${of}`, status: "ok", detail: s.accessTokenExpired ? `expired ${formatRelative(at)}; refreshed on next use` : `expires ${formatRelative(at)}` });
  } else add({ name: `Access token${of}`, status: "info", detail: "no expiry in the token; refreshed 8 days after the last refresh" });
  return true;
}

/**
 * The backend hides models whose minimal client version is newer than the one we send, so the live list cannot
 * show them: the catalogs that can are the saved list (fetched earlier, maybe with another version) and the bundled one.
 */
function checkClientVersion(version: string, known: ModelInfo[], live: ModelInfo[]): Check {
  const name = "Client version";
  const shown = new Set(live.map((m) => m.slug));
  const hidden = new Map<string, string>();
  for (const m of known) {
    if (m.visible && m.minimalClientVersion && isNewerVersion(m.minimalClientVersion, version) && !shown.has(m.slug)) hidden.set(m.slug, m.minimalClientVersion);
  }
  const sent = `Codex ${version}${version === CODEX_CLIENT_VERSION ? " (the default)" : ""}`;
  if (!hidden.size) return { name, status: "ok", detail: `${sent}: the backend shows every model the catalog knows` };
  const needed = [...hidden.values()].reduce((a, b) => (isNewerVersion(b, a) ? b : a));
  const [count, them] = hidden.size === 1 ? ["1 model in the catalog needs", "it"] : [`${hidden.size} models in the catalog need`, "them"];
  return {
    name,
    status: "warn",
    detail: `${count} Codex ≥ ${needed} (${[...hidden.keys()].join(", ")}); the backend hides ${them} from ${sent}`,
    fix: `set CODEX_PROXY_CLIENT_VERSION=${needed}`,
  };
}

function checkClock(date: string | undefined, why: string): Check {
  if (!date) return { name: "Clock", status: "info", detail: why };
  const skew = Date.now() - Date.parse(date);
  if (Number.isNaN(skew)) return { name: "Clock", status: "info", detail: `not compared: the backend's Date header is unreadable (${date.slice(0, 40)})` };
  const ok = Math.abs(skew) < 60_000;
  return {
    name: "Clock",
    status: ok ? "ok" : "fail",
    detail: ok ? "in step with the backend" : `${formatDuration(Math.abs(skew))} ${skew > 0 ? "ahead of" : "behind"} the backend`,
    fix: "turn on time sync (e.g. `timedatectl set-ntp true`): token expiry depends on the clock",
  };
}

async function checkPort(port: number, host: string, use: "login" | "serve"): Promise<Check> {
  const name = use === "login" ? "Login port" : "Serve port";
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
  if (free) return { name, status: "ok", detail: `${host}:${port} is free` };
  if (use === "serve") {
    try {
      const res = await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { name?: string; version?: string };
      if (body.name === "codex-proxy") return { name, status: "ok", detail: `codex-proxy ${body.version ?? ""} is running on ${host}:${port}`.replace("  ", " ") };
    } catch {
      // not ours
    }
  }
  const owner = await describePortOwner(port);
  return {
    name,
    status: use === "login" ? "warn" : "fail",
    detail: `${host}:${port} is in use${owner ? ` by ${owner}` : ""}`,
    fix: use === "login" ? "`codex-proxy login` needs it: stop that process, or use `codex-proxy login --device`" : "stop that process, or serve on another port with --port",
  };
}

async function checkService(): Promise<Check> {
  let manager;
  try {
    manager = serviceManager();
  } catch {
    return { name: "Service", status: "info", detail: "not supported on this platform" };
  }
  if (!existsSync(manager.unitPath)) return { name: "Service", status: "info", detail: "not installed (optional)", fix: "`codex-proxy service install` runs serve in the background" };
  const state = await manager.state();
  if (state.running) return { name: "Service", status: "ok", detail: `running (${manager.unitPath})` };
  const fix = "see `codex-proxy service logs`, then `codex-proxy service install` again";
  // a crash loop is not a stopped service: the manager keeps starting it, and each start fails
  if (state.restarting) return { name: "Service", status: "fail", detail: `restarting: it exits with an error and ${manager.kind} starts it again (${manager.unitPath})`, fix };
  return { name: "Service", status: "fail", detail: `installed but not running (${manager.unitPath})`, fix };
}

function checkProxyEnv(): Check {
  const seen = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]!.replace(/\/\/[^@/]*@/, "//***@")}`);
  return { name: "Proxy", status: "info", detail: seen.length ? `outbound calls use ${seen.join(" ")}` : "no HTTPS_PROXY / NO_PROXY set: direct connections" };
}
