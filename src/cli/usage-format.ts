import { formatLocalTime, formatRelative } from "../_utils/format.js";
import { windowName, type RateLimitSnapshot } from "../upstream/rate-limits.js";

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
