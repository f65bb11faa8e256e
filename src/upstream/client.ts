import { arch, release, type as osType } from "node:os";
import { delay, type CancelSignal } from "../_utils/cancel.js";
import type { Dispatcher } from "undici";
import { request } from "../_utils/undici.js";
import pkg from "../../package.json" with { type: "json" };
import { errorMessage } from "../errors.js";
import { AuthError } from "../auth/errors.js";
import type { Logger } from "../_utils/logger.js";
import type { AccessToken } from "../auth/token-manager.js";
import { UpstreamError, unauthorizedBy, usageLimitError } from "./errors.js";
import { CODEX_CLIENT_VERSION, parseModelsResponse, type ModelInfo } from "./models.js";
import { parseRateLimitHeaders, type RateLimitSnapshot } from "./rate-limits.js";
import { ResponseEventStream, type ResponseHead } from "./response-stream.js";
import type { UpstreamEvent } from "./sse.js";
import type { ResponsesUsage } from "../translate/responses/types.js";

export const ORIGINATOR = "codex_cli_rs";
const userAgent = (version: string) => `${ORIGINATOR}/${version} (${osType()} ${release()}; ${arch()}) codex-proxy/${pkg.version}`;

export interface TokenSource {
  getAccessToken(): Promise<AccessToken>;
  refreshAfterUnauthorized(rejected: string): Promise<AccessToken>;
}

export interface UpstreamClientOptions {
  /** e.g. https://chatgpt.com/backend-api/codex */
  baseUrl: string;
  tokens: TokenSource;
  dispatcher: Dispatcher;
  logger?: Logger;
  /** called with the `x-codex-*` usage headers of every backend response */
  onRateLimits?: (snapshot: RateLimitSnapshot) => void;
  /** waits before retrying a 5xx or connection error @default [250, 750, 2000] */
  retryDelaysMs?: number[];
  /** give up on a stream that sends nothing for this long (the Codex CLI's stream_idle_timeout) @default 300_000 */
  idleTimeoutMs?: number;
  /** the Codex CLI version sent as `client_version` and in the user agent; the backend hides newer models @default CODEX_CLIENT_VERSION */
  clientVersion?: string;
}

export interface ResponseStreamOptions {
  /** cancels the request: the client left, or the server stops */
  signal?: CancelSignal;
  /** sent as `session-id`; the conversation's cache key */
  sessionId?: string;
  /** event types the caller does not need, left unparsed (an answer built whole: `PARTIAL_EVENTS`) */
  skip?: ReadonlySet<string>;
}

export interface UpstreamStream {
  headers: Record<string, string | string[] | undefined>;
  /** the events, in batches (one per network read); the first batch has already arrived, so the stream is alive */
  events: AsyncIterable<UpstreamEvent[]>;
  /** the backend's token counts, once the answer is complete */
  readonly usage?: ResponsesUsage;
}

/**
 * A backend answer under way: its headers, its events, and its token counts once complete (read from `counts`, the
 * stream that sees them). A class rather than an object literal with a getter: V8 keeps such a literal's getter in
 * an accessor pair in the old generation, so everything the getter's closure reached (the stream, its undici
 * request, the response headers) outlived every scavenge and was promoted, about 8 KB per short request and 12 µs
 * of scavenging each.
 */
export class UpstreamAnswer implements UpstreamStream {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly events: AsyncIterable<UpstreamEvent[]>;
  readonly #counts: { readonly usage?: ResponsesUsage };

  constructor(headers: Record<string, string | string[] | undefined>, events: AsyncIterable<UpstreamEvent[]>, counts: { readonly usage?: ResponsesUsage }) {
    this.headers = headers;
    this.events = events;
    this.#counts = counts;
  }

  get usage(): ResponsesUsage | undefined {
    return this.#counts.usage;
  }
}

type Attempt = { ok: true; value: UpstreamStream } | { ok: false; error: UpstreamError; retry: boolean };

/** Talks to the Codex backend: `POST /responses` (always streamed) and `GET /models`. Knows no client format. */
export class UpstreamClient {
  readonly #options: UpstreamClientOptions;
  readonly #responsesUrl: URL;
  readonly #clientVersion: string;
  readonly #userAgent: string;
  #bearer = { token: "", header: "" };
  constructor(options: UpstreamClientOptions) {
    this.#options = options;
    this.#responsesUrl = new URL(`${options.baseUrl}/responses`);
    this.#clientVersion = options.clientVersion ?? CODEX_CLIENT_VERSION;
    this.#userAgent = userAgent(this.#clientVersion);
  }

