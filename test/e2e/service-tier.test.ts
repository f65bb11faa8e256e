import { writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { runCli } from "../helpers/cli.js";
import { signedInConfigDir, startServe, useServedOpenAI, type ServeHandle } from "../helpers/serve.js";
import { CODEX_CLIENT_VERSION } from "../../src/upstream/models.js";

let fake: FakeBackend;
let serve: ServeHandle;
let client: OpenAI;
useServedOpenAI((served) => ({ fake, serve, client } = served));

const lastBody = () => fake.codex.calls.at(-1)!.body;

describe("the Fast (priority) service tier", () => {
  it("sends service_tier priority for a Chat request that asks for it and says so in the answer", async () => {
    const res = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }], service_tier: "priority" });
    expect(lastBody().service_tier).toBe("priority");
    expect(res.service_tier).toBe("priority");

    const stream = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }], stream: true });
    const tiers = new Set<string | null | undefined>();
    for await (const chunk of stream) tiers.add(chunk.service_tier);
    expect(lastBody()).not.toHaveProperty("service_tier");
    expect([...tiers]).toEqual(["default"]);
  });

  it("takes a -fast suffix after the effort suffix, and strips both before the backend", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-5.5-high-fast", messages: [{ role: "user", content: "hi" }], stream: true });
    const tiers = new Set<string | null | undefined>();
    for await (const chunk of stream) tiers.add(chunk.service_tier);
    expect(lastBody()).toMatchObject({ model: "gpt-5.5", service_tier: "priority", reasoning: { effort: "high" } });
    expect([...tiers]).toEqual(["priority"]);
    await client.chat.completions.create({ model: "gpt-5.6-sol-fast", messages: [{ role: "user", content: "hi" }] });
    expect(lastBody()).toMatchObject({ model: "gpt-5.6-sol", service_tier: "priority" });
  });

  it("rejects Fast on a model whose catalog entry lacks it, naming the models that have it", async () => {
    const before = fake.codex.calls.length;
    const error = await client.chat.completions.create({ model: "gpt-5.4-mini-fast", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/gpt-5\.4-mini.*Fast.*gpt-5\.5, gpt-5\.6-sol/);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("model");
    const viaField = await client.chat.completions.create({ model: "gpt-5.4-mini", messages: [{ role: "user", content: "hi" }], service_tier: "priority" }).catch((e: unknown) => e);
    expect((viaField as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("service_tier");
    const flex = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }], service_tier: "flex" }).catch((e: unknown) => e);
    expect(flex).toBeInstanceOf(OpenAI.BadRequestError);
    expect((flex as Error).message).toMatch(/auto, default or priority/);
    expect(fake.codex.calls.length).toBe(before);
  });

  it("passes service_tier on the Responses API, and the answer names the tier (stream and not)", async () => {
    const res = await client.responses.create({ model: "gpt-5.5", input: "hi", service_tier: "priority" });
    expect(lastBody().service_tier).toBe("priority");
    expect(res.service_tier).toBe("priority");
    const stream = client.responses.stream({ model: "gpt-5.5-fast", input: "hi" });
    const final = await stream.finalResponse();
    expect(lastBody()).toMatchObject({ model: "gpt-5.5", service_tier: "priority" });
    expect(final.service_tier).toBe("priority");
  });

  it("lists -fast variants in /v1/models only for models that offer the tier", async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["gpt-5.5-fast", "gpt-5.5-high-fast", "gpt-5.6-sol-ultra-fast"]));
    expect(ids.filter((id) => id.startsWith("gpt-5.4-mini"))).not.toContainEqual(expect.stringMatching(/fast/));
    expect((await client.models.retrieve("gpt-5.5-xhigh-fast")).id).toBe("gpt-5.5-xhigh-fast");
  });

  it("`models` shows which models offer the Fast tier", async () => {
    const out = await runCli(["models", "--json"], serve.env);
    const models = JSON.parse(out.stdout).models as { id: string; serviceTiers: string[] }[];
    expect(models.find((m) => m.id === "gpt-5.5")?.serviceTiers).toEqual(["priority"]);
    expect(models.find((m) => m.id === "gpt-5.4-mini")?.serviceTiers).toEqual([]);
    expect((await runCli(["models"], serve.env)).stdout).toMatch(/gpt-5\.5\s+272k.*\bfast\b/);
  });

  it("a model list saved before tiers were known does not refuse Fast: the backend decides", async () => {
    const { configDir } = signedInConfigDir(fake);
    const models = [{ slug: "gpt-5.4-mini", displayName: "GPT-5.4-Mini", contextWindow: 272000, efforts: ["low", "medium"], defaultEffort: "medium", supportsSummaries: true, supportsVerbosity: true, inputModalities: ["text"], visible: true, priority: 1 }];
    writeFileSync(join(configDir, "models-cache.json"), JSON.stringify({ fetchedAt: Date.now(), clientVersion: CODEX_CLIENT_VERSION, models }));
    const old = await startServe(fake, [], { configDir });
    try {
      const oldClient = new OpenAI({ baseURL: `${old.url}/v1`, apiKey: "unused", maxRetries: 0 });
      // the fake backend knows gpt-5.4-mini has no Fast tier: its 400 comes back, not the proxy's
      const error = await oldClient.chat.completions.create({ model: "gpt-5.4-mini-fast", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
      expect(lastBody()).toMatchObject({ model: "gpt-5.4-mini", service_tier: "priority" });
      expect((error as Error).message).toMatch(/not a service tier/);
    } finally {
      await old.stop();
    }
  });

  it("serve --service-tier priority makes Fast the default where the model has it; a request can opt out", async () => {
    const fastServe = await startServe(fake, ["--service-tier", "priority"]);
    try {
      const fast = new OpenAI({ baseURL: `${fastServe.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const res = await fast.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] });
      expect(lastBody().service_tier).toBe("priority");
      expect(res.service_tier).toBe("priority");
      await fast.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }], service_tier: "default" });
      expect(lastBody()).not.toHaveProperty("service_tier");
      // a model without the tier still answers, at the standard tier
      const mini = await fast.chat.completions.create({ model: "gpt-5.4-mini", messages: [{ role: "user", content: "hi" }] });
      expect(lastBody()).not.toHaveProperty("service_tier");
      expect(mini.service_tier).toBe("default");
    } finally {
      await fastServe.stop();
    }
    const bad = await runCli(["serve", "--port", "0", "--service-tier", "turbo"], serve.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--service-tier must be one of priority, default/);
  });
});
