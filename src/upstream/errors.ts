import { formatLocalTime, formatRelative } from "../_utils/format.js";

/** What went wrong, independent of any client format; each route family renders it in its own shape. */
export type UpstreamErrorKind =
  | "unauthorized" // the login is missing or dead
  | "usage_limit" // the plan's Codex usage limit (429 usage_limit_reached)
  | "rate_limited" // other 429s
  | "invalid_request" // the backend rejected the request (400)
  | "model_not_supported"
  | "context_length"
  | "overloaded"
  | "bad_gateway" // 5xx, unreachable, or a broken stream
  | "timeout";

const STATUS: Record<UpstreamErrorKind, number> = {
  unauthorized: 401,
  usage_limit: 429,
  rate_limited: 429,
  invalid_request: 400,
  model_not_supported: 400,
  context_length: 400,
  overloaded: 503,
  bad_gateway: 502,
  timeout: 504,
};

export class UpstreamError extends Error {
  override name = "UpstreamError";
  readonly status: number;
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly extra: {
      code?: string;
      retryAfterSec?: number;
      resetsAt?: number;
      upstreamStatus?: number;
      /** the in-stream event that carried the failure, for clients that want it verbatim */
      event?: Record<string, unknown>;
      /** the backend's HTTP error answer, for clients that want it verbatim */
      answer?: { status: number; body: string };
      /** the headers of the backend answer that failed */
      headers?: Record<string, string | string[] | undefined>;
    } = {},
  ) {
    super(message);
    this.status = STATUS[kind];
  }
}

/** A login that cannot be used (not signed in, dead, corrupt): the client's 401, with the reason as its cause. */
export function unauthorizedBy(cause: Error): UpstreamError {
  const error = new UpstreamError("unauthorized", cause.message);
  error.cause = cause;
  return error;
}

/** An in-stream `response.failed` / `error` event → an {@link UpstreamError}. */
export function errorFromFailedEvent(event: Record<string, unknown>): UpstreamError {
  const error = classifyFailure(event);
  error.extra.event = event;
  return error;
}

function classifyFailure(event: Record<string, unknown>): UpstreamError {
  const response = (event.response ?? {}) as Record<string, unknown>;
  const err = ((response.error ?? event.error ?? event) as Record<string, unknown>) ?? {};
  const code = typeof err.code === "string" ? err.code : typeof err.type === "string" ? err.type : undefined;
  const message = typeof err.message === "string" && err.message ? err.message : "The Codex backend reported a failure";
  switch (code) {
    case "context_length_exceeded":
      return new UpstreamError("context_length", message, { code });
    case "usage_limit_reached":
    case "usage_not_included":
    case "insufficient_quota":
      return usageLimitError(err, code);
    case "rate_limit_exceeded":
      return new UpstreamError("rate_limited", message, { code, retryAfterSec: parseTryAgain(message) });
    case "server_is_overloaded":
    case "slow_down":
      return new UpstreamError("overloaded", message, { code });
    case "invalid_prompt":
    case "cyber_policy":
    case "invalid_request_error":
      return new UpstreamError("invalid_request", message, { code });
    default:
      return new UpstreamError("bad_gateway", `The Codex backend failed: ${message}`, { code });
  }
}

/** 429 `usage_limit_reached` (HTTP body or in-stream): the message says when the limit resets. */
export function usageLimitError(err: Record<string, unknown>, code = "usage_limit_reached", now = Date.now()): UpstreamError {
  const resetsAtSec = typeof err.resets_at === "number" ? err.resets_at : typeof err.resets_at === "string" ? Date.parse(err.resets_at) / 1000 : undefined;
  const resetsInSec = typeof err.resets_in_seconds === "number" ? err.resets_in_seconds : undefined;
  const resetsAt = resetsAtSec && Number.isFinite(resetsAtSec) ? resetsAtSec * 1000 : resetsInSec !== undefined ? now + resetsInSec * 1000 : undefined;
  const plan = typeof err.plan_type === "string" ? ` (${err.plan_type} plan)` : "";
  const what =
    code === "usage_not_included"
      ? `Codex is not included in this ChatGPT plan${plan}`
      : `The ChatGPT plan's Codex usage limit is reached${plan}`;
  const when = resetsAt ? `; it resets at ${formatLocalTime(resetsAt)} (${formatRelative(resetsAt, now)})` : "";
  return new UpstreamError("usage_limit", `${what}${when}.`, {
    code,
    resetsAt,
    retryAfterSec: resetsAt ? Math.max(1, Math.ceil((resetsAt - now) / 1000)) : undefined,
  });
}

/** "Please try again in 11.054s" / "in 250ms" → seconds. */
function parseTryAgain(message: string): number | undefined {
  const m = /try again in (\d+(?:\.\d+)?)\s*(ms|s)/i.exec(message);
  if (!m) return undefined;
  const seconds = m[2] === "ms" ? Number(m[1]) / 1000 : Number(m[1]);
  return Math.max(1, Math.ceil(seconds));
}
