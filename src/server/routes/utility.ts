import type { H3 } from "h3";
import type { ServerContext } from "../context.js";

const started = Date.now();

export const ROUTES = [
  "GET /health",
  "GET /healthz",
  "GET /v1/models",
  "GET /v1/usage",
  "GET /v1/models/{id}",
  "POST /v1/chat/completions",
  "POST /v1/responses",
  "POST /v1/completions",
  "GET /api/version",
  "GET /api/tags",
  "POST /api/show",
  "GET /api/ps",
  "POST /api/chat",
  "POST /api/generate",
  "POST /v1/messages",
  "POST /v1/messages/count_tokens",
  "POST /v1/images/generations",
  "POST /v1/images/edits",
];

export function registerUtilityRoutes(app: H3, ctx: ServerContext): void {
  // no auth and no upstream call: for load balancers, service managers and `doctor`
  const health = () => ({ status: "ok", name: "codex-proxy", version: ctx.version, uptimeSec: Math.round((Date.now() - started) / 1000) });
  app.get("/health", health);
  // the name Kubernetes probes (and an earlier proxy this one replaces) use
  app.get("/healthz", health);
  // the last Codex usage-limit windows the backend reported, the preferred account's and each account's (no backend call)
  const usage = () => ({ object: "usage", ...ctx.usage.usageReport() });
  app.get("/v1/usage", usage);
  app.get("/usage", usage);
  app.get("/", () => ({
    name: "codex-proxy",
    version: ctx.version,
    description: "OpenAI-, Ollama- and Anthropic-compatible endpoints for the Codex models of a ChatGPT plan",
    routes: ROUTES,
  }));
}
