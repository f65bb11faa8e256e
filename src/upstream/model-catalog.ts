import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../_utils/atomic-write.js";
import { errorMessage } from "../errors.js";
import { untilAborted } from "../_utils/deadline.js";
import type { Logger } from "../_utils/logger.js";
import { BUNDLED_MODELS, type ModelInfo } from "./models.js";

export interface CatalogSnapshot {
  models: ModelInfo[];
  /** backend: fetched for this account; cache: an earlier fetch saved on disk; bundled: the offline fallback */
  source: "backend" | "cache" | "bundled";
  fetchedAt: number | null;
  /** why the backend's list could not be used, when it could not */
  error?: string;
  /** the client version the list was fetched with: the backend hides models from older ones */
  clientVersion?: string;
}

export interface ModelCatalogOptions {
  fetchModels: (signal?: AbortSignal) => Promise<ModelInfo[]>;
  /** where the last good list is kept between runs */
  cachePath?: string;
  /** how long a fetched list is fresh @default 600_000 */
  ttlMs?: number;
  logger?: Logger;
  /** the client version `fetchModels` sends; a saved list fetched with another one is stale */
  clientVersion?: string;
}

/** The account's models: fetched from the backend, cached in memory and on disk, the bundled list when offline. */
export class ModelCatalog {
  readonly #options: ModelCatalogOptions;
  #current?: CatalogSnapshot;
  #inflight?: Promise<CatalogSnapshot>;
  #failedAt = 0;

  constructor(options: ModelCatalogOptions) {
    this.#options = options;
  }

  /** `signal` ends a fetch this call starts (a command's time limit); the server passes none. */
  async get(options: { refresh?: boolean; signal?: AbortSignal } = {}): Promise<CatalogSnapshot> {
    const ttl = this.#options.ttlMs ?? 600_000;
    const now = Date.now();
    const current = this.#current ?? this.#readDisk();
    const fresh = current?.source !== "bundled" && current?.fetchedAt && now - current.fetchedAt < ttl;
    if (current && fresh && !options.refresh) return current;
    // after a failure, do not ask again on every request
    if (current && !options.refresh && now - this.#failedAt < 30_000) return current;
    this.#inflight ??= this.#fetch(current, options.signal).finally(() => (this.#inflight = undefined));
    return this.#inflight;
  }

  /** Forget the list (the backend said a model is unknown: the account may have changed). */
  invalidate(): void {
    if (this.#current) this.#current = { ...this.#current, fetchedAt: 0 };
  }

  async #fetch(fallback: CatalogSnapshot | undefined, signal?: AbortSignal): Promise<CatalogSnapshot> {
    try {
      const models = await untilAborted(this.#options.fetchModels(signal), signal);
      if (!models.length) throw new Error("the backend listed no models");
      this.#current = { models, source: "backend", fetchedAt: Date.now(), clientVersion: this.#options.clientVersion };
      this.#writeDisk(this.#current);
      return this.#current;
    } catch (error) {
      this.#failedAt = Date.now();
      this.#options.logger?.debug(`Model list unavailable (${errorMessage(error)}); using the ${fallback ? fallback.source : "bundled"} list`);
      this.#current = { ...(fallback ?? { models: BUNDLED_MODELS, source: "bundled", fetchedAt: null }), error: errorMessage(error) };
      return this.#current;
    }
  }

  /** The list saved on disk by an earlier fetch, whatever client version it was fetched with; no backend call. */
  saved(): CatalogSnapshot | undefined {
    if (!this.#options.cachePath) return undefined;
    try {
      const data = JSON.parse(readFileSync(this.#options.cachePath, "utf8")) as { fetchedAt?: number; models?: ModelInfo[]; clientVersion?: string };
      if (!Array.isArray(data.models) || !data.models.length || typeof data.fetchedAt !== "number") return undefined;
      return { models: data.models, source: "cache", fetchedAt: data.fetchedAt, ...(data.clientVersion ? { clientVersion: data.clientVersion } : {}) };
    } catch {
      return undefined;
    }
  }

  #readDisk(): CatalogSnapshot | undefined {
    const saved = this.saved();
    if (!saved) return undefined;
    // fetched with another client version: it may list models the backend now hides, or miss ones it shows
    if (this.#options.clientVersion && saved.clientVersion !== this.#options.clientVersion) saved.fetchedAt = 0;
    return (this.#current = saved);
  }

  #writeDisk(snapshot: CatalogSnapshot): void {
    if (!this.#options.cachePath) return;
    try {
      const cache = { fetchedAt: snapshot.fetchedAt, clientVersion: snapshot.clientVersion, models: snapshot.models };
      writeFileAtomic(this.#options.cachePath, JSON.stringify(cache, null, 2), { durable: false, createDir: false }); // a cache: no fsync
    } catch (error) {
      this.#options.logger?.debug(`Could not cache the model list: ${errorMessage(error)}`);
    }
  }
}
