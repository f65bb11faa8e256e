import { H3, HTTPError, type H3Event } from "h3";
import { isAuthorized } from "./api-key.js";
import { createRequestGuard } from "./guard.js";
import type { ServerContext } from "./context.js";
import { describeError, errorResponse, familyOf } from "./errors.js";
import { registerOpenAIRoutes } from "./routes/openai.js";
import { registerResponsesRoutes } from "./routes/responses.js";
import { registerCompletionsRoutes } from "./routes/completions.js";
import { registerOllamaRoutes } from "./routes/ollama.js";
import { registerAnthropicRoutes } from "./routes/anthropic.js";
import { registerUtilityRoutes } from "./routes/utility.js";
import { registerImagesRoutes } from "./routes/images.js";
import { ACCOUNT_HEADER, EFFORT_HEADER } from "./routes/_shared.js";
import { createRequestLogger, requestNote } from "./request-log.js";
import { setAnswerHeader } from "./stream.js";
import { nodeOf } from "./node.js";

const OPEN_PATHS = new Set(["/", "/health", "/healthz"]);
const CORS_HEADERS = "authorization, content-type, x-api-key, x-reasoning-format, x-codex-proxy-account, anthropic-version, anthropic-beta, openai-organization, openai-project, x-stainless-*";

/** The whole HTTP API as an h3 app; `listen.ts` puts it on a socket, tests can call `app.request()`. */
export function createApp(ctx: ServerContext): H3 {
  const app = new H3({
    silent: true,
    onError(error, event) {
      const cause = error instanceof HTTPError && error.cause instanceof Error ? error.cause : error;
      const info = describeError(cause instanceof HTTPError ? error : cause);
      const note = requestNote(event);
      if (note) note.failure = info.message; // the request's log line says it
      else if (info.status >= 500) ctx.logger.warn(`${event.req.method} ${event.url.pathname} → ${info.status}: ${info.message}`);
      else ctx.logger.debug(`${event.req.method} ${event.url.pathname} → ${info.status}: ${info.message}`);
      return withCors(event, ctx, errorResponse(familyOf(event.url.pathname), info));
    },
  });

  // each middleware is a layer on every request: only add the ones this server needs (but the guard always)
  const requestLogger = createRequestLogger(ctx.logger);
  if (requestLogger) app.use(requestLogger);
  const guard = createRequestGuard(ctx.options);
  app.use((event) => {
    const refusal = guard(event);
    if (refusal) return withCors(event, ctx, errorResponse(familyOf(event.url.pathname), refusal));
  });
  if (ctx.options.corsOrigins.length) {
    app.use((event) => {
      if (event.req.method === "OPTIONS") return preflight(event, ctx);
      // set before the route runs: on the answers h3 builds, and on those the routes write themselves
      const cors = corsHeaders(event, ctx);
      if (!cors.length) return;
      setCors(event.res.headers, cors);
      if (nodeOf(event)) for (const [name, value] of cors) setAnswerHeader(event, name, value);
    });
  }
  if (ctx.options.apiKeys.length) {
    app.use((event) => {
      if (OPEN_PATHS.has(event.url.pathname) || isAuthorized(event.req.headers, ctx.options.apiKeys)) return;
      return withCors(
        event,
        ctx,
        errorResponse(familyOf(event.url.pathname), {
          status: 401,
          message: "Missing or wrong API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
          code: "invalid_api_key",
        }),
      );
    });
  }

  registerUtilityRoutes(app, ctx);
  registerOpenAIRoutes(app, ctx);
  registerResponsesRoutes(app, ctx);
  registerCompletionsRoutes(app, ctx);
  registerOllamaRoutes(app, ctx);
  registerAnthropicRoutes(app, ctx);
  registerImagesRoutes(app, ctx);
  return app;
}

function allowedOrigin(event: H3Event, ctx: ServerContext): string | undefined {
  const origin = event.req.headers.get("origin");
  if (!origin || !ctx.options.corsOrigins.length) return undefined;
  if (ctx.options.corsOrigins.includes("*")) return "*";
  return ctx.options.corsOrigins.includes(origin) ? origin : undefined;
}

/** The CORS answer headers for an allowed origin (none for another origin). */
function corsHeaders(event: H3Event, ctx: ServerContext): [string, string][] {
  const origin = allowedOrigin(event, ctx);
  if (!origin) return [];
  const headers: [string, string][] = [
    ["access-control-allow-origin", origin],
    ["access-control-expose-headers", `retry-after, x-should-retry, x-request-id, ${EFFORT_HEADER}, ${ACCOUNT_HEADER}`],
  ];
  if (origin !== "*") headers.push(["vary", "origin"]);
  return headers;
}

/** CORS answer headers onto a header set (an answer, or the event's prepared ones). */
function setCors(headers: Headers, cors: [string, string][]): void {
  for (const [name, value] of cors) {
    if (name === "vary") headers.append(name, value);
    else headers.set(name, value);
  }
}

function withCors(event: H3Event, ctx: ServerContext, response: Response): Response {
  setCors(response.headers, corsHeaders(event, ctx));
  return response;
}

function preflight(event: H3Event, ctx: ServerContext): Response {
  const origin = allowedOrigin(event, ctx);
  if (!origin) return new Response(null, { status: 403 });
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": origin,
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": event.req.headers.get("access-control-request-headers") ?? CORS_HEADERS,
      "access-control-max-age": "600",
      ...(origin === "*" ? {} : { vary: "origin" }),
    },
  });
}