  /**
   * Send a Responses request. 5xx and connection failures are retried with backoff, as long as nothing has
   * been received; a 401 refreshes the token once and retries; 429 is never retried.
   */
  async createResponse(body: Record<string, unknown>, options: ResponseStreamOptions = {}): Promise<UpstreamStream> {
    const payload = JSON.stringify(body);
    let token = await this.#token();
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const result = await this.#attempt(payload, token, options);
      if (result.ok) return result.value;
      const { error } = result;
      if (error.kind === "unauthorized" && !refreshed && error.extra.upstreamStatus === 401) {
        refreshed = true;
        this.#options.logger?.debug("The backend answered 401; refreshing the token and retrying once");
        token = await this.#token(token.accessToken);
        attempt--;
        continue;
      }
      const wait = (this.#options.retryDelaysMs ?? [250, 750, 2000])[attempt];
      if (!result.retry || wait === undefined || options.signal?.aborted) throw error;
      this.#options.logger?.warn(`${error.message}; retrying in ${wait} ms`);
      await delay(wait, options.signal).catch(() => {
        throw error;
      });
    }
  }

  /** The account's models, from `GET {base}/models?client_version=…`. */
  async listModels(signal?: AbortSignal, onHeaders?: (headers: Record<string, string | string[] | undefined>) => void): Promise<ModelInfo[]> {
    const token = await this.#token();
    const url = `${this.#options.baseUrl}/models?client_version=${this.#clientVersion}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: "GET",
        headers: this.#headers(token, { accept: "application/json" }),
        dispatcher: this.#options.dispatcher,
        signal: AbortSignal.any([AbortSignal.timeout(15_000), ...(signal ? [signal] : [])]),
      });
    } catch (error) {
      // the caller's own time limit says what happened in its words
      if (signal?.aborted && signal.reason instanceof Error) throw signal.reason;
      throw new UpstreamError("bad_gateway", `Cannot reach the Codex backend: ${errorMessage(error)}`);
    }
    this.#noteRateLimits(res.headers);
    onHeaders?.(res.headers);
    const text = await res.body.text();
    if (res.statusCode !== 200) throw httpError(res.statusCode, text, res.headers);
    try {
      return parseModelsResponse(JSON.parse(text));
    } catch (error) {
      throw new UpstreamError("bad_gateway", `The Codex backend's model list is unreadable: ${errorMessage(error)}`);
    }
  }

  async #token(rejected?: string): Promise<AccessToken> {
    try {
      return rejected === undefined ? await this.#options.tokens.getAccessToken() : await this.#options.tokens.refreshAfterUnauthorized(rejected);
    } catch (error) {
      // the owner must sign in (again): the client hears 401 with the way out
      // the cause says the login is dead, not the request: several accounts set this one aside
      if (error instanceof AuthError) throw unauthorizedBy(error);
      // the issuer is unreachable or failing: this login may still be fine, but it has no token now
      const failed = new UpstreamError("bad_gateway", errorMessage(error));
      failed.cause = error;
      throw failed;
    }
  }

  #headers(token: AccessToken, extra: Record<string, string>): Record<string, string> {
    // an access token is a couple of KB and stays the same for hours: one header string for all its requests
    if (this.#bearer.token !== token.accessToken) this.#bearer = { token: token.accessToken, header: `Bearer ${token.accessToken}` };
    return {
      authorization: this.#bearer.header,
      ...(token.accountId ? { "chatgpt-account-id": token.accountId } : {}),
      originator: ORIGINATOR,
      "user-agent": this.#userAgent,
      ...extra,
    };
  }

  #noteRateLimits(headers: Record<string, string | string[] | undefined>): void {
    const snapshot = parseRateLimitHeaders(headers);
    if (snapshot) this.#options.onRateLimits?.(snapshot);
  }

  async #attempt(payload: string, token: AccessToken, options: ResponseStreamOptions): Promise<Attempt> {
    const stream = new ResponseEventStream({ signal: options.signal, idleTimeoutMs: this.#options.idleTimeoutMs ?? 300_000, skip: options.skip });
    this.#options.dispatcher.dispatch(
      {
        origin: this.#responsesUrl.origin,
        path: this.#responsesUrl.pathname + this.#responsesUrl.search,
        method: "POST",
        headers: this.#headers(token, {
          accept: "text/event-stream",
          "content-type": "application/json",
          ...(options.sessionId ? { "session-id": options.sessionId, "x-client-request-id": options.sessionId } : {}),
        }),
        body: payload,
        // the stream's idle limit is the only clock: undici's own (60 s for headers) would fire first and be retried
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      stream,
    );
    // nothing reached the client yet, so a broken or overloaded answer can be retried; a stall is not (the wait
    // would multiply, and the client's own retry policy sees the 504), nor a failure event that would only repeat
    // (a usage limit, a context overflow)
    const failed = (error: unknown, what: string): Attempt => {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const upstream = error instanceof UpstreamError ? error : new UpstreamError("bad_gateway", `${what}: ${errorMessage(error)}`);
      return { ok: false, retry: upstream.kind === "bad_gateway" || upstream.kind === "overloaded", error: upstream };
    };
    let head: ResponseHead;
    try {
      head = await stream.head;
    } catch (error) {
      return failed(error, "Cannot reach the Codex backend");
    }
    this.#noteRateLimits(head.headers);
    if (head.status !== 200) return { ok: false, retry: head.status >= 500, error: httpError(head.status, head.text, head.headers) };
    // wait for the first events: a stream that dies before them can still be retried
    try {
      await stream.events.ready();
    } catch (error) {
      const attempt = failed(error, "The Codex backend stream failed");
      if (!attempt.ok) attempt.error.extra.headers ??= head.headers;
      return attempt;
    }
    return { ok: true, value: new UpstreamAnswer(head.headers, stream.events, stream) };
  }
}

