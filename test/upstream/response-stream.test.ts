import type { Dispatcher } from "undici";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Cancel } from "../../src/_utils/cancel.js";
import { UpstreamError } from "../../src/upstream/errors.js";
import { ResponseEventStream } from "../../src/upstream/response-stream.js";
import { UpstreamEventParser } from "../../src/upstream/sse.js";

// undici's callbacks fed by hand: no socket, so every order of arrival can be played exactly

/** A dispatch controller that records what the handler asks of the connection. */
function fakeController() {
  const calls = { pause: 0, resume: 0, abort: [] as unknown[] };
  let paused = false;
  const controller = {
    get paused() {
      return paused;
    },
    get aborted() {
      return calls.abort.length > 0;
    },
    abort: (reason: unknown) => void calls.abort.push(reason),
    pause: () => void ((paused = true), calls.pause++),
    resume: () => void ((paused = false), calls.resume++),
  } as unknown as Dispatcher.DispatchController;
  return { controller, calls };
}

const sse = (type: string, fields: object = {}) => Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`);
const delta = (text: string) => sse("response.output_text.delta", { delta: text });
const usage = { input_tokens: 3, output_tokens: 5, total_tokens: 8 };
const completed = sse("response.completed", { response: { id: "resp_1", status: "completed", usage } });

/** A handler with its request sent and a 200 head in. */
function started(options: { idleTimeoutMs?: number; signal?: AbortSignal } = {}) {
  const stream = new ResponseEventStream({ idleTimeoutMs: 10_000, ...options });
  const { controller, calls } = fakeController();
  stream.onRequestStart(controller);
  stream.onResponseStart(controller, 200, { "content-type": "text/event-stream" });
  return { stream, controller, calls };
}

const types = (batch: { type: string }[] | undefined) => batch?.map((event) => event.type);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("ResponseEventStream: head and events", () => {
  it("resolves the head of a 200 answer at its headers, before any body", async () => {
    const { stream } = started();
    expect(await stream.head).toEqual({ status: 200, headers: { "content-type": "text/event-stream" }, text: "" });
  });

  it("parses a network read's chunks together into one batch, an event split across chunks included", async () => {
    const { stream, controller } = started();
    const feed = vi.spyOn(UpstreamEventParser.prototype, "feed");
    const second = delta("b");
    stream.onResponseData(controller, sse("response.created", { response: { id: "resp_1" } }));
    stream.onResponseData(controller, delta("a"));
    stream.onResponseData(controller, second.subarray(0, 10));
    stream.onResponseData(controller, second.subarray(10));
    const first = await stream.events.next();
    expect(types(first.value)).toEqual(["response.created", "response.output_text.delta", "response.output_text.delta"]);
    expect(first.value!.map((event: { delta?: string }) => event.delta)).toEqual([undefined, "a", "b"]);
    expect(feed).toHaveBeenCalledTimes(1); // one parse for the four chunks of the read
    stream.onResponseData(controller, delta("c"));
    const next = await stream.events.next();
    expect(next.value).toEqual([{ type: "response.output_text.delta", delta: "c" }]);
  });

  it("ends the events at the terminal event with its usage, and lets undici read the rest of the body", async () => {
    const { stream, controller, calls } = started();
    stream.onResponseData(controller, delta("hi"));
    stream.onResponseData(controller, completed);
    stream.onResponseData(controller, delta("after the end"));
    expect(types((await stream.events.next()).value)).toEqual(["response.output_text.delta", "response.completed"]);
    expect(stream.usage).toEqual(usage);
    const feed = vi.spyOn(UpstreamEventParser.prototype, "feed");
    stream.onResponseData(controller, delta("still after the end"));
    expect(await stream.events.next()).toEqual({ value: undefined, done: true });
    expect(feed).not.toHaveBeenCalled(); // the rest of the body is read, not parsed
    stream.onResponseEnd();
    await stream.events.return();
    expect(calls.abort).toEqual([]); // the keep-alive connection stays reusable
  });

  it("fails a body that ends before the terminal event, after the events that came", async () => {
    const { stream, controller, calls } = started();
    stream.onResponseData(controller, delta("half"));
    stream.onResponseEnd();
    expect(types((await stream.events.next()).value)).toEqual(["response.output_text.delta"]);
    await expect(stream.events.next()).rejects.toThrow("closed the stream before response.completed");
    expect(calls.abort).toEqual([]);
  });

  it("turns a broken connection into a bad_gateway error, after the events that came", async () => {
    const { stream, controller } = started();
    stream.onResponseData(controller, delta("half"));
    stream.onResponseError(controller, new Error("socket hang up"));
    expect(types((await stream.events.next()).value)).toEqual(["response.output_text.delta"]);
    const error = await stream.events.next().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ kind: "bad_gateway", message: expect.stringContaining("socket hang up") });
  });

  it("fails on a response.failed event and aborts the rest of the answer", async () => {
    const { stream, controller, calls } = started();
    stream.onResponseData(controller, sse("response.failed", { response: { error: { code: "server_error", message: "The model broke" } } }));
    await expect(stream.events.ready()).rejects.toThrow("The model broke");
    expect(calls.abort).toHaveLength(1);
  });

  it("pauses the connection when events pile up for a slow consumer and resumes it once they are taken", async () => {
    const { stream, controller, calls } = started();
    stream.onResponseData(controller, Buffer.concat(Array.from({ length: 600 }, (_, index) => delta(String(index)))));
    await stream.events.ready();
    expect(calls.pause).toBe(1);
    expect(controller.paused).toBe(true);
    expect((await stream.events.next()).value).toHaveLength(600);
    expect(calls.resume).toBe(1);
    expect(controller.paused).toBe(false);
  });
});

describe("ResponseEventStream: the idle limit", () => {
  it("fails a backend that never answers, and the head rejects once undici reports the abort", async () => {
    vi.useFakeTimers();
    const stream = new ResponseEventStream({ idleTimeoutMs: 1000 });
    const { controller, calls } = fakeController();
    stream.onRequestStart(controller);
    vi.advanceTimersByTime(999);
    expect(calls.abort).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls.abort).toHaveLength(1);
    expect(calls.abort[0]).toMatchObject({ kind: "timeout", message: expect.stringContaining("sent nothing for") });
    stream.onResponseError(controller, calls.abort[0] as Error);
    await expect(stream.head).rejects.toBe(calls.abort[0]);
  });

  it("restarts the clock at every network read and fails the stream when the backend stalls", async () => {
    vi.useFakeTimers();
    const { stream, controller, calls } = started({ idleTimeoutMs: 1000 });
    vi.advanceTimersByTime(800);
    stream.onResponseData(controller, delta("a"));
    expect(types((await stream.events.next()).value)).toEqual(["response.output_text.delta"]);
    vi.advanceTimersByTime(800); // 1,600 ms since the head, 800 since the last read
    expect(calls.abort).toEqual([]);
    const next = stream.events.next();
    vi.advanceTimersByTime(200);
    await expect(next).rejects.toMatchObject({ kind: "timeout" });
    expect(calls.abort).toHaveLength(1);
  });

  it("after the terminal event, only aborts a body that never ends (the answer stays whole)", async () => {
    vi.useFakeTimers();
    const { stream, controller, calls } = started({ idleTimeoutMs: 1000 });
    stream.onResponseData(controller, completed);
    expect(types((await stream.events.next()).value)).toEqual(["response.completed"]);
    vi.advanceTimersByTime(1000);
    expect(String(calls.abort[0])).toContain("did not end the finished answer");
    expect(await stream.events.next()).toEqual({ value: undefined, done: true });
  });

  it("stops the clock when the body ends", () => {
    vi.useFakeTimers();
    const { stream, controller, calls } = started({ idleTimeoutMs: 1000 });
    stream.onResponseData(controller, completed);
    stream.onResponseEnd();
    vi.advanceTimersByTime(5000);
    expect(calls.abort).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("ResponseEventStream: a non-200 answer", () => {
  it("keeps the error body as sent when a character spans two network reads", async () => {
    const stream = new ResponseEventStream({ idleTimeoutMs: 10_000 });
    const { controller } = fakeController();
    const body = Buffer.from(JSON.stringify({ error: { type: "usage_limit_reached", message: "Limite atteinte à 3 h — réessayez" } }));
    const cut = body.indexOf(0xc3) + 1; // between the two bytes of "à"
    stream.onRequestStart(controller);
    stream.onResponseStart(controller, 429, { "content-type": "application/json" });
    stream.onResponseData(controller, body.subarray(0, cut));
    stream.onResponseData(controller, body.subarray(cut));
    stream.onResponseEnd();
    const head = await stream.head;
    expect(head.status).toBe(429);
    expect(head.headers).toEqual({ "content-type": "application/json" });
    expect(head.text).toBe(body.toString("utf8"));
  });

  it("keeps only the first 64 KB of a large error body", async () => {
    const stream = new ResponseEventStream({ idleTimeoutMs: 10_000 });
    const { controller } = fakeController();
    stream.onRequestStart(controller);
    stream.onResponseStart(controller, 502, {});
    for (let index = 0; index < 100; index++) stream.onResponseData(controller, Buffer.alloc(1024, "x"));
    stream.onResponseEnd();
    expect((await stream.head).text).toHaveLength(64 * 1024);
  });

  it("resolves the head with the part of the error body that came before the connection broke", async () => {
    const stream = new ResponseEventStream({ idleTimeoutMs: 10_000 });
    const { controller } = fakeController();
    stream.onRequestStart(controller);
    stream.onResponseStart(controller, 500, {});
    stream.onResponseData(controller, Buffer.from("Internal"));
    stream.onResponseError(controller, new Error("socket hang up"));
    expect(await stream.head).toMatchObject({ status: 500, text: "Internal" });
  });

  it("rejects the head with undici's error when no answer came", async () => {
    const stream = new ResponseEventStream({ idleTimeoutMs: 10_000 });
    const { controller } = fakeController();
    const refused = new Error("connect ECONNREFUSED 127.0.0.1:1");
    stream.onRequestStart(controller);
    stream.onResponseError(controller, refused);
    await expect(stream.head).rejects.toBe(refused);
  });
});

describe("ResponseEventStream: the caller gives up", () => {
  it("aborts the connection when the caller's signal aborts, and the events fail with its reason", async () => {
    const caller = new AbortController();
    const { stream, controller, calls } = started({ signal: caller.signal });
    const reason = new Error("client went away");
    caller.abort(reason);
    expect(calls.abort).toEqual([reason]);
    stream.onResponseError(controller, reason);
    await expect(stream.events.next()).rejects.toBe(reason);
  });

  it("aborts at once when the signal was aborted before the request started", () => {
    const caller = new AbortController();
    caller.abort(new Error("too late"));
    const stream = new ResponseEventStream({ idleTimeoutMs: 10_000, signal: caller.signal });
    const { controller, calls } = fakeController();
    stream.onRequestStart(controller);
    expect(calls.abort).toEqual([caller.signal.reason]);
  });

  it("with the server's Cancel: aborted after dispatch but before undici started the request, it aborts at the start", async () => {
    const cancel = new Cancel();
    const stream = new ResponseEventStream({ idleTimeoutMs: 10_000, signal: cancel });
    const reason = new DOMException("The client went away", "AbortError");
    cancel.abort(reason); // the listener runs with no connection yet
    const { controller, calls } = fakeController();
    stream.onRequestStart(controller);
    expect(calls.abort).toEqual([reason]);
    const other = new Cancel();
    other.abort("not an error");
    const second = new ResponseEventStream({ idleTimeoutMs: 10_000, signal: other });
    const started2 = fakeController();
    second.onRequestStart(started2.controller);
    expect(started2.calls.abort[0]).toMatchObject({ name: "AbortError" }); // undici is given an Error
  });

  it("aborts the rest of the answer when the consumer leaves before the terminal event", async () => {
    const { stream, controller, calls } = started();
    stream.onResponseData(controller, delta("a"));
    for await (const batch of stream.events) {
      expect(types(batch)).toEqual(["response.output_text.delta"]);
      break;
    }
    expect(calls.abort).toHaveLength(1);
    expect(calls.abort[0]).toMatchObject({ name: "AbortError" });
  });
});
