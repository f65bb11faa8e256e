import type { H3Event } from "h3";
import { LogLevels } from "consola/basic";
import type { Logger } from "../_utils/logger.js";
import type { ResponsesUsage } from "../translate/responses/types.js";
import { nodeOf } from "./node.js";

/** What the request's log line says besides method, path and status; the routes fill it in as they learn it. */
export interface RequestNote {
  /** the backend model and effort the request was sent with */
  model?: string;
  effort?: string;
  /** the account that served it, when there are several */
  account?: string;
  /** the backend answer, whose usage is known once it is complete */
  upstream?: { readonly usage?: ResponsesUsage };
  /** why the answer failed (an error status, or a stream cut after its 200) */
  failure?: string;
}

const NOTE = "codexProxyRequest";

/** The request's note, or undefined when no log line will be written (`--quiet`, or in-process). */
export function requestNote(event: H3Event): RequestNote | undefined {
  return event.context[NOTE] as RequestNote | undefined;
}

/**
 * A middleware that logs one line per request when its answer has ended (streams included), or undefined
 * when the logger would drop info lines: then the hot path carries nothing. Node only (`app.request()` has no end).
 */
export function createRequestLogger(logger: Logger): ((event: H3Event) => void) | undefined {
  if (logger.level < LogLevels.info) return undefined;
  // consola folds identical lines within a second into one: every request gets its own
  const log = logger.create({ throttle: 0 });
  return (event) => {
    const res = nodeOf(event)?.res;
    if (!res) return;
    const start = performance.now();
    const note: RequestNote = {};
    event.context[NOTE] = note;
    // everything is computed after the answer is out, so the line costs the client nothing
    res.once("close", () => {
      const gone = !res.writableEnded;
      const line = formatRequestLine(event.req.method, event.url.pathname, res.statusCode, performance.now() - start, note, gone);
      if (res.statusCode >= 500 || (note.failure && res.statusCode < 400)) log.warn(line);
      else log.info(line);
    });
  };
}

/** `POST /v1/chat/completions 200 gpt-5.5 (high) 1.4s, tokens 1200 in / 80 out` */
export function formatRequestLine(method: string, path: string, status: number, ms: number, note: RequestNote, clientGone: boolean): string {
  let line = `${method} ${path} ${status}`;
  if (note.model) line += ` ${note.model}${note.effort ? ` (${note.effort})` : ""}`;
  if (note.account) line += ` via ${note.account}`;
  line += ` ${ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`}`;
  const usage = note.upstream?.usage;
  if (usage) line += `, tokens ${usage.input_tokens ?? 0} in / ${usage.output_tokens ?? 0} out`;
  if (note.failure) line += `: ${note.failure}`;
  else if (clientGone) line += ": the client closed the connection before the end";
  return line;
}
