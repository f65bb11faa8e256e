import type { H3, H3Event } from "h3";
import type { ResponsesEvent } from "../../translate/responses/types.js";
import { responsesToBackend } from "../../translate/responses/request.js";
import { ResponseAggregator, ResponseStreamCompleter } from "../../translate/responses/aggregate.js";
import { InvalidRequestError } from "../../translate/errors.js";
import { UpstreamError } from "../../upstream/errors.js";
import type { UpstreamStream } from "../../upstream/client.js";
import { readJsonBody } from "../body.js";
import { translateContext, type ServerContext } from "../context.js";
import { describeError } from "../errors.js";
import { drain, jsonResponse, preparedHeaders, SSE_HEADERS, streamResponse, translateFrames } from "../stream.js";
import { openUpstream, route } from "./_shared.js";

export function registerResponsesRoutes(app: H3, ctx: ServerContext): void {
  route(app, "post", "/responses", (event) => createResponse(event, ctx));
  // the Codex CLI's built-in provider tries a WebSocket here first: 426 makes it use HTTP at once (a 404 costs
  // it five reconnects, about ten seconds, per session)
  route(app, "get", "/responses", () => {
    throw new InvalidRequestError("This server speaks the Responses API over HTTP only: POST /v1/responses (no WebSocket)", undefined, "websocket_not_supported", 426);
  });
}

/**
 * Responses clients (the Codex CLI first) are the backend's own clients: they read its error bodies
 * (`usage_limit_reached`, `resets_at`, `plan_type`), its failure events and its usage headers, so this route
 * relays them as sent. Errors of the proxy's own (bad JSON, unknown model, API key) stay in the OpenAI format.
 */
async function createResponse(event: H3Event, ctx: ServerContext): Promise<unknown> {
  const body = await readJsonBody(event, ctx.options.bodyLimit);
  const translateCtx = await translateContext(ctx);
  const { request, stream } = responsesToBackend(body, translateCtx);
  let upstream: UpstreamStream;
  try {
    upstream = await openUpstream(event, ctx, request, translateCtx, String((body as Record<string, unknown>).model ?? request.model), !stream);
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    const backend = relayed(error.extra.headers ?? {}, backendHeader);
    // a failure event before any other: the stream the backend sent
    const failed = error.extra.event;
    if (stream && failed) return streamResponse(event, (async function* () { yield sseFrame(failed); })(), Object.assign({}, SSE_HEADERS, backend));
    const answer = error.extra.answer;
    if (!answer) throw error;
    // the body as sent, and the retry advice every family gets (retry-after, x-should-retry for a usage limit)
    const sent = relayed(error.extra.headers ?? {}, (name) => name === "content-type" || name === "retry-after" || name === "retry-after-ms");
    return new Response(answer.body, { status: answer.status, headers: Object.assign({}, preparedHeaders(event), describeError(error).headers, sent, backend) });
  }
  const headers = relayed(upstream.headers, backendHeader);

  if (!stream) {
    const aggregator = new ResponseAggregator(body as Record<string, unknown>, request.service_tier);
    await drain(upstream.events, (e) => aggregator.push(e));
    return jsonResponse(event, aggregator.response, headers);
  }
  let sequence = 0;
  const completer = new ResponseStreamCompleter(body as Record<string, unknown>, request.service_tier);
  const frames = await translateFrames(
    upstream.events,
    {
      // the backend's events go to the client as they are, the lifecycle ones filled in
      map: (e) => {
        sequence = typeof e.sequence_number === "number" ? e.sequence_number : sequence + 1;
        return sseFrame(completer.complete(e));
      },
      fail: (reason) => {
        if (reason instanceof UpstreamError && reason.extra.event) {
          return [sseFrame(completer.complete(reason.extra.event as ResponsesEvent))];
        }
        const info = describeError(reason);
        const errorEvent = { type: "error", code: info.code ?? "server_error", message: info.message, param: null, sequence_number: sequence + 1 };
        return [`event: error\ndata: ${JSON.stringify(errorEvent)}\n\n`];
      },
    },
    event,
    ctx,
    // no held status line: these clients read response.failed and its code from the stream itself
    false,
  );
  return streamResponse(event, frames, Object.assign({}, SSE_HEADERS, headers));
}

const sseFrame = (e: Record<string, unknown>) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`;

/** The backend's usage headers (Codex shows the user's limits from them), request id and served model. */
const backendHeader = (name: string) => name.startsWith("x-codex-") || name === "x-request-id" || name === "openai-model";

function relayed(headers: Record<string, string | string[] | undefined>, wanted: (name: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && wanted(name)) out[name] = Array.isArray(value) ? value.join(", ") : value;
  return out;
}
