import { timeLimitSignal } from "../_utils/deadline.js";
import { formatDuration, formatRelative, parseDuration } from "../_utils/format.js";
import { UpstreamError } from "../upstream/errors.js";
import { unionCatalog } from "../accounts/pool.js";
import { CommandContext, type GlobalOptions } from "./_context.js";
import { nameOf } from "./logout.js";

export interface ModelsOptions {
  /** ask the backend even when the cached list is fresh */
  refresh?: boolean;
  /** how long the backend may take before the cached or bundled list is shown @default "10s" */
  timeout?: string;
}

export async function run(options: ModelsOptions, globals: GlobalOptions): Promise<void> {
  const ctx = new CommandContext(globals);
  const limitMs = parseDuration(options.timeout ?? "10s", "--timeout");
  try {
    // a backend that accepts and never answers must not leave a blank screen
    const limit = timeLimitSignal(limitMs, () => new UpstreamError("timeout", `the Codex backend did not answer within ${formatDuration(limitMs)}`));
    const spinner = await ctx.ui.spinner("Asking the Codex backend for the model list…", { logElsewhere: false });
    const { snapshot, offeredBy, names } = await catalogs(ctx, { refresh: options.refresh, signal: limit.signal }).finally(() => {
      limit.clear();
      spinner.stop();
    });
    const models = snapshot.models.filter((m) => m.visible);
    const source =
      snapshot.source === "bundled"
        ? `bundled list: the backend's list could not be read (${snapshot.error ?? "offline"})`
        : `${snapshot.source === "cache" && snapshot.error ? `cached list: ${snapshot.error}` : "from the backend"}, fetched ${formatRelative(snapshot.fetchedAt ?? 0)}`;
    // with several accounts, a model only some plans offer says whose: a request for it goes to those accounts
    const only = (slug: string) => {
      const some = offeredBy.get(slug);
      return some && some.length < names.length ? `only ${some.join(", ")}` : undefined;
    };
    const marked = models.some((m) => only(m.slug));
    const rows = models.map((m) => [
      m.slug,
      m.contextWindow ? `${Math.round(m.contextWindow / 1000)}k` : "?",
      m.efforts.join(" "),
      m.defaultEffort ?? "-",
      m.serviceTiers?.includes("priority") ? "fast" : "-",
      ...(marked ? [only(m.slug) ?? "all"] : []),
    ]);
    const header = ["model", "context", "reasoning efforts", "default", "tiers", ...(marked ? ["accounts"] : [])];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join("  ")}`.trimEnd();
    const example = models[0] ? `${models[0].slug}-${models[0].efforts.at(-1) ?? "high"}` : "gpt-5.5-high";
    ctx.ui.result(
      [`Models (${source})`, "", line(header), ...rows.map(line), "", `Pick an effort with a suffix, e.g. ${example}; add -fast for the Fast tier where offered (more usage)`].join("\n"),
      {
        source: snapshot.source,
        fetchedAt: snapshot.fetchedAt ? new Date(snapshot.fetchedAt).toISOString() : null,
        ...(snapshot.error ? { error: snapshot.error } : {}),
        models: models.map((m) => ({
          id: m.slug,
          name: m.displayName,
          contextWindow: m.contextWindow,
          efforts: m.efforts,
          defaultEffort: m.defaultEffort,
          serviceTiers: m.serviceTiers ?? [],
          accounts: offeredBy.get(m.slug) ?? names,
        })),
      },
    );
  } finally {
    await ctx.close();
  }
}

/**
 * Every signed-in account's model list, and which accounts offer each model. An account whose own list could not
 * be read (the bundled fallback) says nothing about its plan, so it marks nothing.
 */
async function catalogs(ctx: CommandContext, options: { refresh?: boolean; signal: AbortSignal }) {
  const records = ctx.core.accounts.list().filter((record) => !record.problem);
  const names = records.map(nameOf);
  if (records.length < 2) return { snapshot: await ctx.core.catalog.get(options), offeredBy: new Map<string, string[]>(), names };
  const snapshots = await Promise.all(records.map((record) => ctx.core.account(record).catalog.get(options)));
  const offeredBy = new Map<string, string[]>();
  const known = snapshots.some((snapshot) => snapshot.source !== "bundled");
  snapshots.forEach((snapshot, i) => {
    if (known && snapshot.source === "bundled") return;
    for (const model of snapshot.models) offeredBy.set(model.slug, [...(offeredBy.get(model.slug) ?? []), names[i]!]);
  });
  const readable = names.filter((_, i) => !known || snapshots[i]!.source !== "bundled");
  return { snapshot: unionCatalog(snapshots), offeredBy, names: readable };
}
