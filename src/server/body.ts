import type { H3Event } from "h3";
import { InvalidRequestError } from "../translate/errors.js";
import { nodeOf, readNodeBody } from "./node.js";

/**
 * The request body as JSON, whatever the content-type says (`curl -d` sends form encoding). Bodies over
 * `limit` bytes are a 413 before they are read in full.
 */
export async function readJsonBody(event: H3Event, limit: number): Promise<unknown> {
  return parseJsonBody((await readRawBody(event, limit))?.toString("utf8") ?? "");
}

/** The request body's bytes, up to `limit` (a 413 past it). */
export async function readRawBody(event: H3Event, limit: number): Promise<Buffer | undefined> {
  const declared = Number(event.req.headers.get("content-length"));
  if (declared > limit) throw tooLarge(limit); // Node reads and discards the declared rest
  const node = nodeOf(event);
  return node ? await readNodeBody(node, limit, () => tooLarge(limit), incompleteBody) : await readWebBody(event, limit);
}

export function parseJsonBody(text: string): unknown {
  if (!text.trim()) throw new InvalidRequestError("The request body is empty: send a JSON object");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`The request body is not valid JSON (${(error as Error).message})`, undefined, "invalid_json");
  }
  if (depthExceeds(body, MAX_DEPTH)) throw new InvalidRequestError(`The request body is nested more than ${MAX_DEPTH} levels deep`, undefined, "invalid_json");
  return body;
}

/** JSON.parse takes any depth, but serializing it again for the backend would overflow the stack: a 500. */
const MAX_DEPTH = 100;

function depthExceeds(value: unknown, max: number): boolean {
  // iterative, so the check itself cannot overflow
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!node || typeof node !== "object") continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) if (child && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

/** Any other runtime (`app.request()` in-process): the web stream. */
async function readWebBody(event: H3Event, limit: number): Promise<Buffer | undefined> {
  const reader = event.req.body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): InvalidRequestError {
  return new InvalidRequestError(`The request body is larger than the limit of ${Math.round(limit / 1024 / 1024)} MB`, undefined, "request_too_large", 413);
}

function incompleteBody(): InvalidRequestError {
  return new InvalidRequestError("The client closed the connection before the request body was complete");
}
