// Which ChatGPT identity a backend request comes from, and what the fake does per identity (usage, limits, plan).
import { readJwt } from "./jwt.js";
import { responseSteps } from "./events.js";
import type { Reply } from "./codex.js";

export interface Usage {
  primary: number;
  secondary: number;
}

/** What a test sets for one identity in `codex.accounts[email]`; an identity without an entry uses the shared state. */
export interface FakeCodexAccount {
  /** its used percents (else `codex.usage`) */
  usage?: Usage;
  /** unix seconds: until then every `/responses` meets the usage limit, resetting at this time */
  limitedUntil?: number;
  /** the limit arrives as a 200 stream failing with usage_limit_reached, not as a 429 */
  limitInStream?: boolean;
  /** the slugs its plan offers (else every model) */
  models?: string[];
}

/** The identity an access token was issued to. */
export interface TokenIdentity {
  /** the key of `codex.accounts`, `calls[i].account` and the per-identity counts */
  email: string;
  plan: string;
  accountId: string;
  userId: string;
}

/** Read from the token's claims: two users of one workspace share the account id, so the email tells them apart. */
export function tokenIdentity(token: string): TokenIdentity {
  const payload = readJwt(token) ?? {};
  const auth = (payload["https://api.openai.com/auth"] ?? {}) as Record<string, unknown>;
  const profile = (payload["https://api.openai.com/profile"] ?? {}) as Record<string, unknown>;
  const userId = String(auth.chatgpt_user_id ?? auth.user_id ?? "");
  return { email: String(profile.email ?? userId), plan: String(auth.chatgpt_plan_type ?? ""), accountId: String(auth.chatgpt_account_id ?? ""), userId };
}

/** Whether the identity's usage limit holds now. */
export function isLimited(state: FakeCodexAccount | undefined): state is FakeCodexAccount & { limitedUntil: number } {
  return state?.limitedUntil !== undefined && Date.now() / 1000 < state.limitedUntil;
}

/** The `x-codex-*` headers of one identity (upstream-protocol.md §4.2); a limited window reads 100 % until its reset. */
export function rateLimitHeaders(usage: Usage, plan: string, limitedUntil?: number): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  const limited = limitedUntil !== undefined && limitedUntil > Date.now() / 1000;
  const primaryReset = limited ? Math.ceil(limitedUntil) : now + 2 * 3600;
  return {
    "x-codex-primary-used-percent": String(limited ? 100 : usage.primary),
    "x-codex-primary-window-minutes": "300",
    "x-codex-primary-reset-at": String(primaryReset),
    "x-codex-primary-reset-after-seconds": String(primaryReset - now),
    "x-codex-secondary-used-percent": String(usage.secondary),
    "x-codex-secondary-window-minutes": "10080",
    "x-codex-secondary-reset-at": String(now + 3 * 86_400),
    "x-codex-secondary-reset-after-seconds": String(3 * 86_400),
    "x-codex-plan-type": plan,
  };
}

/** The backend's answer to a request over the limit (upstream-protocol.md §4.1): a 429, or a stream that fails at once. */
export function usageLimitReply(plan: string, resetsAt: number, inStream: boolean, model: string): Reply {
  const error = { type: "usage_limit_reached", plan_type: plan, resets_at: Math.ceil(resetsAt), message: "The usage limit has been reached" };
  if (inStream) return { steps: responseSteps(model, { failed: { code: "usage_limit_reached", ...error } }) };
  return { status: 429, body: { error }, headers: { "x-codex-active-limit": "codex" } };
}
