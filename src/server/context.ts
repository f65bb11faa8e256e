import type { Logger } from "../_utils/logger.js";
import type { Config } from "../config.js";
import type { TranslateContext } from "../translate/responses/build.js";
import type { AccountPool, PoolResponseOptions } from "../accounts/pool.js";
import type { AccountRecord } from "../accounts/store.js";
import type { UpstreamStream } from "../upstream/client.js";

/** Server settings: the resolved {@link Config} fields `serve` uses, plus its own. */
export type ServeOptions = Pick<
  Config,
  "port" | "host" | "apiKeys" | "corsOrigins" | "allowedHosts" | "reasoningEffort" | "reasoningSummary" | "reasoningFormat" | "defaultModel" | "claudeModel" | "serviceTier" | "webSearch"
> & {
  /** largest accepted request body, bytes @default 50 MB */
  bodyLimit: number;
};

/** The server settings of a resolved config; `bodyLimit` in bytes @default 50 MB */
export function serveOptions(config: Config, bodyLimit = 50 * 1024 ** 2): ServeOptions {
  return {
    port: config.port,
    host: config.host,
    apiKeys: config.apiKeys,
    corsOrigins: config.corsOrigins,
    allowedHosts: config.allowedHosts,
    reasoningEffort: config.reasoningEffort,
    reasoningSummary: config.reasoningSummary,
    reasoningFormat: config.reasoningFormat,
    defaultModel: config.defaultModel,
    claudeModel: config.claudeModel,
    serviceTier: config.serviceTier,
    webSearch: config.webSearch,
    bodyLimit,
  };
}

/** A backend answer, and the account that serves it when the upstream is an account pool. */
export type ServedStream = UpstreamStream & { account?: AccountRecord; shared?: boolean };

/** Everything a route needs; built once per server, no module-level state. */
export interface ServerContext {
  options: ServeOptions;
  /** opens `POST /responses` with the account the request should use */
  upstream: { createResponse(body: Record<string, unknown>, options?: PoolResponseOptions): Promise<ServedStream> };
  /** every account's models together */
  catalog: Pick<AccountPool["catalog"], "get" | "invalidate">;
  /** every account's usage windows, for `GET /v1/usage` */
  usage: Pick<AccountPool, "usageReport">;
  logger: Logger;
  /** aborts every in-flight upstream request when the server shuts down */
  shutdownSignal: AbortSignal;
  version: string;
}

/** What the translators need to know, for this request. */
export async function translateContext(ctx: ServerContext): Promise<TranslateContext> {
  const catalog = await ctx.catalog.get();
  return {
    models: catalog.models,
    modelsAuthoritative: catalog.source !== "bundled",
    defaults: {
      effort: ctx.options.reasoningEffort,
      summary: ctx.options.reasoningSummary,
      format: ctx.options.reasoningFormat,
      model: ctx.options.defaultModel,
      claudeModel: ctx.options.claudeModel,
      serviceTier: ctx.options.serviceTier,
      webSearch: ctx.options.webSearch,
    },
  };
}
