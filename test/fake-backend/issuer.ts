import { createHash, randomBytes, randomUUID } from "node:crypto";
import { makeJwt, readJwt } from "./jwt.js";
import type { FakeRequest, FakeResponse } from "./http.js";
import { json, redirect, text } from "./http.js";

export const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
const REQUIRED_SCOPES = ["openid", "profile", "email", "offline_access"];

export interface FakeAccount {
  email: string;
  plan: string;
  accountId: string;
  userId: string;
}

export interface IssuedTokens {
  id_token: string;
  access_token: string;
  refresh_token: string;
}

type RefreshState = "active" | "used" | "expired" | "invalidated";

/**
 * A fake "Sign in with ChatGPT" issuer, strict where auth.openai.com is strict: every authorize parameter,
 * the PKCE verifier, the redirect URI, single-use codes, and rotating single-use refresh tokens.
 */
export class FakeIssuer {
  /** the identity the NEXT login gets (browser, device, `issueTokens()`); a refresh keeps the identity of its token */
  account: FakeAccount = { email: "user@example.com", plan: "pro", accountId: "acc-123", userId: "user-123" };
  /** lifetime of issued access tokens, seconds */
  accessTokenTtl = 3600;
  /** what `/oauth/authorize` does: redirect with a code, or with this error */
  authorizeError?: { error: string; description?: string };
  /** answers for the next refresh calls, used before normal processing (e.g. transient 500s) */
  refreshScript: { status: number; body: unknown }[] = [];
  /** delay before answering a refresh, ms */
  refreshDelayMs = 0;
  /** device flow: how the next device login ends ("approve" needs {@link approveDevice}) */
  deviceInterval = "0.05";
  deviceEnabled = true;

  /** refresh calls in all, and per identity (keyed by email; a plain object so that it crosses the IPC) */
  refreshCount = 0;
  refreshCounts: Record<string, number> = {};
  readonly codes = new Map<string, { challenge?: string; verifier?: string; redirectUri: string; used: boolean }>();
  readonly refreshTokens = new Map<string, RefreshState>();
  /** the identity each refresh token was issued to */
  readonly #refreshOwners = new Map<string, FakeAccount>();
  readonly devices = new Map<string, { userCode: string; status: "pending" | "approved" | "denied"; code?: string; verifier?: string }>();

  constructor(private readonly issuerUrl: () => string) {}

  /**
   * Tokens as a login would get them, for `account` (default: the next login's identity); `accessTtl` may be
   * negative for an already expired token.
   */
  issueTokens(accessTtl = this.accessTokenTtl, account: FakeAccount = this.account): IssuedTokens {
    const now = Math.floor(Date.now() / 1000);
    const auth = {
      chatgpt_plan_type: account.plan,
      chatgpt_account_id: account.accountId,
      chatgpt_user_id: account.userId,
      user_id: account.userId,
    };
    const refresh = `rt_${randomBytes(24).toString("hex")}`;
    this.refreshTokens.set(refresh, "active");
    this.#refreshOwners.set(refresh, account);
    return {
      id_token: makeJwt({ iss: this.issuerUrl(), aud: [CLIENT_ID], sub: account.userId, email: account.email, "https://api.openai.com/auth": auth, iat: now, exp: now + 3600 }),
      access_token: makeJwt({
        iss: this.issuerUrl(),
        jti: randomUUID(),
        "https://api.openai.com/auth": auth,
        "https://api.openai.com/profile": { email: account.email },
        iat: now,
        exp: now + accessTtl,
      }),
      refresh_token: refresh,
    };
  }

  /** Whether an access token would be accepted by the backend now. */
  isValidAccessToken(token: string): boolean {
    const payload = readJwt(token);
    return typeof payload?.exp === "number" && payload.exp * 1000 > Date.now() && payload.iss === this.issuerUrl();
  }

  setRefreshState(token: string, state: RefreshState): void {
    this.refreshTokens.set(token, state);
  }

  approveDevice(userCode?: string): void {
    for (const device of this.devices.values()) if (!userCode || device.userCode === userCode) device.status = "approved";
  }

  denyDevice(): void {
    for (const device of this.devices.values()) device.status = "denied";
  }

  async handle(req: FakeRequest): Promise<FakeResponse | undefined> {
    const { method, path } = req;
    if (method === "GET" && path === "/oauth/authorize") return this.#authorize(req);
    if (method === "POST" && path === "/oauth/token") return this.#token(req);
    if (method === "POST" && path === "/api/accounts/deviceauth/usercode") return this.#deviceUserCode(req);
    if (method === "POST" && path === "/api/accounts/deviceauth/token") return this.#deviceToken(req);
    if (method === "GET" && path === "/codex/device") return text(200, "Enter your code", "text/html");
    return undefined;
  }

