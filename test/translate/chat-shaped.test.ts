import { describe, expect, it } from "vitest";
import { chatToResponses } from "../../src/translate/openai-chat/request.js";
import { ollamaChatToResponses, ollamaGenerateToResponses } from "../../src/translate/ollama/request.js";
import { completionsToResponses } from "../../src/translate/openai-completions/translate.js";
import type { TranslateContext } from "../../src/translate/responses/build.js";
import { BUNDLED_MODELS } from "../../src/upstream/models.js";

// Ollama and legacy completions build their input items with chat's own pieces: one conversation, one request.
const ctx: TranslateContext = { models: BUNDLED_MODELS, modelsAuthoritative: true, defaults: { summary: "auto", format: "reasoning_content", webSearch: true } };
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];

describe("the chat-shaped families send what chat sends for the same conversation", () => {
  it("Ollama chat: system, an image, think blocks in the history, a tool call and its result", () => {
    const ollama = ollamaChatToResponses(
      {
        model: "gpt-5.5:latest",
        think: "high",
        tools,
        messages: [
          { role: "system", content: "Sys" },
          { role: "user", content: "what is it", images: [PNG] },
          { role: "assistant", content: "<think>\nhm\n</think>\n\nA pixel.", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris" } } }] },
          { role: "tool", content: "18C", tool_name: "get_weather" },
        ],
      },
      ctx,
    );
    const chat = chatToResponses(
      {
        model: "gpt-5.5",
        reasoning_effort: "high",
        tools,
        messages: [
          { role: "system", content: "Sys" },
          { role: "user", content: [{ type: "text", text: "what is it" }, { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }] },
          { role: "assistant", content: "<think>\nhm\n</think>\n\nA pixel.", tool_calls: [{ id: "call_0", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
          { role: "tool", tool_call_id: "call_0", content: "18C" },
        ],
      },
      ctx,
    );
    expect(ollama.request).toEqual(chat.request);
    expect(ollama.request.input[1]).toEqual({ type: "message", role: "assistant", content: [{ type: "output_text", text: "A pixel." }] });
  });

  it("Ollama generate and legacy completions: a one-turn chat", () => {
    const chat = chatToResponses({ model: "gpt-5.5", reasoning_format: "none", messages: [{ role: "system", content: "Be terse" }, { role: "user", content: "Complete this" }] }, ctx);
    expect(ollamaGenerateToResponses({ model: "gpt-5.5", system: "Be terse", prompt: "Complete this" }, ctx).request).toEqual(chat.request);
    const oneTurn = chatToResponses({ model: "gpt-5.5", reasoning_format: "none", messages: [{ role: "user", content: "Once" }] }, ctx);
    expect(completionsToResponses({ model: "gpt-5.5", prompt: ["Once"] }, ctx).request).toEqual(oneTurn.request);
  });
});
