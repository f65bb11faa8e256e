import type { H3, H3Event } from "h3";
import { unknownModel } from "../../translate/model-name.js";
import type { TranslateContext } from "../../translate/responses/build.js";
import type { ResponsesRequest } from "../../translate/responses/types.js";
import { UpstreamError } from "../../upstream/errors.js";
import { PARTIAL_EVENTS } from "../../upstream/sse.js";
import { AccountNotFoundError, AmbiguousAccountError } from "../../accounts/errors.js";
import { InvalidRequestError } from "../../translate/errors.js";
import type { ServedStream, ServerContext } from "../context.js";
import { requestSignal } from "../node.js";
import { requestNote } from "../request-log.js";
import { setAnswerHeader } from "../stream.js";

/** Names the reasoning effort an answer was made with. */
export const EFFORT_HEADER = "x-codex-proxy-reasoning-effort";
/** In a request: the account that must serve it (email or workspace id). In an answer: the workspace id that served it. */
export const ACCOUNT_HEADER = "x-codex-proxy-account";

type Handler = (event: H3Event) => unknown;

/** Register a `/v1/...` route under both paths: some clients leave out the `/v1` prefix. */
export function route(app: H3, method: "get" | "post", path: string, handler: Handler): void {
  app[method](`/v1${path}`, handler);
  app[method](path, handler);
}

/**
 * Send the translated request, aborted when the client leaves or the server stops; a model the backend does not
 * know is reported with the account's list. `whole`: the answer is built from whole output items (a non-stream
 * response), so the backend's deltas are left unparsed.
 */
export async function openUpstream(
  event: H3Event,
  ctx: ServerContext,
  request: ResponsesRequest,
  translateCtx: TranslateContext,
  requestedModel: string,
  whole = false,
): Promise<ServedStream> {
  // the effort may differ from the one asked for (clamped to the model's), so every answer names it
  const effort = request.reasoning?.effort;
  if (effort) setAnswerHeader(event, EFFORT_HEADER, effort);
  const note = requestNote(event);
  if (note) {
    note.model = request.model;
    note.effort = effort;
  }
  try {
    const upstream = await ctx.upstream.createResponse(request, {
      signal: requestSignal(event, ctx.shutdownSignal),
      sessionId: request.prompt_cache_key,
      account: event.req.headers.get(ACCOUNT_HEADER) ?? undefined,
      skip: whole ? PARTIAL_EVENTS : undefined,
    });
    if (upstream.account) setAnswerHeader(event, ACCOUNT_HEADER, upstream.account.accountId ?? upstream.account.key);
    if (note) {
      note.upstream = upstream;
      if (upstream.shared) note.account = upstream.account?.email ?? upstream.account?.key;
    }
    return upstream;
  } catch (error) {
    if (error instanceof AccountNotFoundError || error instanceof AmbiguousAccountError) {
      throw new InvalidRequestError(error.message, ACCOUNT_HEADER, "account_not_found", 400);
    }
    if (error instanceof UpstreamError && error.kind === "model_not_supported") {
      ctx.catalog.invalidate();
      throw unknownModel(requestedModel, translateCtx.models);
    }
    throw error;
  }
}

