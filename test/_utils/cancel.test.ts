import { describe, expect, it, vi } from "vitest";
import { Cancel, delay } from "../../src/_utils/cancel.js";

describe("Cancel", () => {
  it("calls each listener once, with the reason readable, and forgets removed ones", () => {
    const cancel = new Cancel();
    const kept = vi.fn(() => expect(cancel.reason).toBe("gone"));
    const removed = vi.fn();
    cancel.addEventListener("abort", kept);
    cancel.addEventListener("abort", removed);
    cancel.removeEventListener("abort", removed);
    expect(cancel.aborted).toBe(false);
    cancel.abort("gone");
    cancel.abort("again");
    expect(cancel.aborted).toBe(true);
    expect(cancel.reason).toBe("gone");
    expect(kept).toHaveBeenCalledTimes(1);
    expect(removed).not.toHaveBeenCalled();
  });

  it("does not call a listener added after the abort (as an AbortSignal does not)", () => {
    const cancel = new Cancel();
    cancel.abort(new Error("stop"));
    const late = vi.fn();
    cancel.addEventListener("abort", late);
    expect(late).not.toHaveBeenCalled();
  });
});

describe("delay", () => {
  it("resolves after the time, and leaves no listener behind", async () => {
    const cancel = new Cancel();
    const remove = vi.spyOn(cancel, "removeEventListener");
    await delay(5, cancel);
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it("rejects with the reason as soon as the signal aborts, or at once when it already has", async () => {
    const cancel = new Cancel();
    const waiting = delay(60_000, cancel);
    cancel.abort(new Error("client left"));
    await expect(waiting).rejects.toThrow("client left");
    await expect(delay(60_000, cancel)).rejects.toThrow("client left");
    const controller = new AbortController();
    controller.abort(new Error("an AbortSignal works too"));
    await expect(delay(60_000, controller.signal)).rejects.toThrow("an AbortSignal works too");
  });
});
