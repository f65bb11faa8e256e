/** Decode a JWT payload without verifying it (the Codex CLI does the same: the issuer is trusted over TLS). */
export function decodeJwtPayload(token: string | undefined): Record<string, unknown> | undefined {
  const part = token?.split(".")[1];
  if (!part) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const AUTH_CLAIM = "https://api.openai.com/auth";
const PROFILE_CLAIM = "https://api.openai.com/profile";

export interface AccountClaims {
  email?: string;
  plan?: string;
  accountId?: string;
  userId?: string;
}

/** What the id_token (and access_token, for the plan) say about the account. */
export function readAccountClaims(idToken: string | undefined, accessToken?: string): AccountClaims {
  const id = decodeJwtPayload(idToken) ?? {};
  const access = decodeJwtPayload(accessToken) ?? {};
  const auth = objectAt(id, AUTH_CLAIM);
  const accessAuth = objectAt(access, AUTH_CLAIM);
  return {
    email: stringAt(id, "email") ?? stringAt(objectAt(id, PROFILE_CLAIM), "email") ?? stringAt(objectAt(access, PROFILE_CLAIM), "email"),
    plan: stringAt(auth, "chatgpt_plan_type") ?? stringAt(accessAuth, "chatgpt_plan_type"),
    accountId: stringAt(auth, "chatgpt_account_id") ?? stringAt(accessAuth, "chatgpt_account_id"),
    userId: stringAt(auth, "chatgpt_user_id") ?? stringAt(auth, "user_id"),
  };
}

/** `exp` and `iat` of a JWT in epoch milliseconds, when present. */
export function readTimes(token: string | undefined): { expiresAt?: number; issuedAt?: number } {
  const payload = decodeJwtPayload(token) ?? {};
  const exp = payload.exp;
  const iat = payload.iat;
  return {
    expiresAt: typeof exp === "number" ? exp * 1000 : undefined,
    issuedAt: typeof iat === "number" ? iat * 1000 : undefined,
  };
}

function objectAt(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = obj[key];
  return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

function stringAt(obj: Record<string, unknown>, key: string): string | undefined {
  const value = obj[key];
  return typeof value === "string" && value ? value : undefined;
}

const PLAN_NAMES: Record<string, string> = {
  free: "Free",
  go: "Go",
  plus: "Plus",
  pro: "Pro",
  prolite: "Pro Lite",
  team: "Team",
  business: "Business",
  enterprise: "Enterprise",
  hc: "Enterprise",
  edu: "Edu",
  education: "Edu",
  k12: "K-12",
};

/** "pro" → "Pro"; unknown plans are shown as sent. */
export function planName(plan: string | undefined): string {
  if (!plan) return "unknown";
  return PLAN_NAMES[plan] ?? plan;
}
