import OpenAI, { toFile } from "openai";
import { describe, expect, it } from "vitest";
import { PNG_1X1 } from "../fake-backend/codex.js";
import type { FakeBackend } from "../fake-backend/index.js";
import { validateAgainst } from "../helpers/openapi.js";
import { useServedOpenAI, type ServeHandle } from "../helpers/serve.js";
import { waitFor } from "../helpers/wait.js";

let fake: FakeBackend;
let serve: ServeHandle;
let client: OpenAI;
useServedOpenAI((served) => ({ fake, serve, client } = served));

const lastBody = () => fake.codex.calls.at(-1)!.body;
const PNG_MAGIC = "89504e470d0a1a0a";
const png = () => Buffer.from(PNG_1X1, "base64");

describe("POST /v1/images/generations through the openai SDK", () => {
  it("runs the backend's image_generation tool and answers the Images API shape", async () => {
    const res = await client.images.generate({ model: "gpt-image-1", prompt: "a red fox", size: "1024x1536", quality: "high", background: "transparent", output_format: "webp" });
    expect(lastBody()).toMatchObject({
      model: "gpt-5.5",
      tools: [{ type: "image_generation", size: "1024x1536", quality: "high", background: "transparent", output_format: "webp" }],
      tool_choice: { type: "image_generation" },
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "a red fox" }] }],
    });
    expect(res.data).toHaveLength(1);
    expect(Buffer.from(res.data![0]!.b64_json!, "base64").subarray(0, 8).toString("hex")).toBe(PNG_MAGIC);
    expect(res.data![0]!.revised_prompt).toBe("A picture of a red fox");
    expect(res).toMatchObject({ size: "1024x1536", quality: "high", background: "transparent", output_format: "webp" });
    expect(res.usage).toMatchObject({ input_tokens: 120, output_tokens: 30, total_tokens: 150 });
    expect(typeof res.created).toBe("number");
  });

  it("n > 1 runs that many backend requests", async () => {
    const before = fake.codex.calls.length;
    const res = await client.images.generate({ prompt: "three cats", n: 3 });
    expect(res.data).toHaveLength(3);
    expect(fake.codex.calls.length - before).toBe(3);
    expect(res.usage?.total_tokens).toBe(450);
  });

  it("n > 1: when one backend request fails, the answer is its error and the others are aborted", async () => {
    const before = fake.codex.calls.length;
    // two pictures that take their time (the fake stops at the next step once the proxy hangs up), and one refused
    const slow = { steps: [{ event: { type: "response.created", response: { id: "resp_slow", status: "in_progress" } } }, ...Array.from({ length: 300 }, () => ({ pause: 100 }))] };
    fake.codex.queue.push({ status: 400, body: { detail: "Your request was rejected by the safety system" } }, slow, slow);
    await expect(client.images.generate({ prompt: "three foxes", n: 3 })).rejects.toMatchObject({ status: 400 });
    await waitFor(() => fake.codex.calls.slice(before).filter((c) => c.aborted).length === 2, { what: "the two slow backend requests to be aborted" });
    expect(fake.codex.calls.slice(before).some((c) => c.finished)).toBe(false);
  });

  it("streams partial images and the completed image as the Images API does", async () => {
    const stream = await client.images.generate({ prompt: "a lighthouse", stream: true, partial_images: 2 });
    const events: OpenAI.Images.ImageGenStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(lastBody().tools).toEqual([{ type: "image_generation", partial_images: 2 }]);
    expect(events.map((e) => e.type)).toEqual(["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"]);
    expect(events.map((e) => ("partial_image_index" in e ? e.partial_image_index : "done"))).toEqual([0, 1, "done"]);
    const done = events.at(-1) as OpenAI.Images.ImageGenCompletedEvent;
    expect(Buffer.from(done.b64_json, "base64").subarray(0, 8).toString("hex")).toBe(PNG_MAGIC);
    expect(done).toMatchObject({ size: "1024x1024", output_format: "png", usage: { total_tokens: 150 } });
  });

  it("answers bad fields with a 400 in the OpenAI shape, before the backend is asked", async () => {
    const before = fake.codex.calls.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ prompt: "x", response_format: "url" }, "response_format"],
      [{ prompt: "x", n: 11 }, "n"],
      [{ prompt: "x", size: "huge" }, "size"],
      [{ prompt: "x", quality: "ultra" }, "quality"],
      [{ prompt: "x", output_format: "gif" }, "output_format"],
      [{ prompt: "x", stream: true, n: 2 }, "n"],
      [{}, "prompt"],
      [{ prompt: 5 }, "prompt"],
    ];
    for (const [body, param] of cases) {
      const error = (await client.images.generate(body as never).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
      expect(error, JSON.stringify(body)).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.param, JSON.stringify(body)).toBe(param);
    }
    expect((await client.images.generate({ prompt: "x", response_format: "url" }).catch((e: Error) => e.message))).toMatch(/b64_json/);
    expect(fake.codex.calls.length).toBe(before);
  });
});

