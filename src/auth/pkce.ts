import { createHash, randomBytes } from "node:crypto";

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** As the Codex CLI: 64 random bytes for the verifier, S256 challenge, both base64url without padding. */
export function createPkce(): Pkce {
  const verifier = randomBytes(64).toString("base64url");
  return { verifier, challenge: challengeFor(verifier) };
}

export function challengeFor(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

/** 32 random bytes, base64url. */
export function createState(): string {
  return randomBytes(32).toString("base64url");
}
