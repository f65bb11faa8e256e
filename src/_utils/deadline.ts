/**
 * `promise`, or `onTimeout()`'s error after `ms`, whichever comes first. The timer is always cleared. Used
 * where an abort signal alone is not enough (a dependency can miss it) or where there is no signal to give.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `promise`, or the signal's reason as soon as it aborts (for a task that may miss the signal it was given). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

/** A signal that aborts with `onTimeout()`'s error after `ms`; `clear()` stops the clock. */
export function timeLimitSignal(ms: number, onTimeout: () => Error): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(onTimeout()), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * `task(signal)`, or `onTimeout()`'s error after `ms`: the signal is aborted with that error, and the promise
 * rejects with it even when something inside the task misses the signal.
 */
export function withTimeLimit<T>(task: (signal: AbortSignal) => Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  const controller = new AbortController();
  return withDeadline(task(controller.signal), ms, () => {
    const error = onTimeout();
    controller.abort(error);
    return error;
  });
}
