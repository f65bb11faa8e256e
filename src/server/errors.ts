import { HTTPError } from "h3";
import { InvalidRequestError } from "../translate/errors.js";
import { UpstreamError } from "../upstream/errors.js";

/** Each client family has its own error body; a route's family follows from its path. */
export type Family = "openai" | "ollama" | "anthropic";

export function familyOf(pathname: string): Family {
  if (pathname.startsWith("/api/")) return "ollama";
  if (/^(\/v1)?\/messages(\/|$)/.test(pathname)) return "anthropic";
  return "openai";
}

export interface ErrorInfo {
  status: number;
  message: string;
  /** machine-readable code, e.g. `model_not_found`, `usage_limit_reached` */
  code?: string | null;
  param?: string | null;
  headers?: Record<string, string>;
}

/** Anything thrown while handling a request → status, message and code. Unknown errors are 500s without detail. */
export function describeError(error: unknown): ErrorInfo {
  if (error instanceof InvalidRequestError) return { status: error.status, message: error.message, code: error.code, param: error.param };
  if (error instanceof UpstreamError) {
    const headers: Record<string, string> = {};
    if (error.extra.retryAfterSec) headers["retry-after"] = String(error.extra.retryAfterSec);
    // the OpenAI and Anthropic SDKs retry a 429 unless told not to; a usage limit lasts hours, a rate limit seconds
    if (error.kind === "usage_limit") headers["x-should-retry"] = "false";
    const code = error.extra.code ?? (error.kind === "usage_limit" ? "usage_limit_reached" : error.kind);
    return { status: error.status, message: error.message, code, headers };
  }
  if (error instanceof HTTPError) {
    if (error.status === 404) return { status: 404, message: "Not found", code: "not_found" };
    if (error.status === 405) return { status: 405, message: "Method not allowed", code: "method_not_allowed" };
    return { status: error.status, message: error.unhandled ? "Internal server error" : error.message, code: null };
  }
  return { status: 500, message: "Internal server error", code: "internal_error" };
}

const OPENAI_TYPES: Record<number, string> = { 400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "invalid_request_error", 413: "invalid_request_error", 429: "rate_limit_error" };
const ANTHROPIC_TYPES: Record<number, string> = { 400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 503: "overloaded_error", 504: "timeout_error", 529: "overloaded_error" };

/** The error body in the family's own format. */
export function errorBody(family: Family, info: ErrorInfo): unknown {
  switch (family) {
    case "ollama":
      return { error: info.message };
    case "anthropic":
      return { type: "error", error: { type: ANTHROPIC_TYPES[info.status] ?? "api_error", message: info.message } };
    default:
      return {
        error: {
          message: info.message,
          type: OPENAI_TYPES[info.status] ?? (info.status >= 500 ? "server_error" : "invalid_request_error"),
          param: info.param ?? null,
          code: info.code ?? null,
        },
      };
  }
}

export function errorResponse(family: Family, info: ErrorInfo): Response {
  // Ollama answers an unknown model with 404, and its clients rely on that
  const status = family === "ollama" && info.code === "model_not_found" ? 404 : info.status;
  return new Response(JSON.stringify(errorBody(family, info)), {
    status,
    headers: { "content-type": "application/json", ...info.headers },
  });
}
