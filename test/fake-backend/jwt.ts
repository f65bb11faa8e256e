// Unsigned JWTs in the style of the Codex CLI's own test fixtures: header alg "none", signature "signature".
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function makeJwt(payload: Record<string, unknown>): string {
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.${Buffer.from("signature").toString("base64url")}`;
}

export function readJwt(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
