import { createRequire } from "node:module";
import type * as Undici from "undici";
import type { Dispatcher } from "undici";

// undici's index also loads fetch, WebSocket, the cache, mock and interceptor layers: about 8 MiB and 100 ms at
// every start for code the proxy never calls. Its agents and request() are loaded from their own files instead.
const load = createRequire(import.meta.url);
const lib = <T>(path: string): T => load(`undici/lib/${path}`) as T;

export const Agent = lib<typeof Undici.Agent>("dispatcher/agent.js");
export const EnvHttpProxyAgent = lib<typeof Undici.EnvHttpProxyAgent>("dispatcher/env-http-proxy-agent.js");
// what undici's index does to give every dispatcher request(), stream(), pipeline()…
Object.assign(lib<{ prototype: object }>("dispatcher/dispatcher.js").prototype, lib<object>("api/index.js"));

/** undici's `request(url, options)`, for a call that always names its dispatcher. */
export function request(
  url: string,
  options: Omit<Dispatcher.RequestOptions, "origin" | "path"> & { dispatcher: Dispatcher },
): Promise<Dispatcher.ResponseData> {
  const { origin, pathname, search } = new URL(url);
  const { dispatcher, ...rest } = options;
  return dispatcher.request(Object.assign(rest, { origin, path: `${pathname}${search}` }));
}
