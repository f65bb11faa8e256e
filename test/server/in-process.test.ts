// The app without a socket (`app.request()`): the web-standard body and stream paths, which the served
// e2e tests (Node request and response) never take.
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/server/app.js";
import type { ServerContext } from "../../src/server/context.js";
import { createLogger } from "../../src/_utils/logger.js";
import { BUNDLED_MODELS } from "../../src/upstream/models.js";
import type { ResponsesEvent } from "../../src/translate/responses/types.js";
import { responseSteps } from "../fake-backend/events.js";

function appWith(events: ResponsesEvent[]) {
  const seen: Record<string, unknown>[] = [];
  const ctx: ServerContext = {
    options: { port: 0, host: "127.0.0.1", apiKeys: [], corsOrigins: [], allowedHosts: [], reasoningSummary: "auto", reasoningFormat: "think-tags", bodyLimit: 1024 },
    upstream: {
      async createResponse(request) {
        seen.push(request);
        return { headers: {}, events: (async function* () { yield events; })() };
      },
    },
    catalog: { get: async () => ({ models: BUNDLED_MODELS, source: "bundled", fetchedAt: null }), invalidate: () => {} },
    usage: { usageReport: () => ({ usage: null, accounts: [] }) },
    logger: createLogger({ quiet: true }),
    shutdownSignal: new AbortController().signal,
    version: "0.0.0-test",
  };
  return { app: createApp(ctx), seen };
}

const answer = responseSteps("gpt-5.5", { text: "Hello from the core" }).flatMap((s) => ("event" in s ? [s.event as ResponsesEvent] : []));
const post = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("the app in-process", () => {
  it("streams a chat answer as a web stream", async () => {
    const { app, seen } = appWith(answer);
    const res = await app.request("/v1/chat/completions", post({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "hi" }] }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    const content = text.split("\n\n").filter((f) => f.startsWith("data: {")).map((f) => JSON.parse(f.slice(6)).choices[0]?.delta?.content ?? "").join("");
    expect(content).toBe("Hello from the core");
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(seen[0]).toMatchObject({ model: "gpt-5.5", stream: true, store: false });
  });

  it("answers a non-stream request, and reads bodies from the web stream with the same limits", async () => {
    const { app } = appWith(answer);
    const res = await app.request("/v1/chat/completions", post({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] }));
    expect((await res.json()).choices[0].message.content).toBe("Hello from the core");
    const tooBig = await app.request("/v1/chat/completions", post({ model: "gpt-5.5", messages: [{ role: "user", content: "x".repeat(4096) }] }));
    expect(tooBig.status).toBe(413);
    const broken = await app.request("/v1/chat/completions", post("{"));
    expect(broken.status).toBe(400);
    expect((await broken.json()).error.code).toBe("invalid_json");
  });
});
