import type { Logger } from "../logger.js";
import type { ReasoningFormat } from "../translate/responses/types.js";
import type { TranslateContext } from "../translate/responses/build.js";
import type { UpstreamClient } from "../upstream/client.js";
import type { ModelCatalog } from "../upstream/model-catalog.js";
import type { UsageStore } from "../upstream/usage-store.js";

/** Server settings, resolved from flags, environment, config file and defaults. */
export interface ServeOptions {
  /** @default 8787 */
  port: number;
  /** @default "127.0.0.1" */
  host: string;
  /** keys clients must send; none means no key is required */
  apiKeys: string[];
  /** allowed CORS origins ("*" for any); none means CORS is off */
  corsOrigins: string[];
  reasoningEffort?: string;
  /** @default "auto" */
  reasoningSummary: string;
  /** @default "think-tags" */
  reasoningFormat: ReasoningFormat;
  defaultModel?: string;
  /** largest accepted request body, bytes @default 50 MB */
  bodyLimit: number;
}

/** Everything a route needs; built once per server, no module-level state. */
export interface ServerContext {
  options: ServeOptions;
  upstream: Pick<UpstreamClient, "createResponse">;
  catalog: Pick<ModelCatalog, "get" | "invalidate">;
  usage: UsageStore;
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
    },
  };
}
