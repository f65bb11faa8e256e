import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { useServedOpenAI, type ServeHandle } from "../helpers/serve.js";
import { validateAgainst } from "../helpers/openapi.js";

let fake: FakeBackend;
let serve: ServeHandle;
let client: OpenAI;
useServedOpenAI((served) => ({ fake, serve, client } = served));

describe("POST /v1/completions (legacy) through the openai SDK", () => {
  it("completes a prompt string, with usage", async () => {
    const res = await client.completions.create({ model: "gpt-5.5", prompt: "Once upon a time", max_tokens: 20 });
    expect(res.object).toBe("text_completion");
    expect(res.choices[0]!.text).toBe("You said: Once upon a time");
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(res.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 30 });
    expect(fake.codex.calls.at(-1)!.body.input).toEqual([{ type: "message", role: "user", content: [{ type: "input_text", text: "Once upon a time" }] }]);
    expect(validateAgainst("CreateCompletionResponse", res)).toEqual([]);
  });

  it("streams, takes a one-element prompt array, and echoes when asked", async () => {
    const { data: stream, response } = await client.completions
      .create({ model: "gpt-5.5-low", prompt: ["Echo me"], stream: true, echo: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get("x-codex-proxy-reasoning-effort")).toBe("low");
    let text = "";
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      if (chunk.usage) usage = chunk.usage;
      // the spec has no stream schema for completions; chunks that finish must match the response schema
      if (chunk.choices[0]?.finish_reason) expect(validateAgainst("CreateCompletionResponse", { ...chunk, usage: undefined })).toEqual([]);
    }
    expect(text).toBe("Echo meYou said: Echo me");
    expect(usage).toMatchObject({ total_tokens: 150 });
    expect(fake.codex.calls.at(-1)!.body.reasoning).toMatchObject({ effort: "low" });
  });

  it("refuses what it cannot do, clearly", async () => {
    for (const body of [
      { model: "gpt-5.5", prompt: ["a", "b"] },
      { model: "gpt-5.5", prompt: "x", suffix: "y" },
      { model: "gpt-5.5" },
      { model: "gpt-5.5", prompt: 7 },
    ]) {
      const error = (await client.completions.create(body as never).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(error.status, JSON.stringify(body)).toBe(400);
    }
  });
});
