import { randomUUID } from "node:crypto";

/** 24 hex characters; randomUUID draws from a cached entropy pool, unlike randomBytes on every call. */
export function randomId(): string {
  return randomUUID().replace(/-/g, "").slice(0, 24);
}
