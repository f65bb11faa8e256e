import type { Dispatcher } from "undici";
import { send, type HttpResponse } from "../_utils/http-client.js";

/** The Codex CLI's public OAuth client; the issuer only accepts its redirect URIs. */
export const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
export const CALLBACK_PORT = 1455;
export const CALLBACK_PATH = "/auth/callback";
export const REDIRECT_URI = `http://localhost:${CALLBACK_PORT}${CALLBACK_PATH}`;
export const SCOPE = "openid profile email offline_access api.connectors.read api.connectors.invoke";
export const ORIGINATOR = "codex_cli_rs";

/** Refresh errors after which the refresh token can never work again. */
export const PERMANENT_REFRESH_ERRORS: Record<string, string> = {
  refresh_token_expired: "Your ChatGPT sign-in has expired (refresh token expired)",
  refresh_token_reused: "Your ChatGPT refresh token was already used by another client (refresh token reused)",
  refresh_token_invalidated: "Your ChatGPT sign-in was revoked (refresh token invalidated)",
};

/**
 * How long a refresh waits for the issuer's answer. The answer holds the only copy of the rotated refresh token:
 * giving up on it loses the login, so wait about as long as the retries of a failed refresh used to take in all.
 */
export const REFRESH_ANSWER_TIMEOUT_MS = 120_000;

export interface TokenSet {
  id_token: string;
  access_token: string;
  refresh_token: string;
}

export class OAuthError extends Error {
  override name = "OAuthError";
  constructor(
    message: string,
    readonly status: number,
    /** the issuer's error code, e.g. `refresh_token_expired` */
    readonly code?: string,
  ) {
    super(message);
  }

  /** A refresh that can never succeed with the same refresh token. */
  get permanent(): boolean {
    return this.status === 401 || this.code === "invalid_grant" || (this.code ?? "") in PERMANENT_REFRESH_ERRORS;
  }
}

export function buildAuthorizeUrl(issuer: string, params: { challenge: string; state: string }): string {
  const query = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: params.challenge,
    code_challenge_method: "S256",
    id_token_add_organizations: "true",
    codex_cli_simplified_flow: "true",
    state: params.state,
    originator: ORIGINATOR,
  });
  // URLSearchParams writes spaces as "+"; the Codex CLI percent-encodes them
  return `${issuer}/oauth/authorize?${query.toString().replace(/\+/g, "%20")}`;
}

/** Talks to the OAuth issuer. Every call goes through the shared undici dispatcher. */
export class OAuthClient {
  constructor(
    readonly issuer: string,
    private readonly dispatcher: Dispatcher,
  ) {}

  async exchangeCode(input: { code: string; verifier: string; redirectUri: string }): Promise<TokenSet> {
    const res = await send(`${this.issuer}/oauth/token`, {
      dispatcher: this.dispatcher,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: input.code,
        redirect_uri: input.redirectUri,
        client_id: CLIENT_ID,
        code_verifier: input.verifier,
      }).toString(),
    });
    if (res.status < 200 || res.status >= 300) throw tokenEndpointError("Code exchange failed", res);
    const body = res.json as Partial<TokenSet> | undefined;
    if (!isNonEmpty(body?.id_token) || !isNonEmpty(body?.access_token) || !isNonEmpty(body?.refresh_token)) {
      throw new OAuthError("Code exchange failed: the issuer's answer lacks id_token, access_token or refresh_token", res.status);
    }
    return { id_token: body.id_token, access_token: body.access_token, refresh_token: body.refresh_token };
  }

  /** JSON body, as the Codex CLI sends it. Missing fields in the answer keep their old values. */
  async refresh(refreshToken: string): Promise<Partial<TokenSet>> {
    const res = await send(`${this.issuer}/oauth/token`, {
      dispatcher: this.dispatcher,
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ client_id: CLIENT_ID, grant_type: "refresh_token", refresh_token: refreshToken }),
      timeoutMs: REFRESH_ANSWER_TIMEOUT_MS,
    });
    if (res.status < 200 || res.status >= 300) throw tokenEndpointError("Token refresh failed", res);
    const body = (res.json ?? {}) as Record<string, unknown>;
    const out: Partial<TokenSet> = {};
    for (const key of ["id_token", "access_token", "refresh_token"] as const) {
      const value = body[key];
      if (isNonEmpty(value)) out[key] = value;
    }
    if (!out.access_token) throw new OAuthError("Token refresh failed: the issuer's answer has no access_token", res.status);
    return out;
  }

  async requestDeviceCode(): Promise<DeviceCode> {
    const res = await send(`${this.issuer}/api/accounts/deviceauth/usercode`, {
      dispatcher: this.dispatcher,
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ client_id: CLIENT_ID }),
    });
    if (res.status === 404) {
      throw new OAuthError(
        "Device code login is not enabled for this issuer. Enable it in ChatGPT's security settings, or use `codex-proxy login` in a browser",
        404,
      );
    }
    if (res.status < 200 || res.status >= 300) throw tokenEndpointError("Device code request failed", res);
    const body = (res.json ?? {}) as Record<string, unknown>;
    const userCode = body.user_code ?? body.usercode;
    if (!isNonEmpty(body.device_auth_id) || !isNonEmpty(userCode)) {
      throw new OAuthError("Device code request failed: no device_auth_id or user_code in the answer", res.status);
    }
    const interval = Number(body.interval);
    return {
      deviceAuthId: body.device_auth_id,
      userCode,
      intervalMs: Number.isFinite(interval) && interval > 0 ? interval * 1000 : 5000,
      verificationUrl: `${this.issuer}/codex/device`,
    };
  }

  /** One poll: `undefined` while the user has not approved yet. */
  async pollDeviceCode(code: DeviceCode): Promise<{ authorizationCode: string; codeVerifier: string } | undefined> {
    const res = await send(`${this.issuer}/api/accounts/deviceauth/token`, {
      dispatcher: this.dispatcher,
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ device_auth_id: code.deviceAuthId, user_code: code.userCode }),
    });
    if (res.status === 403 || res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300) throw tokenEndpointError("Device login failed", res);
    const body = (res.json ?? {}) as Record<string, unknown>;
    if (!isNonEmpty(body.authorization_code) || !isNonEmpty(body.code_verifier)) {
      throw new OAuthError("Device login failed: no authorization_code or code_verifier in the answer", res.status);
    }
    return { authorizationCode: body.authorization_code, codeVerifier: body.code_verifier };
  }

  get deviceRedirectUri(): string {
    return `${this.issuer}/deviceauth/callback`;
  }
}

export interface DeviceCode {
  deviceAuthId: string;
  userCode: string;
  intervalMs: number;
  verificationUrl: string;
}

function isNonEmpty(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

/** Reads `error` (string or `{code,message}`), `error_description` and a top-level `code`, as the Codex CLI does. */
function tokenEndpointError(what: string, res: HttpResponse): OAuthError {
  const body = (res.json ?? {}) as Record<string, unknown>;
  const err = body.error;
  let code: string | undefined;
  let detail: string | undefined;
  if (typeof err === "string") code = err;
  else if (err && typeof err === "object") {
    const e = err as Record<string, unknown>;
    if (typeof e.code === "string") code = e.code;
    if (typeof e.message === "string") detail = e.message;
  }
  if (!code && typeof body.code === "string") code = body.code;
  if (typeof body.error_description === "string") detail = body.error_description;
  if (!detail && !code) detail = res.text.slice(0, 200) || undefined;
  const parts = [code, detail].filter(Boolean).join(": ");
  return new OAuthError(`${what} (HTTP ${res.status}${parts ? `, ${parts}` : ""})`, res.status, code);
}
