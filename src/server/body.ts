import type { H3Event } from "h3";
import { InvalidRequestError } from "../translate/errors.js";

/**
 * The request body as JSON, whatever the content-type says (`curl -d` sends form encoding). Bodies over
 * `limit` bytes are a 413 before they are read in full.
 */
export async function readJsonBody(event: H3Event, limit: number): Promise<unknown> {
  const declared = Number(event.req.headers.get("content-length"));
  if (declared > limit) throw tooLarge(limit);
  const reader = event.req.body?.getReader();
  if (!reader) throw new InvalidRequestError("The request body is empty: send a JSON object");
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
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text.trim()) throw new InvalidRequestError("The request body is empty: send a JSON object");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`The request body is not valid JSON (${(error as Error).message})`, undefined, "invalid_json");
  }
}

function tooLarge(limit: number): InvalidRequestError {
  return new InvalidRequestError(`The request body is larger than the limit of ${Math.round(limit / 1024 / 1024)} MB`, undefined, "request_too_large", 413);
}
