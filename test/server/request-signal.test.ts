// The request's cancellation on Node: one per request, fired by the client leaving (before its answer was
// complete, or already gone), by the server shutting down, or by cancelRequest.
import { EventEmitter } from "node:events";
import type { H3Event } from "h3";
import { describe, expect, it } from "vitest";
import { cancelRequest, requestSignal } from "../../src/server/node.js";

/** An event whose Node response is a bare emitter with the two fields requestSignal reads. */
function nodeEvent(state: { destroyed?: boolean } = {}) {
  const res = Object.assign(new EventEmitter(), { destroyed: state.destroyed ?? false, writableEnded: false });
  const event = { runtime: { node: { req: new EventEmitter(), res } }, context: {} } as unknown as H3Event;
  const close = (ended: boolean) => {
    res.writableEnded = ended;
    res.destroyed = true;
    res.emit("close");
  };
  return { event, res, close };
}

describe("requestSignal on Node", () => {
  it("is one cancellation per request, fired when the client leaves before the end of its answer", () => {
    const shutdown = new AbortController();
    const { event, close } = nodeEvent();
    const signal = requestSignal(event, shutdown.signal);
    expect(requestSignal(event, shutdown.signal)).toBe(signal); // several backend requests share it
    expect(signal.aborted).toBe(false);
    close(false);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: "AbortError", message: "The client went away" });
  });

  it("is not fired by the end of a complete answer, nor by a shutdown after it", () => {
    const shutdown = new AbortController();
    const { event, close } = nodeEvent();
    const signal = requestSignal(event, shutdown.signal);
    close(true);
    shutdown.abort(new Error("stopping"));
    expect(signal.aborted).toBe(false);
  });

  it("is fired at once for a client that left while the request was read or translated", () => {
    const { event } = nodeEvent({ destroyed: true });
    const signal = requestSignal(event, new AbortController().signal);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: "AbortError" });
  });

  it("a shutdown cancels every request still open, with its reason; cancelRequest cancels one", () => {
    const shutdown = new AbortController();
    const open = [nodeEvent(), nodeEvent(), nodeEvent()].map(({ event }) => requestSignal(event, shutdown.signal));
    const other = nodeEvent();
    const cancelled = requestSignal(other.event, new AbortController().signal);
    cancelRequest(other.event, new Error("a sibling failed"));
    expect(cancelled.reason).toMatchObject({ message: "a sibling failed" });
    const reason = new Error("The server is shutting down");
    shutdown.abort(reason);
    for (const signal of open) expect(signal.reason).toBe(reason);
    expect(requestSignal(nodeEvent().event, shutdown.signal).aborted).toBe(true); // and a request that arrives after it
  });
});
