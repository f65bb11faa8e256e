import pkg from "../../package.json" with { type: "json" };
import { setMaxListeners } from "node:events";
import { CliError } from "../errors.js";
import { parseDuration } from "../_utils/format.js";
import { compileWasmOnce, limitSemiSpace, SERVE_SEMI_SPACE_MIB } from "../_utils/heap.js";
import { registerSecret } from "../_utils/redact.js";
import { createApp } from "../server/app.js";
import { serveOptions, type ServeOptions } from "../server/context.js";
import { isLoopback, startServer } from "../server/listen.js";
import { CommandContext, type GlobalOptions } from "./_context.js";

export interface ServeFlags {
  port?: string;
  host?: string;
  apiKey?: string[];
  cors?: string[];
  allowedHost?: string[];
  reasoningEffort?: string;
  reasoningSummary?: string;
  reasoningFormat?: string;
  defaultModel?: string;
  claudeModel?: string;
  serviceTier?: string;
  webSearch?: boolean;
  accountStrategy?: string;
  insecureNoAuth?: boolean;
  /** how long open streams may finish after SIGTERM @default "10s" */
  shutdownTimeout?: string;
  /** @default "50mb" in bytes */
  bodyLimit?: string;
  /** abandon a backend stream silent for this long @default "5m" */
  idleTimeout?: string;
}

/** A non-loopback address without an API key would hand the ChatGPT account to the network. */
export function assertSafeExposure(config: { host: string; apiKeys: string[] }, insecureNoAuth?: boolean): void {
  if (!isLoopback(config.host) && !config.apiKeys.length && !insecureNoAuth) {
    throw new CliError(
      `Refusing to serve on ${config.host} without an API key: anyone who can reach it could use your ChatGPT account. ` +
        "Add --api-key <key> (or CODEX_PROXY_API_KEY), or pass --insecure-no-auth if that is really what you want.",
      2,
    );
  }
}

/** serve's flags as config settings (checked like environment values). */
export function serveSettings(flags: ServeFlags) {
  return {
    port: flags.port,
    host: flags.host,
    apiKeys: flags.apiKey,
    corsOrigins: flags.cors,
    allowedHosts: flags.allowedHost,
    reasoningEffort: flags.reasoningEffort,
    reasoningSummary: flags.reasoningSummary,
    reasoningFormat: flags.reasoningFormat,
    defaultModel: flags.defaultModel,
    claudeModel: flags.claudeModel,
    serviceTier: flags.serviceTier,
    webSearch: flags.webSearch,
    accountStrategy: flags.accountStrategy,
    idleTimeoutMs: flags.idleTimeout,
  };
}

export async function run(flags: ServeFlags, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals, serveSettings(flags));
  const { config, logger } = ctx;
  assertSafeExposure(config, flags.insecureNoAuth);
  const graceMs = parseDuration(flags.shutdownTimeout ?? "10s", "--shutdown-timeout");
  // API keys are secrets: keep them out of every log line
  for (const key of config.apiKeys) registerSecret(key);
  const options = serveOptions(config, parseSize(flags.bodyLimit ?? "50mb"));

  const { usage, upstream, catalog } = ctx.core;
  const shutdown = new AbortController();
  // every in-flight request listens to it (and stops listening when it ends): no limit, and no leak warning
  setMaxListeners(0, shutdown.signal);
  const app = createApp({ options, upstream, catalog, usage, logger, shutdownSignal: shutdown.signal, version: pkg.version });
  const server = await startServer(app, config.host, config.port);
  compileWasmOnce(); // before the first backend connection (the model list is warmed below)
  const unlimitSemiSpace = limitSemiSpace(SERVE_SEMI_SPACE_MIB);

  try {
    const accounts = ctx.core.accounts.list();
    if (!accounts.length) logger.warn("Not signed in: requests will fail with 401 until you run `codex-proxy login` (no restart needed).");
    else if (accounts.length > 1) {
      const names = accounts.map((a) => `${a.email ?? a.accountId ?? a.key}${a.preferred ? " (preferred)" : ""}`);
      logger.info(`${accounts.length} ChatGPT accounts, ${config.accountStrategy}: ${names.join(", ")}`);
    }
    for (const account of accounts) if (account.problem) logger.warn(account.problem.message);
  } catch (error) {
    logger.warn((error as Error).message);
  }
  // the signal handlers are in place before the banner says the server is up: a stop right after it is graceful
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`${signal}: finishing open requests (up to ${Math.round(graceMs / 1000)}s), then stopping`);
      // Ctrl-C ends with the shell's usual 130; a service manager's SIGTERM is a clean stop
      if (signal === "SIGINT") process.exitCode = 130;
      server
        .close(graceMs, () => shutdown.abort(new Error("server shutting down")))
        .catch((error) => logger.warn(`Shutdown: ${(error as Error).message}`))
        .finally(resolve);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  printBanner(ctx, server.url, options);
  // warm the model list in the background; a failure (no login, a corrupt store) is the first request's to report
  catalog.get().catch((error: unknown) => logger.debug(`Model list not warmed: ${(error as Error).message}`));
  await stopped;
  unlimitSemiSpace();
  await ctx.close();
  logger.info("Stopped");
}

function printBanner(ctx: CommandContext, url: string, options: ServeOptions): void {
  const key = options.apiKeys.length ? "<your api key>" : "any-value";
  if (ctx.ui.json) {
    ctx.ui.result("", { url, openai: `${url}/v1`, ollama: url, anthropic: url, apiKeyRequired: options.apiKeys.length > 0 });
    return;
  }
  ctx.ui.say(`✔ codex-proxy ${pkg.version} listening on ${url}`);
  // --quiet keeps only the address (a script started with --port 0 needs it), not the how-to
  if (ctx.ui.quiet) return;
  ctx.ui.say("");
  ctx.ui.say(`  OpenAI     ${url}/v1`);
  ctx.ui.say(`  Ollama     ${url}`);
  ctx.ui.say(`  Anthropic  ${url}`);
  ctx.ui.say("");
  ctx.ui.say("  export OPENAI_BASE_URL=" + `${url}/v1` + ` OPENAI_API_KEY=${key}`);
  ctx.ui.say(`  curl ${url}/v1/chat/completions -H 'content-type: application/json' ${options.apiKeys.length ? "-H 'authorization: Bearer <key>' " : ""}-d '{"model":"gpt-5.5","messages":[{"role":"user","content":"hi"}]}'`);
}

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(text.trim());
  if (!m) throw new CliError(`Invalid size "${text}": use e.g. 50mb`, 2);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? "b").toLowerCase() as "b"];
  return Math.round(Number(m[1]) * unit);
}