describe("when the backend makes no image", () => {
  it("a model that answers in words is a 400 quoting it; a failed answer is the backend's error, streamed or not", async () => {
    const words = await client.images.generate({ prompt: "[[scenario:reasoning]] a cat" }).catch((e: unknown) => e);
    expect(words).toBeInstanceOf(OpenAI.BadRequestError);
    expect((words as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("image_generation_failed");
    expect((words as Error).message).toMatch(/the model said: You said: a cat/);
    const failed = await client.images.generate({ prompt: "[[scenario:failed]] a cat" }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
    // streamed: nothing was shown yet, so the status line says it
    const streamed = await (async () => {
      for await (const _ of await client.images.generate({ prompt: "[[scenario:failed]] a cat", stream: true })) void _;
    })().catch((e: unknown) => e);
    expect((streamed as InstanceType<typeof OpenAI.APIError>).status).toBe((failed as InstanceType<typeof OpenAI.APIError>).status);
  });
});

describe("POST /v1/images/edits (multipart) through the openai SDK", () => {
  it("sends the images as input and the mask as the tool's input_image_mask", async () => {
    const res = await client.images.edit({
      image: [await toFile(png(), "one.png", { type: "image/png" }), await toFile(png(), "two.png")],
      mask: await toFile(png(), "mask.png", { type: "image/png" }),
      prompt: "make it blue",
      size: "1024x1024",
    });
    expect(Buffer.from(res.data![0]!.b64_json!, "base64").subarray(0, 8).toString("hex")).toBe(PNG_MAGIC);
    const body = lastBody();
    const content = (body.input as { content: Record<string, unknown>[] }[])[0]!.content;
    expect(content.map((c) => c.type)).toEqual(["input_text", "input_image", "input_image"]);
    expect(content[1]!.image_url).toBe(`data:image/png;base64,${PNG_1X1}`);
    // a file sent without a type is recognised from its bytes
    expect(content[2]!.image_url).toBe(`data:image/png;base64,${PNG_1X1}`);
    expect(body.tools).toEqual([{ type: "image_generation", size: "1024x1024", input_image_mask: { image_url: `data:image/png;base64,${PNG_1X1}` } }]);
  });

  it("streams an edit as image_edit events", async () => {
    const stream = await client.images.edit({ image: await toFile(png(), "a.png", { type: "image/png" }), prompt: "sketch", stream: true, partial_images: 1 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(["image_edit.partial_image", "image_edit.completed"]);
  });

  it("rejects a file that is no image, and an edit without one", async () => {
    const notImage = await client.images.edit({ image: await toFile(Buffer.from("hello"), "a.txt", { type: "text/plain" }), prompt: "x" }).catch((e: unknown) => e);
    expect(notImage).toBeInstanceOf(OpenAI.BadRequestError);
    expect((notImage as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("invalid_image_format");
    const form = new FormData();
    form.append("prompt", "x");
    const res = await fetch(`${serve.url}/v1/images/edits`, { method: "POST", body: form });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { param: "image", type: "invalid_request_error" } });
  });
});

describe("the Images API answers match the OpenAPI spec", () => {
  const post = (path: string, body: Record<string, unknown>) => fetch(`${serve.url}/v1/images/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  it("ImagesResponse, ImageGenPartialImageEvent, ImageGenCompletedEvent and ErrorResponse", async () => {
    expect(validateAgainst("ImagesResponse", await (await post("generations", { prompt: "x", n: 2 })).json())).toEqual([]);
    const text = await (await post("generations", { prompt: "x", stream: true, partial_images: 1 })).text();
    const events = text.split("\n\n").filter(Boolean).map((f) => JSON.parse(f.split("\n").find((l) => l.startsWith("data: "))!.slice(6)) as { type: string });
    expect(events.map((e) => e.type)).toEqual(["image_generation.partial_image", "image_generation.completed"]);
    expect(validateAgainst("ImageGenPartialImageEvent", events[0])).toEqual([]);
    expect(validateAgainst("ImageGenCompletedEvent", events[1])).toEqual([]);
    expect(validateAgainst("ErrorResponse", await (await post("generations", { prompt: "x", n: 0 })).json())).toEqual([]);
    // the JSON form of an edit
    const edit = await post("edits", { prompt: "x", images: [{ image_url: `data:image/png;base64,${PNG_1X1}` }] });
    expect(validateAgainst("ImagesResponse", await edit.json())).toEqual([]);
  });
});

describe("the image_generation tool on /v1/responses", () => {
  it("passes the tool and its events through untouched", async () => {
    const types: string[] = [];
    const stream = client.responses.stream({ model: "gpt-5.5", input: "a boat", tools: [{ type: "image_generation", partial_images: 1 }] });
    for await (const event of stream) types.push(event.type);
    expect(lastBody().tools).toEqual([{ type: "image_generation", partial_images: 1 }]);
    expect(types).toEqual(expect.arrayContaining(["response.image_generation_call.in_progress", "response.image_generation_call.generating", "response.image_generation_call.partial_image", "response.image_generation_call.completed"]));
    const final = await stream.finalResponse();
    expect(final.output[0]).toMatchObject({ type: "image_generation_call", status: "completed", result: PNG_1X1 });
  });
});
