import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { runCli } from "../helpers/cli.js";
import { validateAgainst } from "../helpers/openapi.js";
import { startServe, startServedFake, type ServeHandle } from "../helpers/serve.js";

let fake: FakeBackend;
let serve: ServeHandle;
let searching: ServeHandle;
let client: OpenAI;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ fake, serve, stop } = await startServedFake());
  searching = await startServe(fake, ["--web-search"]);
  client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await searching?.stop();
  await stop?.();
});

const lastBody = () => fake.codex.calls.at(-1)!.body;
const url = (q: string) => `https://example.com/search-result?q=${encodeURIComponent(q)}`;

describe("web search in Chat Completions", () => {
  it("web_search_options adds the backend's web_search tool; citations come back as message.annotations", async () => {
    const res = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "latest node release" }],
      web_search_options: { search_context_size: "low", user_location: { type: "approximate", approximate: { country: "FR", city: "Paris" } } },
    });
    expect(lastBody().tools).toEqual([{ type: "web_search", search_context_size: "low", user_location: { type: "approximate", country: "FR", city: "Paris" } }]);
    const message = res.choices[0]!.message;
    expect(message.tool_calls).toBeUndefined();
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(message.annotations).toHaveLength(1);
    const citation = message.annotations![0]!.url_citation;
    expect(citation).toMatchObject({ url: url("latest node release"), title: "Result for latest node release" });
    expect(message.content!.slice(citation.start_index, citation.end_index)).toBe(`([example.com](${url("latest node release")}))`);
  });

  it("streams the annotations with indices into the whole content, reasoning shown as think tags included", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-5.5",
      messages: [{ role: "user", content: "weather today" }],
      web_search_options: {},
      stream: true,
      reasoning_format: "think-tags",
    } as never) as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>;
    let content = "";
    const annotations: { url_citation: { start_index: number; end_index: number; url: string } }[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; annotations?: typeof annotations; tool_calls?: unknown } | undefined;
      expect(delta?.tool_calls).toBeUndefined();
      content += delta?.content ?? "";
      annotations.push(...(delta?.annotations ?? []));
    }
    expect(annotations).toHaveLength(1);
    const { start_index, end_index } = annotations[0]!.url_citation;
    expect(content.slice(start_index, end_index)).toBe(`([example.com](${url("weather today")}))`);
  });

  it("the annotated answer is a valid CreateChatCompletionResponse", async () => {
    const res = await fetch(`${serve.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-5.5", web_search_options: {}, messages: [{ role: "user", content: "x" }] }) });
    const body = await res.json();
    expect(body.choices[0].message.annotations).toHaveLength(1);
    expect(validateAgainst("CreateChatCompletionResponse", body)).toEqual([]);
  });

  it("rejects a web_search_options that is not an object, in the OpenAI format", async () => {
    const error = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "x" }], web_search_options: "yes" as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("web_search_options");
  });

  it("serve --web-search searches for every chat request that does not opt out with web_search_options: null", async () => {
    const search = new OpenAI({ baseURL: `${searching.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const res = await search.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "who won" }] });
    expect(lastBody().tools).toEqual([{ type: "web_search" }]);
    expect(res.choices[0]!.message.annotations?.[0]?.url_citation.url).toBe(url("who won"));
    await search.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "no search" }], web_search_options: null } as never);
    expect(lastBody()).not.toHaveProperty("tools");
  });
});

describe("the web search setting", () => {
  it("CODEX_PROXY_WEB_SEARCH turns it on like --web-search; a value that is no boolean stops serve with a clear error", async () => {
    const fromEnv = await startServe(fake, [], { env: { CODEX_PROXY_WEB_SEARCH: "true" } });
    try {
      await new OpenAI({ baseURL: `${fromEnv.url}/v1`, apiKey: "x", maxRetries: 0 }).chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "env" }] });
      expect(lastBody().tools).toEqual([{ type: "web_search" }]);
    } finally {
      await fromEnv.stop();
    }
    const bad = await runCli(["serve", "--port", "0"], { ...serve.env, CODEX_PROXY_WEB_SEARCH: "maybe" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/CODEX_PROXY_WEB_SEARCH must be true or false/);
  });
});

describe("web search in Ollama", () => {
  it("answers with the sources listed at the end (serve --web-search)", async () => {
    const ollama = new Ollama({ host: searching.url });
    const res = await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "ollama news" }] });
    expect(res.message.content).toMatch(new RegExp(`^You said: ollama news .*\\n\\nSources:\\n- \\[Result for ollama news\\]\\(${url("ollama news").replace(/[?.]/g, "\\$&")}\\)$`, "s"));
    let streamed = "";
    for await (const part of await ollama.chat({ model: "gpt-5.5", messages: [{ role: "user", content: "ollama news" }], stream: true })) streamed += part.message.content;
    expect(streamed).toBe(res.message.content);
  });
});

