import fc from "fast-check";
import { accountFile } from "../helpers/accounts.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { request as httpRequest } from "node:http";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { startServe, type ServeHandle } from "../helpers/serve.js";

let fake: FakeBackend;
let serve: ServeHandle;
const agent = new Agent({ connections: 16 });
beforeAll(async () => {
  fake = await startFakeBackend();
  serve = await startServe(fake, ["--body-limit", "1mb", "--api-key", "fuzz-key-123", "--verbose"]);
});
afterAll(async () => {
  await agent.close();
  await serve?.stop();
  await fake?.close();
});

type Family = "openai" | "ollama" | "anthropic";
const ROUTES: { path: string; family: Family; valid: Record<string, unknown> }[] = [
  { path: "/v1/chat/completions", family: "openai", valid: { model: "gpt-5.5", messages: [{ role: "user", content: "hi" }], tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }] } },
  { path: "/v1/completions", family: "openai", valid: { model: "gpt-5.5", prompt: "hi" } },
  { path: "/v1/responses", family: "openai", valid: { model: "gpt-5.5", input: [{ role: "user", content: "hi" }], reasoning: { effort: "low" } } },
  { path: "/api/chat", family: "ollama", valid: { model: "gpt-5.5", stream: false, messages: [{ role: "user", content: "hi", images: [] }], think: true } },
  { path: "/api/generate", family: "ollama", valid: { model: "gpt-5.5", stream: false, prompt: "hi", system: "s" } },
  { path: "/api/show", family: "ollama", valid: { model: "gpt-5.5" } },
  { path: "/v1/messages", family: "anthropic", valid: { model: "claude-x", max_tokens: 10, system: "s", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] } },
  { path: "/v1/messages/count_tokens", family: "anthropic", valid: { model: "claude-x", messages: [{ role: "user", content: "hi" }] } },
];

/** Is `body` an error in the family's own shape? */
function familyError(family: Family, body: unknown): boolean {
  const b = body as Record<string, any>;
  if (family === "ollama") return typeof b?.error === "string" && Object.keys(b).length === 1;
  if (family === "anthropic") return b?.type === "error" && typeof b.error?.type === "string" && typeof b.error?.message === "string";
  return typeof b?.error?.message === "string" && typeof b.error.type === "string" && "param" in b.error && "code" in b.error;
}

