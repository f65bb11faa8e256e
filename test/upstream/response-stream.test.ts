import type { Dispatcher } from "undici";
import { describe, expect, it } from "vitest";
import { ResponseEventStream } from "../../src/upstream/response-stream.js";

describe("ResponseEventStream: a non-200 answer", () => {
  it("keeps the error body as sent when a character spans two network reads", async () => {
    const stream = new ResponseEventStream({ idleTimeoutMs: 10_000 });
    const controller = { abort() {}, pause() {}, resume() {} } as unknown as Dispatcher.DispatchController;
    const body = Buffer.from(JSON.stringify({ error: { type: "usage_limit_reached", message: "Limite atteinte à 3 h — réessayez" } }));
    const cut = body.indexOf(0xc3) + 1; // between the two bytes of "à"
    stream.onRequestStart(controller);
    stream.onResponseStart(controller, 429, { "content-type": "application/json" });
    stream.onResponseData(controller, body.subarray(0, cut));
    stream.onResponseData(controller, body.subarray(cut));
    stream.onResponseEnd();
    const head = await stream.head;
    expect(head.status).toBe(429);
    expect(head.text).toBe(body.toString("utf8"));
  });
});
