import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { startServe, type ServeHandle } from "../helpers/serve.js";
import { validateAgainst } from "../helpers/openapi.js";

let fake: FakeBackend;
let serve: ServeHandle;
beforeAll(async () => {
  fake = await startFakeBackend();
  serve = await startServe(fake);
});
afterAll(async () => {
  await serve?.stop();
  await fake?.close();
});

const post = (body: Record<string, unknown>) =>
  fetch(`${serve.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];

async function sseChunks(res: Response): Promise<unknown[]> {
  const text = await res.text();
  expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  return text
    .split("\n\n")
    .filter((f) => f.startsWith("data: ") && f !== "data: [DONE]")
    .map((f) => JSON.parse(f.slice(6)));
}

describe("what the proxy sends matches the official OpenAI OpenAPI schemas", () => {
  for (const scenario of ["text", "reasoning", "tool", "parallel_tools", "incomplete"]) {
    it(`non-stream ${scenario}: CreateChatCompletionResponse`, async () => {
      const res = await post({ model: "gpt-5.5", tools, reasoning_format: "reasoning_content", messages: [{ role: "user", content: `[[scenario:${scenario}]] x` }] });
      expect(res.status).toBe(200);
      expect(validateAgainst("CreateChatCompletionResponse", await res.json())).toEqual([]);
    });

    it(`stream ${scenario}: every chunk is a CreateChatCompletionStreamResponse`, async () => {
      const res = await post({ model: "gpt-5.5", stream: true, stream_options: { include_usage: true }, tools, messages: [{ role: "user", content: `[[scenario:${scenario}]] x` }] });
      const chunks = await sseChunks(res);
      expect(chunks.length).toBeGreaterThan(2);
      for (const chunk of chunks) expect(validateAgainst("CreateChatCompletionStreamResponse", chunk)).toEqual([]);
    });
  }

  it("models: ListModelsResponse and Model", async () => {
    expect(validateAgainst("ListModelsResponse", await (await fetch(`${serve.url}/v1/models`)).json())).toEqual([]);
    expect(validateAgainst("Model", await (await fetch(`${serve.url}/v1/models/gpt-5.5`)).json())).toEqual([]);
  });

  it("errors: ErrorResponse, for client errors, upstream errors and unknown routes", async () => {
    const bodies = [
      await (await post({ model: "gpt-5.5" })).json(),
      await (await post({ model: "nope", messages: [{ role: "user", content: "x" }] })).json(),
      await (await post({ model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:usage_limit]]" }] })).json(),
      await (await fetch(`${serve.url}/v1/unknown`)).json(),
    ];
    for (const body of bodies) expect(validateAgainst("ErrorResponse", body)).toEqual([]);
  });
});