async function send(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await request(`${serve.url}${path}`, {
    method: "POST",
    body,
    headers: { authorization: "Bearer fuzz-key-123", "content-type": "application/json", ...headers },
    dispatcher: agent,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** Replace one value somewhere in a JSON tree: the "mutated request" of a fuzzer. */
const mutation = (valid: Record<string, unknown>) =>
  fc.tuple(fc.nat(), fc.oneof(fc.jsonValue(), fc.constantFrom(null, -1, 1e308, "", "x".repeat(5000), [], {}, true, "ultra", "gpt-4o", "claude-3"))).map(([pick, value]) => {
    const clone = structuredClone(valid) as Record<string, unknown>;
    const paths: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
    const walk = (node: unknown) => {
      if (node && typeof node === "object") {
        for (const key of Object.keys(node)) {
          paths.push({ parent: node as Record<string, unknown>, key });
          walk((node as Record<string, unknown>)[key]);
        }
      }
    };
    walk(clone);
    const target = paths[pick % paths.length]!;
    (target.parent as Record<string | number, unknown>)[target.key] = value;
    return JSON.stringify(clone);
  });

describe("hostile input: every response is a well-formed 2xx or 4xx in the route family's format", () => {
  for (const route of ROUTES) {
    it(`${route.path}: random and mutated bodies never cause a 5xx`, { timeout: 60_000 }, async () => {
      const bodies = fc.oneof(
        { weight: 3, arbitrary: mutation(route.valid) },
        { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
        { weight: 1, arbitrary: fc.record({ model: fc.string(), messages: fc.anything(), input: fc.anything(), prompt: fc.anything(), stream: fc.anything() }).map((v) => JSON.stringify(v)) },
      );
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          const res = await send(route.path, body);
          if (res.status >= 500) throw new Error(`${res.status} for ${body.slice(0, 200)}: ${res.text.slice(0, 200)}`);
          if (res.status >= 400) {
            let parsed: unknown;
            try {
              parsed = JSON.parse(res.text);
            } catch {
              throw new Error(`${res.status} body is not JSON: ${res.text.slice(0, 100)}`);
            }
            if (!familyError(route.family, parsed)) throw new Error(`${res.status} body is not a ${route.family} error: ${res.text.slice(0, 200)}`);
          }
          return true;
        }),
        { numRuns: 300, seed: 20261121 },
      );
      expect((await fetch(`${serve.url}/health`)).status).toBe(200);
    });
  }

  it("unknown paths and methods answer 404/405 in the family's shape", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/v1/", "/api/", "/v1/messages/", "/"), fc.stringMatching(/^[a-z0-9/_.-]{0,30}$/), fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"), async (prefix, rest, method) => {
        const path = `${prefix}${rest}`;
        const res = await request(`${serve.url}${path}`, { method, headers: { authorization: "Bearer fuzz-key-123" }, dispatcher: agent });
        const text = await res.body.text();
        if (res.statusCode >= 500) throw new Error(`${method} ${path}: ${res.statusCode}`);
        if (res.statusCode >= 400) {
          const normalized = new URL(`${serve.url}${path}`).pathname; // dot segments resolve before routing
          const family: Family = normalized.startsWith("/api/") ? "ollama" : /^(\/v1)?\/messages(\/|$)/.test(normalized) ? "anthropic" : "openai";
          if (!familyError(family, JSON.parse(text))) throw new Error(`${method} ${path}: ${text}`);
        }
        return true;
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it("bodies nested thousands of levels deep are a 400 (serializing them again would overflow the stack)", async () => {
    const deep = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
    for (const route of ROUTES) {
      // inside a field every route reads or passes on, and inside one nobody reads
      const valid = JSON.stringify(route.valid);
      const bodies = [`${valid.slice(0, -1)},"metadata":${deep(5000)}}`, ...(valid.includes('"hi"') ? [valid.replace('"hi"', deep(5000))] : [])];
      for (const body of bodies) {
        const res = await send(route.path, body);
        expect(res.status, route.path).toBe(400);
        expect(familyError(route.family, JSON.parse(res.text)), res.text).toBe(true);
        expect(res.text).toMatch(/nested more than 100 levels/);
      }
    }
    // a deep but reasonable tool schema (60 levels) still works
    let schema: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 30; i++) schema = { type: "object", properties: { x: schema } };
    const ok = await send("/v1/chat/completions", JSON.stringify({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }], tools: [{ type: "function", function: { name: "f", parameters: schema } }] }));
    expect(ok.status, ok.text).toBe(200);
  });

  it("bodies over the limit are a 413, with or without content-length", async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, "a");
    for (const route of ROUTES.slice(0, 8)) {
      const declared = await send(route.path, big);
      expect(declared.status, route.path).toBe(413);
      expect(familyError(route.family, JSON.parse(declared.text))).toBe(true);
    }
    // chunked, no content-length: counted while reading
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${serve.url}/v1/chat/completions`, { method: "POST", headers: { authorization: "Bearer fuzz-key-123", "transfer-encoding": "chunked" } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("error", reject);
      for (let i = 0; i < 40; i++) req.write(Buffer.alloc(64 * 1024, "b"));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it("with --verbose, nothing logged contains a token or the API key", () => {
    const auth = JSON.parse(readFileSync(accountFile(serve.configDir), "utf8")).tokens;
    const logs = serve.run.stdout() + serve.run.stderr();
    expect(logs.length).toBeGreaterThan(100); // the verbose server did log
    for (const secret of [auth.access_token, auth.refresh_token, auth.id_token, "fuzz-key-123"]) {
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(secret.slice(-20));
    }
  });
});
