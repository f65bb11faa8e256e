import { planName, readAccountClaims, readTimes } from "./jwt.js";
import type { LoginMethod, StoredAuth } from "./token-store.js";

/** What `status` and `login` report about a login; never a token. */
export interface LoginSummary {
  signedIn: true;
  email: string | null;
  plan: string | null;
  planName: string;
  accountId: string | null;
  userId: string | null;
  method: LoginMethod;
  accessTokenExpiresAt: string | null;
  accessTokenExpired: boolean;
  lastRefresh: string;
  store: string;
}

export function describeLogin(auth: StoredAuth, storePath: string, now = Date.now()): LoginSummary {
  const claims = readAccountClaims(auth.tokens.id_token, auth.tokens.access_token);
  const { expiresAt } = readTimes(auth.tokens.access_token);
  return {
    signedIn: true,
    email: claims.email ?? null,
    plan: claims.plan ?? null,
    planName: planName(claims.plan),
    accountId: auth.tokens.account_id ?? claims.accountId ?? null,
    userId: claims.userId ?? null,
    method: auth.method,
    accessTokenExpiresAt: expiresAt === undefined ? null : new Date(expiresAt).toISOString(),
    accessTokenExpired: expiresAt !== undefined && expiresAt <= now,
    lastRefresh: auth.last_refresh,
    store: storePath,
  };
}

/** Whether two logins are the same person in the same workspace (a team account id is shared by its members). */
export function sameAccount(a: Pick<LoginSummary, "email" | "accountId">, b: Pick<LoginSummary, "email" | "accountId">): boolean {
  const differs = (x: string | null, y: string | null) => x !== null && y !== null && x !== y;
  return !differs(a.email, b.email) && !differs(a.accountId, b.accountId);
}
