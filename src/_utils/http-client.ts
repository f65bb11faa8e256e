import type { Dispatcher } from "undici";
import { Agent, EnvHttpProxyAgent, request } from "./undici.js";
import { withDeadline } from "./deadline.js";
import { errorMessage } from "../errors.js";

/**
 * One keep-alive dispatcher for every outbound call (OAuth and upstream). It honours
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY, which Node 20's global fetch ignores.
 */
export function createDispatcher(env: NodeJS.ProcessEnv = process.env): Dispatcher {
  const options = {
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: 60_000,
    // reasoning models can be silent for minutes between events
    bodyTimeout: 0,
    connect: { timeout: 10_000 },
  };
  // the proxy-aware agent costs a layer on every request: only use it when a proxy is configured
  const proxied = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].some((name) => env[name]);
  return proxied ? new EnvHttpProxyAgent(options) : new Agent(options);
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** the body parsed as JSON, or undefined when it is not JSON */
  json: unknown;
}

export interface SendOptions {
  dispatcher: Dispatcher;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** how long the answer may take; also replaces the dispatcher's headers timeout @default 30_000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Thrown when the server could not be reached at all (DNS, refused, reset, timeout). */
export class NetworkError extends Error {
  override name = "NetworkError";
  /** why, e.g. "connection refused" */
  readonly detail: string;
  /** false only when the connection was never made: after that the server may have acted on the request */
  readonly maybeDelivered: boolean;
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const detail = describeNetworkError(cause);
    super(`cannot reach ${new URL(url).origin}: ${detail}`);
    this.detail = detail;
    this.maybeDelivered = !NOT_CONNECTED.has(errorCode(cause) ?? "");
  }
}

/** A small request that reads the whole body: for OAuth and other JSON APIs, not for streams. */
export async function send(url: string, options: SendOptions): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (options.signal) signals.push(options.signal);
  try {
    const exchange = async () => {
      const res = await request(url, {
        method: options.method ?? "GET",
        headers: options.headers,
        body: options.body,
        dispatcher: options.dispatcher,
        // a caller that waits longer than the dispatcher's default must not be cut off by it
        headersTimeout: timeoutMs + 1000,
        signal: AbortSignal.any(signals),
      });
      return { res, text: await res.body.text() };
    };
    // undici can miss the abort signal when a proxy drops a CONNECT unanswered; this deadline cannot be missed
    const { res, text } = await withDeadline(exchange(), timeoutMs + 1000, () => new DOMException("The operation timed out", "TimeoutError"));
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    throw new NetworkError(url, error);
  }
}

/** Failures before a connection was made: the request cannot have reached the server. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH"]);

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code ?? e?.cause?.code;
}

function describeNetworkError(error: unknown): string {
  const e = error as { name?: string };
  const code = errorCode(error);
  if (e?.name === "TimeoutError" || code === "UND_ERR_CONNECT_TIMEOUT") return "timed out";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host not found (DNS)";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection reset";
  return code ? `${code}: ${errorMessage(error)}` : errorMessage(error);
}
