import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/**
 * The semi-space limit of `serve`, in MiB (the young generation holds two). V8 sizes its heap for throughput: a busy
 * server's semi-spaces double up to 16 MiB each (Node 20 and 22; 64 on Node 24) and stay there. At 8 MiB, after
 * waves of 64 concurrent short streams, RSS is about 16 MiB lower for the same CPU per stream; at 256 concurrent
 * streams each costs about 6 % more CPU (bench/RESULTS.md).
 */
export const SERVE_SEMI_SPACE_MIB = 8;

/**
 * Keep V8's semi-spaces at `semiSpaceMiB` once they reach it. Only the command line sets a hard limit
 * (`--max-semi-space-size`); at run time V8 reads its growth factor each time it grows them, so the factor is 2 below
 * the limit and 1 at it, checked after each collection. The check runs between turns of the event loop: one long
 * synchronous task (parsing a body of many MB) can still grow them past the limit, up to V8's own, and V8 keeps them
 * at that size afterwards. Semi-space settings given on node's command line or in `NODE_OPTIONS` are left
 * alone. Process-wide: one per process. Returns the function that stops watching.
 */
export function limitSemiSpace(semiSpaceMiB: number, given = nodeSettings()): () => void {
  if (/--(m(ax|in)[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)\b/.test(given)) return () => {};
  const limit = 2 * semiSpaceMiB * 1024 * 1024; // the new space's size counts both semi-spaces
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

/**
 * Compile WebAssembly once, with V8's baseline compiler (Liftoff). undici parses HTTP with llhttp compiled to
 * WebAssembly at its first connection; V8 then compiles the busy functions again with TurboFan, which leaves about
 * 9 MiB in a malloc arena that is never given back: `serve` idled at 73 MiB instead of 64 once it had fetched the
 * model list, for no measurable difference in CPU per request (bench/RESULTS.md). Call it before the first
 * connection. WebAssembly settings given on node's command line or in `NODE_OPTIONS` are left alone.
 */
export function compileWasmOnce(given = nodeSettings()): void {
  if (/--(no[-_])?(liftoff|wasm)([-_=\s]|$)/.test(given)) return;
  setFlagsFromString("--liftoff-only");
}

/** The V8 and node settings this process was started with: its command line and `NODE_OPTIONS`. */
function nodeSettings(): string {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" ");
}
