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
