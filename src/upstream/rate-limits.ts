/** One usage window (5-hour or weekly) as the backend reports it in `x-codex-*` headers. */
export interface RateLimitWindow {
  usedPercent: number;
  windowMinutes: number | null;
  /** epoch ms */
  resetsAt: number | null;
}

export interface RateLimitSnapshot {
  /** when these headers were seen, epoch ms */
  observedAt: number;
  primary: RateLimitWindow | null;
  secondary: RateLimitWindow | null;
  planType: string | null;
  activeLimit: string | null;
  credits: { hasCredits: boolean | null; unlimited: boolean | null; balance: string | null } | null;
}

type Headers = Record<string, string | string[] | undefined>;

const first = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const num = (value: string | undefined): number | null => {
  if (value === undefined || value.trim() === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
};

const bool = (value: string | undefined): boolean | null =>
  value === undefined ? null : value === "true" || value === "1" ? true : value === "false" || value === "0" ? false : null;

/** The header names of one window, spelled out once: every backend answer is read. */
const windowHeaders = (prefix: string) => ({
  used: `${prefix}-used-percent`,
  resetAt: `${prefix}-reset-at`,
  resetAfter: `${prefix}-reset-after-seconds`,
  minutes: `${prefix}-window-minutes`,
});
const PRIMARY = windowHeaders("x-codex-primary");
const SECONDARY = windowHeaders("x-codex-secondary");

function readWindow(headers: Headers, names: typeof PRIMARY, now: number): RateLimitWindow | null {
  const used = num(first(headers, names.used));
  if (used === null) return null; // the window only counts when its percentage is present
  const resetAt = num(first(headers, names.resetAt));
  const resetAfter = num(first(headers, names.resetAfter));
  return {
    usedPercent: used,
    windowMinutes: num(first(headers, names.minutes)),
    resetsAt: resetAt !== null ? resetAt * 1000 : resetAfter !== null ? now + resetAfter * 1000 : null,
  };
}

/** The `x-codex-*` usage headers of a backend response; `undefined` when it carries none. */
export function parseRateLimitHeaders(headers: Headers, now = Date.now()): RateLimitSnapshot | undefined {
  const primary = readWindow(headers, PRIMARY, now);
  const secondary = readWindow(headers, SECONDARY, now);
  if (!primary && !secondary) return undefined;
  const hasCredits = bool(first(headers, "x-codex-credits-has-credits"));
  const unlimited = bool(first(headers, "x-codex-credits-unlimited"));
  const balance = first(headers, "x-codex-credits-balance") ?? null;
  return {
    observedAt: now,
    primary,
    secondary,
    planType: first(headers, "x-codex-plan-type") ?? null,
    activeLimit: first(headers, "x-codex-active-limit") ?? null,
    credits: hasCredits === null && unlimited === null && balance === null ? null : { hasCredits, unlimited, balance },
  };
}

/** "5-hour" for 300 minutes, "weekly" for 10080, else the length. */
export function windowName(window: RateLimitWindow, fallback: string): string {
  if (window.windowMinutes === 300) return "5-hour";
  if (window.windowMinutes === 10_080) return "weekly";
  if (!window.windowMinutes) return fallback;
  return window.windowMinutes % 1440 === 0 ? `${window.windowMinutes / 1440}-day` : window.windowMinutes % 60 === 0 ? `${window.windowMinutes / 60}-hour` : `${window.windowMinutes}-minute`;
}

/** The JSON form used by `status --json` and `GET /v1/usage`. */
export function usageJson(snapshot: RateLimitSnapshot | undefined) {
  if (!snapshot) return null;
  const win = (w: RateLimitWindow | null, fallback: string) =>
    w && { name: windowName(w, fallback), usedPercent: w.usedPercent, windowMinutes: w.windowMinutes, resetsAt: w.resetsAt ? new Date(w.resetsAt).toISOString() : null };
  return {
    observedAt: new Date(snapshot.observedAt).toISOString(),
    primary: win(snapshot.primary, "primary"),
    secondary: win(snapshot.secondary, "secondary"),
    planType: snapshot.planType,
    credits: snapshot.credits,
  };
}
