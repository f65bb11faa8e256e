import { formatLocalTime, formatRelative } from "./format.js";
import type { RateLimitSnapshot, RateLimitWindow } from "./upstream/rate-limits.js";

/** "5-hour" for 300 minutes, "weekly" for 10080, else the length. */
export function windowName(window: RateLimitWindow, fallback: string): string {
  if (window.windowMinutes === 300) return "5-hour";
  if (window.windowMinutes === 10_080) return "weekly";
  if (!window.windowMinutes) return fallback;
  return window.windowMinutes % 1440 === 0 ? `${window.windowMinutes / 1440}-day` : window.windowMinutes % 60 === 0 ? `${window.windowMinutes / 60}-hour` : `${window.windowMinutes}-minute`;
}

function bar(percent: number, width = 20): string {
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

/** The usage windows as bars, with reset times in local time and relative. */
export function formatUsage(snapshot: RateLimitSnapshot | undefined, now = Date.now()): string {
  if (!snapshot) return "Usage limits: none seen yet (they come with the next request, or `codex-proxy status --refresh`)";
  const lines = [`Usage limits (as of ${formatRelative(snapshot.observedAt, now)})`];
  for (const [window, fallback] of [[snapshot.primary, "primary"], [snapshot.secondary, "secondary"]] as const) {
    if (!window) continue;
    const resets = window.resetsAt ? `resets ${formatLocalTime(window.resetsAt)} (${formatRelative(window.resetsAt, now)})` : "";
    lines.push(`  ${windowName(window, fallback).padEnd(8)} ${bar(window.usedPercent)} ${`${Math.round(window.usedPercent)}%`.padStart(4)}  ${resets}`.trimEnd());
  }
  return lines.join("\n");
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
