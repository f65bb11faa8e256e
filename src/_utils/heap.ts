import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

export interface HeapLimits {
  /** the largest semi-space in MiB; the young generation holds two */
  semiSpaceMiB: number;
  /** how far the old generation may grow past what the last full collection kept, in percent */
  heapGrowingPercent: number;
}

/**
 * What `serve` lets V8 use. V8 sizes its heap for throughput: a busy server's semi-spaces double up to 16 MiB each
 * (Node 20 and 22; 64 on Node 24), and stay there. Past 8 MiB they no longer save measurable CPU (bench/RESULTS.md):
 * after waves of 64 concurrent short streams this keeps about 20 MiB less resident for the same CPU per stream.
 */
export const SERVE_HEAP: HeapLimits = { semiSpaceMiB: 8, heapGrowingPercent: 50 };

/**
 * Keep the young generation at most `semiSpaceMiB` per semi-space, and grow the old one by `heapGrowingPercent`.
 * Only the command line sets a semi-space limit; at run time V8 reads its growth factor each time it grows the
 * semi-spaces, so the factor is 2 below the limit and 1 at it, checked after each collection. V8 still shrinks
 * them when the process idles. A limit the user set on the command line or in `NODE_OPTIONS` is left alone.
 * Returns the function that stops watching.
 */
export function limitHeap(limits: HeapLimits, given = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" ")): () => void {
  const isGiven = (flag: string) => new RegExp(`--${flag}\\b|--${flag.replaceAll("-", "_")}\\b`).test(given);
  if (!isGiven("heap-growing-percent")) setFlagsFromString(`--heap-growing-percent=${limits.heapGrowingPercent}`);
  if (isGiven("max-semi-space-size") || isGiven("semi-space-growth-factor")) return () => {};
  const limit = 2 * limits.semiSpaceMiB * 1024 * 1024; // the new space's size counts both semi-spaces
  let factor = 2;
  const check = () => {
    const size = getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0;
    const wanted = size >= limit ? 1 : 2;
    if (wanted === factor) return;
    factor = wanted;
    setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  };
  check();
  const observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ["gc"] });
  return () => {
    observer.disconnect();
    if (factor !== 2) setFlagsFromString("--semi-space-growth-factor=2");
  };
}
