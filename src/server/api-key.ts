import { createHash, timingSafeEqual } from "node:crypto";

/** Compare in constant time (hashing first makes the lengths equal). */
function sameKey(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/** The key a client sent: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: Headers): string | undefined {
  const auth = headers.get("authorization");
  const bearer = auth && /^bearer\s+(.+)$/i.exec(auth.trim())?.[1];
  return bearer || headers.get("x-api-key") || undefined;
}

export function isAuthorized(headers: Headers, keys: string[]): boolean {
  const key = presentedKey(headers);
  if (!key) return false;
  let ok = false;
  for (const k of keys) ok = sameKey(key, k) || ok; // check every key: no early exit
  return ok;
}