/** A non-200 answer of the backend → an {@link UpstreamError} with the backend's own words, and the answer itself. */
export function httpError(status: number, text: string, headers: Record<string, string | string[] | undefined> = {}): UpstreamError {
  const error = classifyHttpError(status, text, headers);
  error.extra.answer = { status, body: text };
  error.extra.headers = headers;
  return error;
}

function classifyHttpError(status: number, text: string, headers: Record<string, string | string[] | undefined>): UpstreamError {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  const err = (body.error && typeof body.error === "object" ? body.error : {}) as Record<string, unknown>;
  const detail =
    (typeof body.detail === "string" && body.detail) ||
    (typeof err.message === "string" && err.message) ||
    (typeof body.message === "string" && body.message) ||
    text.slice(0, 300) ||
    `HTTP ${status}`;
  const code = typeof err.code === "string" ? err.code : typeof err.type === "string" ? err.type : undefined;
  const contentType = String(headers["content-type"] ?? "");
  if (status === 403 && (contentType.includes("text/html") || /^\s*</.test(text))) {
    // a web page, not the API: a proxy, VPN or bot check in between, and signing in again would not help
    const title = /<title>([^<]{1,120})<\/title>/i.exec(text)?.[1]?.trim();
    return new UpstreamError(
      "bad_gateway",
      `The Codex backend's address answered 403 with a web page${title ? ` ("${title}")` : ""}, not an API error: something between this machine and the backend (a proxy, VPN or bot check) blocked the request`,
      { upstreamStatus: status },
    );
  }
  if (status === 401 || status === 403) {
    return new UpstreamError("unauthorized", `The Codex backend rejected the ChatGPT login (${status}: ${detail}). Sign in again: codex-proxy login`, {
      upstreamStatus: status,
    });
  }
  if (status === 429) {
    if (err.type === "usage_limit_reached" || err.type === "usage_not_included" || code === "usage_limit_reached") {
      return usageLimitError(err, (err.type as string) ?? code);
    }
    const retryAfter = Number(Array.isArray(headers["retry-after"]) ? headers["retry-after"][0] : headers["retry-after"]);
    return new UpstreamError("rate_limited", `The Codex backend is rate limiting requests: ${detail}`, {
      code,
      retryAfterSec: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    });
  }
  if (status === 400 || status === 404 || status === 422) {
    if (/model is not supported|model .*not (found|available)|unsupported model/i.test(detail)) {
      return new UpstreamError("model_not_supported", detail, { code, upstreamStatus: status });
    }
    if (status === 404) return new UpstreamError("bad_gateway", `The Codex backend answered 404 (${detail}): check CODEX_PROXY_UPSTREAM_URL`, { upstreamStatus: status });
    if (code === "context_length_exceeded") return new UpstreamError("context_length", detail, { code });
    return new UpstreamError("invalid_request", `The Codex backend rejected the request: ${detail}`, { code, upstreamStatus: status });
  }
  if (status === 503) return new UpstreamError("overloaded", `The Codex backend is overloaded (503: ${detail})`, { code, upstreamStatus: status });
  return new UpstreamError("bad_gateway", `The Codex backend failed (${status}: ${detail})`, { code, upstreamStatus: status });
}
