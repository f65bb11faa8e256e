import { request } from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { startServedFake, type ServeHandle } from "../helpers/serve.js";

let fake: FakeBackend;
let serve: ServeHandle;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ fake, serve, stop } = await startServedFake());
});
afterAll(() => stop?.());

/** What the Codex CLI's built-in OpenAI provider sends first: a WebSocket upgrade on the Responses path. */
function websocketUpgrade(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${serve.url}${path}`, {
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "openai-beta": "responses_websockets=2026-02-06" },
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      reject(new Error("the proxy accepted a WebSocket it cannot serve"));
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the Codex CLI's built-in OpenAI provider (openai_base_url pointed at the proxy)", () => {
  it("gets 426 for its WebSocket on /v1/responses, so it uses HTTP at once instead of five reconnects", async () => {
    for (const path of ["/v1/responses", "/responses"]) {
      const res = await websocketUpgrade(path);
      expect(res.status).toBe(426);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: "websocket_not_supported", type: "invalid_request_error" } });
    }
  });

  it("its remote compaction (a compaction_trigger item) passes through and answers one compaction item", async () => {
    const client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
    const input = [
      { type: "message", role: "user", content: [{ type: "input_text", text: "first turn" }] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "You said: first turn" }] },
      { type: "compaction_trigger" },
    ];
    const stream = client.responses.stream({ model: "gpt-5.5", input: input as never, store: false });
    const final = await stream.finalResponse();
    expect(fake.codex.calls.at(-1)!.body.input).toEqual(input);
    expect(final.output).toHaveLength(1);
    expect(final.output[0]).toMatchObject({ type: "compaction", encrypted_content: expect.stringMatching(/^gAAAAB/) });
    // the next turn sends the compaction item back as history
    const next = await client.responses.create({ model: "gpt-5.5", input: [{ type: "compaction", encrypted_content: (final.output[0] as unknown as { encrypted_content: string }).encrypted_content }, { role: "user", content: "second turn" }] as never });
    expect(next.output_text).toBe("You said: second turn");
  });
});