describe("web search in the Responses API", () => {
  it("passes web_search through; web_search_call items and annotation events reach the client as sent", async () => {
    const res = await client.responses.create({ model: "gpt-5.5", input: "responses search", tools: [{ type: "web_search" }], include: ["web_search_call.action.sources"] });
    expect(lastBody()).toMatchObject({ tools: [{ type: "web_search" }], include: expect.arrayContaining(["web_search_call.action.sources"]) });
    expect(res.output.map((i) => i.type)).toEqual(["web_search_call", "message"]);
    expect(res.output[0]).toMatchObject({ type: "web_search_call", status: "completed", action: { type: "search", query: "responses search", sources: [{ type: "url", url: url("responses search") }] } });
    const text = res.output[1] as OpenAI.Responses.ResponseOutputMessage;
    expect((text.content[0] as OpenAI.Responses.ResponseOutputText).annotations[0]).toMatchObject({ type: "url_citation", url: url("responses search") });

    const types: string[] = [];
    const stream = client.responses.stream({ model: "gpt-5.5", input: "streamed search", tools: [{ type: "web_search_preview" }] });
    for await (const event of stream) types.push(event.type);
    expect(lastBody().tools).toEqual([{ type: "web_search_preview" }]);
    expect(types).toEqual(expect.arrayContaining(["response.web_search_call.in_progress", "response.web_search_call.searching", "response.web_search_call.completed", "response.output_text.annotation.added"]));
    expect((await stream.finalResponse()).output[0]!.type).toBe("web_search_call");
  });

  it("a text part announced without its annotations list still takes the citations (responses.stream)", async () => {
    const { responseSteps } = await import("../fake-backend/events.js");
    const steps = responseSteps("gpt-5.5", { items: [{ search: { query: "bare" } }, { text: "Cited.", annotations: [{ type: "url_citation", start_index: 0, end_index: 6, url: url("bare"), title: "Bare" }] }] });
    for (const step of steps) if ("event" in step && step.event.type === "response.content_part.added") step.event.part = { type: "output_text", text: "" };
    fake.codex.queue.push({ steps });
    const final = await client.responses.stream({ model: "gpt-5.5", input: "bare", tools: [{ type: "web_search" }] }).finalResponse();
    const message = final.output[1] as OpenAI.Responses.ResponseOutputMessage;
    expect((message.content[0] as OpenAI.Responses.ResponseOutputText).annotations).toEqual([expect.objectContaining({ url: url("bare") })]);
  });

  it("a tool type the backend does not run is its 400, relayed", async () => {
    const res = await fetch(`${serve.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-5.5", input: "x", tools: [{ type: "computer_use_preview", display_width: 1, display_height: 1, environment: "linux" }] }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/computer_use_preview/);
  });
});

describe("web search in Anthropic Messages", () => {
  const anthropic = () => new Anthropic({ baseURL: serve.url, apiKey: "unused", maxRetries: 0 });
  const tools = [{ type: "web_search_20250305" as const, name: "web_search" as const, max_uses: 3, allowed_domains: ["example.com"] }];

  it("a web_search_20250305 server tool becomes the backend's web_search; the answer has server_tool_use, web_search_tool_result and cited text", async () => {
    const msg = await anthropic().messages.create({ model: "gpt-5.5", max_tokens: 1024, tools, messages: [{ role: "user", content: "claude search" }] });
    expect(lastBody()).toMatchObject({ tools: [{ type: "web_search", filters: { allowed_domains: ["example.com"] } }], include: expect.arrayContaining(["web_search_call.action.sources"]) });
    expect(msg.content.map((b) => b.type)).toEqual(["server_tool_use", "web_search_tool_result", "text"]);
    const [use, result, text] = msg.content as [Anthropic.ServerToolUseBlock, Anthropic.WebSearchToolResultBlock, Anthropic.TextBlock];
    expect(use).toMatchObject({ name: "web_search", input: { query: "claude search" } });
    expect(use.id).toMatch(/^srvtoolu_/);
    expect(result.tool_use_id).toBe(use.id);
    expect(result.content).toEqual([expect.objectContaining({ type: "web_search_result", url: url("claude search") })]);
    expect(text.citations).toEqual([expect.objectContaining({ type: "web_search_result_location", url: url("claude search"), title: "Result for claude search", cited_text: `([example.com](${url("claude search")}))` })]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage.server_tool_use?.web_search_requests).toBe(1);
  });

  it("takes the answer back as history: the search as the backend's web_search_call, the cited text as text", async () => {
    const first = await anthropic().messages.create({ model: "gpt-5.5", max_tokens: 1024, tools, messages: [{ role: "user", content: "history search" }] });
    await anthropic().messages.create({
      model: "gpt-5.5",
      max_tokens: 1024,
      tools,
      messages: [
        { role: "user", content: "history search" },
        { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
        { role: "user", content: "thanks" },
      ],
    });
    const input = lastBody().input as Record<string, unknown>[];
    expect(input.map((i) => i.type)).toEqual(["message", "web_search_call", "message", "message"]);
    expect(input[1]).toEqual({ type: "web_search_call", status: "completed", action: { type: "search", query: "history search" } });
    expect(input[2]).toMatchObject({ role: "assistant", content: [{ type: "output_text", text: expect.stringContaining("You said: history search") }] });
  });

  it("streams the same blocks (messages.stream)", async () => {
    const final = await anthropic().messages.stream({ model: "gpt-5.5", max_tokens: 1024, tools, messages: [{ role: "user", content: "streamed claude" }] }).finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(["server_tool_use", "web_search_tool_result", "text"]);
    expect((final.content[0] as Anthropic.ServerToolUseBlock).input).toEqual({ query: "streamed claude" });
    expect((final.content[2] as Anthropic.TextBlock).citations?.[0]).toMatchObject({ url: url("streamed claude") });
  });
});
