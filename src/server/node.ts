import type { IncomingMessage, ServerResponse } from "node:http";
import type { H3Event } from "h3";

/**
 * The Node request and response behind an event, for the hot paths that skip the web-standard wrappers;
 * undefined when the app runs in-process (`app.request()`). `listen.ts` serves HTTP/1.1 only.
 */
export function nodeOf(event: H3Event): { req: IncomingMessage; res: ServerResponse } | undefined {
  const node = event.runtime?.node;
  return node?.res ? (node as { req: IncomingMessage; res: ServerResponse }) : undefined;
}
