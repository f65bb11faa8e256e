import type { H3, H3Event } from "h3";
import { responsesToBackend } from "../../translate/responses/request.js";
import { ResponseAggregator } from "../../translate/responses/aggregate.js";
import { UpstreamError } from "../../upstream/errors.js";
import { readJsonBody } from "../body.js";
import { translateContext, type ServerContext } from "../context.js";
import { describeError } from "../errors.js";
import { SSE_HEADERS, streamResponse } from "../stream.js";
import { drain, openUpstream, route, translateFrames } from "./_shared.js";

export function registerResponsesRoutes(app: H3, ctx: ServerContext): void {
  route(app, "post", "/responses", (event) => createResponse(event, ctx));
}

async function createResponse(event: H3Event, ctx: ServerContext): Promise<unknown> {
  const body = await readJsonBody(event, ctx.options.bodyLimit);
  const tctx = await translateContext(ctx);
  const { request, stream } = responsesToBackend(body, tctx);
  const upstream = await openUpstream(event, ctx, request, tctx, String((body as Record<string, unknown>).model ?? request.model));

  if (!stream) {
    const aggregator = new ResponseAggregator(body as Record<string, unknown>);
    await drain(upstream.events, (e) => aggregator.push(e));
    return aggregator.response;
  }
  let sequence = 0;
  const frames = await translateFrames(
    upstream.events,
    {
      // the backend's events go to the client as they are
      map: (e) => {
        sequence = typeof e.sequence_number === "number" ? e.sequence_number : sequence + 1;
        return [`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`];
      },
      fail: (reason) => {
        if (reason instanceof UpstreamError && reason.extra.event) {
          const failed = reason.extra.event;
          return [`event: ${String(failed.type)}\ndata: ${JSON.stringify(failed)}\n\n`];
        }
        const info = describeError(reason);
        const errorEvent = { type: "error", code: info.code ?? "server_error", message: info.message, param: null, sequence_number: sequence + 1 };
        return [`event: error\ndata: ${JSON.stringify(errorEvent)}\n\n`];
      },
    },
    event,
    ctx,
    // Responses clients (the Codex CLI first) read response.failed and its code from the stream itself
    false,
  );
  return streamResponse(event, frames, SSE_HEADERS);
}
