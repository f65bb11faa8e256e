import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PARTIAL_EVENTS, UpstreamEventParser } from "../../src/upstream/sse.js";
import { UpstreamError } from "../../src/upstream/errors.js";

const frame = (event: Record<string, unknown>, eol = "\n") => `event: ${String(event.type)}${eol}data: ${JSON.stringify(event)}${eol}${eol}`;
const delta = (text: string) => ({ type: "response.output_text.delta", item_id: "msg_1", output_index: 0, content_index: 0, delta: text });
const completed = { type: "response.completed", response: { id: "resp_1", status: "completed", usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 } } };

/** Feed `bytes` cut at `cuts`, then end: every event, and how it ended. */
function parse(bytes: Buffer, cuts: number[] = []) {
  const parser = new UpstreamEventParser();
  const events: unknown[] = [];
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    events.push(...parser.feed(bytes.subarray(at, cut)));
    at = cut;
  }
  events.push(...parser.feed(bytes.subarray(at)));
  events.push(...parser.end());
  return { events, failure: parser.failure, completed: parser.completed };
}

describe("UpstreamEventParser", () => {
  it("leaves the skipped event types unparsed, by their SSE name, and still reads items, failures and unnamed events", () => {
    const item = { type: "response.output_item.done", output_index: 0, item: { type: "message", id: "msg_1", content: [{ type: "output_text", text: "ab" }] } };
    const parser = new UpstreamEventParser(PARTIAL_EVENTS);
    // a skipped event is not even parsed: its broken JSON would otherwise fail the stream
    const bytes = frame(delta("a")) + "event: response.output_text.delta\ndata: {broken\n\n" + frame(item) + `data: ${JSON.stringify(delta("unnamed"))}\n\n` + frame(completed);
    const events = [...parser.feed(Buffer.from(bytes)), ...parser.end()];
    expect(parser.failure).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(["response.output_item.done", "response.output_text.delta", "response.completed"]);

    const failing = new UpstreamEventParser(PARTIAL_EVENTS);
    failing.feed(Buffer.from(frame(delta("a")) + frame({ type: "response.failed", response: { error: { code: "server_error", message: "boom" } } })));
    expect(failing.failure).toBeInstanceOf(UpstreamError);
  });

  it("gives the same events however the bytes are split: inside multi-byte characters, CRLF pairs and field names", () => {
    const texts = ["Grüße ", "日本語 ", "🌍🚀 ", "line\nbreak ", 'quote " and \\ '];
    fc.assert(
      fc.property(fc.constantFrom("\n", "\r\n"), fc.array(fc.nat(), { maxLength: 40 }), (eol, rawCuts) => {
        const bytes = Buffer.from(texts.map((t) => frame(delta(t), eol)).join("") + frame(completed, eol));
        const { events, failure, completed: done } = parse(bytes, rawCuts.map((c) => c % bytes.length));
        expect(failure).toBeUndefined();
        expect(done).toBe(true);
        expect(events.slice(0, -1).map((e) => (e as { delta: string }).delta)).toEqual(texts);
      }),
      { numRuns: 500, seed: 11 },
    );
  });

  it("stops at the terminal event and ignores what follows it", () => {
    const { events, failure } = parse(Buffer.from(frame(delta("a")) + frame(completed) + frame(delta("after")) + "data: {broken\n\n"));
    expect(events).toHaveLength(2);
    expect(failure).toBeUndefined();
  });

  it("a body that ends without a terminal event is a failure, after the events it did carry", () => {
    const { events, failure } = parse(Buffer.from(frame(delta("partial"))));
    expect(events).toEqual([delta("partial")]);
    expect(failure).toBeInstanceOf(UpstreamError);
    expect(failure!.message).toMatch(/closed the stream before response\.completed/);
  });

  it("invalid JSON, non-object data and failed events are failures; comments, retry fields and [DONE] are not", () => {
    expect(parse(Buffer.from(frame(delta("a")) + "data: {not json\n\n")).failure?.message).toMatch(/not JSON/);
    expect(parse(Buffer.from("data: null\n\n")).failure?.message).toMatch(/not an object/);
    expect(parse(Buffer.from("data: [1,2]\n\n")).failure?.message).toMatch(/not an object/);
    expect(parse(Buffer.from(frame({ type: "response.failed", response: { error: { code: "server_error", message: "boom" } } }))).failure?.message).toMatch(/boom/);
    const quiet = parse(Buffer.from(": keep-alive\n\nretry: 100\n\ndata: [DONE]\n\n" + frame(completed)));
    expect(quiet.failure).toBeUndefined();
    expect(quiet.events).toHaveLength(1);
  });

  it("a last event without its blank line still counts", () => {
    const { events, completed: done } = parse(Buffer.from(`data: ${JSON.stringify(completed)}`));
    expect(done).toBe(true);
    expect(events).toHaveLength(1);
  });
});
