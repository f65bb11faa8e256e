import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { startServe, type ServeHandle } from "../helpers/serve.js";
import { waitFor } from "../helpers/wait.js";

let fake: FakeBackend;
let serve: ServeHandle;
beforeAll(async () => {
  fake = await startFakeBackend();
  serve = await startServe(fake, ["--api-key", "family-key"]);
});
afterAll(async () => {
  await serve?.stop();
  await fake?.close();
});

const SLOW = "[[scenario:slow]] a long answer that takes a while";
/** One streaming request per client family, with how that family's error body looks. */
const families = [
  { name: "chat completions", path: "/v1/chat/completions", body: { model: "gpt-5.5", stream: true, messages: [{ role: "user", content: SLOW }] }, shape: (b: any) => typeof b.error?.message === "string" && "type" in b.error },
  { name: "responses", path: "/v1/responses", body: { model: "gpt-5.5", stream: true, input: SLOW }, shape: (b: any) => typeof b.error?.message === "string" && "type" in b.error },
  { name: "completions", path: "/v1/completions", body: { model: "gpt-5.5", stream: true, prompt: SLOW }, shape: (b: any) => typeof b.error?.message === "string" && "type" in b.error },
  { name: "ollama chat", path: "/api/chat", body: { model: "gpt-5.5", messages: [{ role: "user", content: SLOW }] }, shape: (b: any) => typeof b.error === "string" && Object.keys(b).length === 1 },
  { name: "ollama generate", path: "/api/generate", body: { model: "gpt-5.5", prompt: SLOW }, shape: (b: any) => typeof b.error === "string" && Object.keys(b).length === 1 },
  { name: "anthropic", path: "/v1/messages", body: { model: "claude-sonnet-5", max_tokens: 100, stream: true, messages: [{ role: "user", content: SLOW }] }, shape: (b: any) => b.type === "error" && typeof b.error?.message === "string" && typeof b.error?.type === "string" },
];

const send = (path: string, body: string, headers: Record<string, string> = { authorization: "Bearer family-key" }, signal?: AbortSignal) =>
  fetch(`${serve.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal });

describe.each(families)("$name", (family) => {
  it("needs the API key (Bearer or x-api-key), and says so in the family's error shape", async () => {
    const none = await send(family.path, JSON.stringify(family.body), {});
    expect(none.status).toBe(401);
    expect(family.shape(await none.json())).toBe(true);
    const viaHeader = await send(family.path, JSON.stringify({ ...family.body, stream: false }), { "x-api-key": "family-key" });
    expect(viaHeader.status).toBe(200);
    await viaHeader.text();
  });

  it("answers malformed JSON and wrong types with a 400 in its own shape", async () => {
    for (const body of ["{", "[]", JSON.stringify({ ...family.body, model: 42 })]) {
      const res = await send(family.path, body);
      expect(res.status, body).toBe(400);
      expect(family.shape(await res.json()), body).toBe(true);
    }
  });

  it("aborts the upstream request when the client disconnects mid-stream", async () => {
    const controller = new AbortController();
    const nonce = `disconnect-${family.name}-${Date.now()}`;
    const body = JSON.stringify(family.body).replace(SLOW, `${SLOW} ${nonce}`);
    const res = await send(family.path, body, undefined, controller.signal);
    const reader = res.body!.getReader();
    await reader.read(); // the answer is under way: the backend has the request
    const call = fake.codex.calls.find((c) => JSON.stringify(c.body).includes(nonce))!;
    controller.abort();
    await waitFor(() => call.aborted, { what: "the upstream request to be aborted" });
    expect(call.finished).toBe(false);
    // and the server is fine afterwards
    expect((await fetch(`${serve.url}/health`)).status).toBe(200);
  });
});