  #authorize(req: FakeRequest): FakeResponse {
    const q = req.query;
    const problems: string[] = [];
    const expect = (key: string, value: string) => q.get(key) !== value && problems.push(`${key} must be ${value}`);
    expect("response_type", "code");
    expect("client_id", CLIENT_ID);
    expect("code_challenge_method", "S256");
    expect("id_token_add_organizations", "true");
    expect("codex_cli_simplified_flow", "true");
    const scopes = (q.get("scope") ?? "").split(" ");
    for (const s of REQUIRED_SCOPES) if (!scopes.includes(s)) problems.push(`scope lacks ${s}`);
    if (!/^[\w-]{43}$/.test(q.get("code_challenge") ?? "")) problems.push("code_challenge must be a base64url SHA-256");
    if (!q.get("state")) problems.push("state is required");
    if (!q.get("originator")) problems.push("originator is required");
    const redirectUri = q.get("redirect_uri") ?? "";
    if (!/^http:\/\/localhost:(1455|1457)\/auth\/callback$/.test(redirectUri)) problems.push("redirect_uri is not allowed");
    if (problems.length) return json(400, { error: "invalid_request", error_description: problems.join("; ") });
    const target = new URL(redirectUri);
    target.searchParams.set("state", q.get("state")!);
    if (this.authorizeError) {
      target.searchParams.set("error", this.authorizeError.error);
      if (this.authorizeError.description) target.searchParams.set("error_description", this.authorizeError.description);
    } else {
      const code = `code_${randomBytes(16).toString("hex")}`;
      this.codes.set(code, { challenge: q.get("code_challenge")!, redirectUri, used: false });
      target.searchParams.set("code", code);
    }
    return redirect(target.href);
  }

  async #token(req: FakeRequest): Promise<FakeResponse> {
    const type = req.headers["content-type"] ?? "";
    let params: Record<string, string>;
    if (type.startsWith("application/json")) {
      try {
        params = JSON.parse(req.body) as Record<string, string>;
      } catch {
        return json(400, { error: "invalid_request", error_description: "body is not JSON" });
      }
    } else if (type.startsWith("application/x-www-form-urlencoded")) {
      params = Object.fromEntries(new URLSearchParams(req.body));
    } else {
      return json(400, { error: "invalid_request", error_description: "unsupported content-type" });
    }
    if (params.client_id !== CLIENT_ID) return json(401, { error: "invalid_client" });
    switch (params.grant_type) {
      case "authorization_code": {
        if (!type.startsWith("application/x-www-form-urlencoded")) return json(400, { error: "invalid_request", error_description: "form body required" });
        const entry = params.code ? this.codes.get(params.code) : undefined;
        if (!entry || entry.used) return json(400, { error: "invalid_grant", error_description: "unknown or used code" });
        if (params.redirect_uri !== entry.redirectUri) return json(400, { error: "invalid_grant", error_description: "redirect_uri mismatch" });
        const verifier = params.code_verifier ?? "";
        const ok = entry.verifier ? verifier === entry.verifier : createHash("sha256").update(verifier).digest("base64url") === entry.challenge;
        if (!ok) return json(400, { error: "invalid_grant", error_description: "code_verifier does not match" });
        entry.used = true;
        return json(200, this.issueTokens());
      }
      case "refresh_token": {
        this.refreshCount++;
        const owner = this.#refreshOwners.get(params.refresh_token ?? "");
        if (owner) this.refreshCounts[owner.email] = (this.refreshCounts[owner.email] ?? 0) + 1;
        if (this.refreshDelayMs) await new Promise((r) => setTimeout(r, this.refreshDelayMs));
        const scripted = this.refreshScript.shift();
        if (scripted) return json(scripted.status, scripted.body);
        const state = this.refreshTokens.get(params.refresh_token ?? "");
        if (state === undefined) return json(401, { error: { code: "refresh_token_invalidated", message: "unknown refresh token" } });
        if (state === "used") return json(401, { error: { code: "refresh_token_reused", message: "refresh token already used" } });
        if (state === "expired") return json(401, { error: { code: "refresh_token_expired", message: "refresh token expired" } });
        if (state === "invalidated") return json(401, { error: { code: "refresh_token_invalidated", message: "refresh token revoked" } });
        this.refreshTokens.set(params.refresh_token!, "used");
        return json(200, this.issueTokens(undefined, owner));
      }
      case "urn:ietf:params:oauth:grant-type:token-exchange":
        return json(200, { access_token: `sk-fake-${randomBytes(8).toString("hex")}` });
      default:
        return json(400, { error: "unsupported_grant_type" });
    }
  }

  #deviceUserCode(req: FakeRequest): FakeResponse {
    if (!this.deviceEnabled) return json(404, { detail: "Not Found" });
    const body = safeJson(req.body);
    if (body?.client_id !== CLIENT_ID) return json(400, { error: "invalid_client" });
    const id = `dev_${randomBytes(8).toString("hex")}`;
    const userCode = `${randomBytes(2).toString("hex")}-${randomBytes(2).toString("hex")}`.toUpperCase();
    this.devices.set(id, { userCode, status: "pending" });
    return json(200, { device_auth_id: id, user_code: userCode, interval: this.deviceInterval });
  }

  #deviceToken(req: FakeRequest): FakeResponse {
    const body = safeJson(req.body);
    const device = this.devices.get(String(body?.device_auth_id));
    if (!device || device.userCode !== body?.user_code) return json(400, { error: "invalid_request" });
    if (device.status === "pending") return json(403, { error: "authorization_pending" });
    if (device.status === "denied") return json(401, { error: "authorization_declined", error_description: "Denied" });
    if (!device.code) {
      device.code = `code_${randomBytes(16).toString("hex")}`;
      device.verifier = randomBytes(32).toString("base64url");
      this.codes.set(device.code, { verifier: device.verifier, redirectUri: `${this.issuerUrl()}/deviceauth/callback`, used: false });
    }
    const challenge = createHash("sha256").update(device.verifier!).digest("base64url");
    return json(200, { authorization_code: device.code, code_challenge: challenge, code_verifier: device.verifier });
  }
}

function safeJson(body: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
