// The stream's own idle limit is the only clock on a backend answer: undici's headers/body timeouts (the shared
// dispatcher's default is 60 s) must never fire first, or a silent backend becomes a retried 502. A dispatcher
// with a short default stands in for the 60 s one, so the test takes seconds, not minutes.
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamClient } from "../../src/upstream/client.js";
import { UpstreamError } from "../../src/upstream/errors.js";
import { responseSteps, startFakeBackend, type FakeBackend } from "../fake-backend/index.js";

let fake: FakeBackend;
let dispatcher: Agent;
beforeAll(async () => {
  fake = await startFakeBackend();
  dispatcher = new Agent({ headersTimeout: 300, bodyTimeout: 300 });
});
afterAll(async () => {
  await dispatcher.close();
  await fake.close();
});

function client(idleTimeoutMs: number) {
  const tokens = { getAccessToken: async () => ({ accessToken: fake.issuer.issueTokens().access_token, accountId: fake.issuer.account.accountId }) };
  return new UpstreamClient({ baseUrl: fake.upstreamUrl, dispatcher, idleTimeoutMs, retryDelaysMs: [10, 10, 10], tokens: { ...tokens, refreshAfterUnauthorized: tokens.getAccessToken } });
}
const ask = (text: string) => ({ model: "gpt-5.5", stream: true, store: false, instructions: "", input: [{ type: "message", role: "user", content: [{ type: "input_text", text }] }] });

describe("the upstream client's time limits", () => {
  it("waits for headers up to the idle limit, past the dispatcher's shorter headers timeout, then gives up once", async () => {
    const before = fake.codex.calls.length;
    const started = Date.now();
    const error = await client(2000).createResponse(ask("[[scenario:hang]] x")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).kind).toBe("timeout");
    expect((error as UpstreamError).message).toMatch(/sent nothing for 2s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(fake.codex.calls.length - before).toBe(1);
  });

  it("lets a stream stay silent between events up to the idle limit, past the dispatcher's shorter body timeout", async () => {
    const steps = responseSteps("gpt-5.5", { text: "Slow but whole" });
    fake.codex.queue.push({ steps: [...steps.slice(0, 4), { pause: 1000 }, ...steps.slice(4)] });
    const stream = await client(5000).createResponse(ask("x"));
    const types: string[] = [];
    for await (const batch of stream.events) types.push(...batch.map((e) => String(e.type)));
    expect(types.at(-1)).toBe("response.completed");
  });
});
