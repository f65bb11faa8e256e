import { describe, expect, it } from "vitest";
import { BatchQueue } from "../../src/_utils/batch-queue.js";

/** A queue whose pause/resume/return callbacks are counted. */
function counted(highWater?: number) {
  const calls = { pause: 0, resume: 0, return: 0 };
  const queue = new BatchQueue<number>({
    highWater,
    onPause: () => calls.pause++,
    onResume: () => calls.resume++,
    onReturn: () => calls.return++,
  });
  return { queue, calls };
}

describe("BatchQueue: order and batches", () => {
  it("hands over everything pushed since the last pull as one batch, in order", async () => {
    const queue = new BatchQueue<number>();
    queue.push([1, 2]);
    queue.push([3]);
    expect(await queue.next()).toEqual({ value: [1, 2, 3], done: false });
    queue.push([4]);
    queue.end();
    expect(await queue.next()).toEqual({ value: [4], done: false });
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it("passes the producer's array on as it is when nothing was waiting (no copy)", async () => {
    const queue = new BatchQueue<number>();
    const batch = [1, 2, 3];
    queue.push(batch);
    expect((await queue.next()).value).toBe(batch);
  });

  it("wakes a consumer that waits for the next push, and ignores empty pushes", async () => {
    const queue = new BatchQueue<number>();
    const pulled = queue.next();
    queue.push([]);
    queue.push([7]);
    expect(await pulled).toEqual({ value: [7], done: false });
  });

  it("is an async iterable: for await gets the batches, then ends", async () => {
    const queue = new BatchQueue<string>();
    const seen: string[][] = [];
    const consumed = (async () => {
      for await (const batch of queue) seen.push(batch);
    })();
    queue.push(["a"]);
    await Promise.resolve();
    queue.push(["b", "c"]);
    queue.end();
    await consumed;
    expect(seen.flat()).toEqual(["a", "b", "c"]);
  });

  it("ignores pushes after the end", async () => {
    const queue = new BatchQueue<number>();
    queue.push([1]);
    queue.end();
    queue.push([2]);
    expect(await queue.next()).toEqual({ value: [1], done: false });
    expect((await queue.next()).done).toBe(true);
    expect(queue.closed).toBe(true);
  });
});

describe("BatchQueue: backpressure", () => {
  it("asks the producer to pause once at the high-water mark and to resume once the batch is taken", async () => {
    const { queue, calls } = counted(3);
    queue.push([1, 2]);
    expect(calls.pause).toBe(0);
    queue.push([3]);
    expect(calls.pause).toBe(1);
    queue.push([4]);
    expect(calls.pause).toBe(1); // still paused: not asked again
    expect(calls.resume).toBe(0);
    expect((await queue.next()).value).toEqual([1, 2, 3, 4]);
    expect(calls.resume).toBe(1);
    queue.push([5]);
    expect((await queue.next()).value).toEqual([5]);
    expect(calls).toEqual({ pause: 1, resume: 1, return: 0 }); // no resume without a pause
  });

  it("never pauses without a high-water mark", async () => {
    const { queue, calls } = counted();
    queue.push(Array.from({ length: 10_000 }, (_, index) => index));
    expect((await queue.next()).value).toHaveLength(10_000);
    expect(calls.pause + calls.resume).toBe(0);
  });
});

describe("BatchQueue: failure", () => {
  it("throws the failure after the batches queued before it, once, then ends", async () => {
    const queue = new BatchQueue<number>();
    const error = new Error("broken");
    queue.push([1]);
    expect(queue.fail(error)).toBe(true);
    expect(queue.closed).toBe(true);
    queue.push([2]);
    expect(await queue.next()).toEqual({ value: [1], done: false });
    await expect(queue.next()).rejects.toBe(error);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it("keeps the first failure and none after the end", async () => {
    const queue = new BatchQueue<number>();
    const first = new Error("first");
    expect(queue.fail(first)).toBe(true);
    expect(queue.fail(new Error("second"))).toBe(false);
    await expect(queue.next()).rejects.toBe(first);
    const ended = new BatchQueue<number>();
    ended.end();
    expect(ended.fail(new Error("late"))).toBe(false);
    expect((await ended.next()).done).toBe(true);
  });

  it("wakes a waiting consumer with the failure, whatever value it is", async () => {
    const queue = new BatchQueue<number>();
    const pulled = queue.next();
    queue.fail("not an Error");
    await expect(pulled).rejects.toBe("not an Error");
  });
});

describe("BatchQueue: ready", () => {
  it("resolves once a batch waits, without taking it", async () => {
    const queue = new BatchQueue<number>();
    const ready = queue.ready();
    queue.push([1]);
    await ready;
    expect(await queue.next()).toEqual({ value: [1], done: false });
  });

  it("rejects when the queue failed with nothing queued, resolves when a batch came before the failure", async () => {
    const failed = new BatchQueue<number>();
    const ready = failed.ready();
    failed.fail(new Error("no answer"));
    await expect(ready).rejects.toThrow("no answer");

    const partial = new BatchQueue<number>();
    partial.push([1]);
    partial.fail(new Error("later"));
    await partial.ready();
    expect((await partial.next()).value).toEqual([1]);
  });

  it("resolves when the queue ended empty", async () => {
    const queue = new BatchQueue<number>();
    const ready = queue.ready();
    queue.end();
    await ready;
    expect((await queue.next()).done).toBe(true);
  });
});

describe("BatchQueue: the consumer leaves", () => {
  it("tells the producer when the consumer breaks out early, drops what waits and ignores later pushes", async () => {
    const { queue, calls } = counted();
    queue.push([1]);
    for await (const batch of queue) {
      expect(batch).toEqual([1]);
      queue.push([2]);
      break;
    }
    expect(calls.return).toBe(1);
    expect(queue.closed).toBe(true);
    queue.push([3]);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it("does not tell the producer when the consumer returns after the end", async () => {
    const { queue, calls } = counted();
    queue.push([1]);
    queue.end();
    expect(await queue.return()).toEqual({ value: undefined, done: true });
    expect(calls.return).toBe(0);
  });

  it("drops a failure nobody will read once the consumer has returned", async () => {
    const { queue, calls } = counted();
    queue.fail(new Error("unread"));
    await queue.return();
    expect(calls.return).toBe(1);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });
});
