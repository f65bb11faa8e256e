// On Node 20 (V8 11.3) an object literal that starts with a spread and then adds members (`{ ...a, b }`,
// `{ ...a, ...b }`) gets a hidden class outside V8's transition tree: each evaluation allocates new maps, straight
// into the old generation. Such literals on the request path (five new maps per chat stream, one per line of an
// Ollama stream) grew the old generation by about 1.2 KB per request: some 9 MiB of RSS after waves of 64 concurrent
// streams. The request path builds such objects with literals or `Object.assign` instead; this test serves every
// family with V8's map log on and names any literal that slips back. Newer V8 (Node 22, 24) makes no such maps, so
// there it passes whatever the code does: it guards on Node 20, the oldest Node the package supports.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { BIN, cliEnv, startNode } from "../helpers/cli.js";
import { signedInConfigDir } from "../helpers/serve.js";

const REQUESTS = 30;
const DIST = `file://${resolve(import.meta.dirname, "../../dist")}/`;

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

/**
 * From a V8 log: the maps made outside the transition tree ("prototype" transitions) per code site of the package's
 * own bundle, and how many of the bundle's functions were compiled (zero means the log said nothing usable).
 */
function newMapsBySite(log: string): { sites: Map<string, number>; compiled: number } {
  const code: { start: bigint; size: bigint; name: string }[] = [];
  const sites = new Map<string, number>();
  for (const line of log.split("\n")) {
    const fields = line.split(",");
    if (fields[0] === "code-creation") {
      // code-creation,type,kind,time,start,size,name,...: the latest code at an address is the one that runs there
      code.push({ start: BigInt(fields[4]!), size: BigInt(fields[5]!), name: fields.slice(6).join(",") });
    } else if (fields[0] === "code-move") {
      const moved = code.findLast((c) => c.start === BigInt(fields[1]!));
      if (moved) moved.start = BigInt(fields[2]!);
    } else if (fields[0] === "map" && fields[1] === "Transition" && fields[8] === "prototype") {
      // map,Transition,time,from,to,pc,line,column,reason,name
      const pc = BigInt(fields[5]!);
      const site = code.findLast((c) => pc >= c.start && pc < c.start + c.size);
      if (!site?.name.includes(DIST)) continue;
      const key = `${site.name.slice(0, site.name.indexOf(" ") + 1)}${site.name.slice(site.name.indexOf(DIST) + DIST.length).replace(/,.*$/, "")} @${fields[6]}:${fields[7]}`;
      sites.set(key, (sites.get(key) ?? 0) + 1);
    }
  }
  return { sites, compiled: code.filter((c) => c.name.includes(DIST)).length };
}

describe("the request path", () => {
  it("allocates no new hidden classes per request, in any family, streamed or not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "codex-proxy-maps-"));
    const log = join(dir, "v8.log");
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: signedInConfigDir(fake).configDir });
    const run = startNode(BIN, ["serve", "--port", "0"], env, undefined, ["--log-maps", `--logfile=${log}`, "--no-logfile-per-isolate"]);
    try {
      const [, url] = await run.waitFor(/listening on (http:\/\/[^\s]+)/, 30_000);
      const messages = [{ role: "user", content: "Say something short" }];
      const chatTool = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
      const requests: [string, unknown][] = [
        ["/v1/chat/completions", { model: "gpt-5.5", messages }],
        ["/v1/chat/completions", { model: "gpt-5.5", stream: true, stream_options: { include_usage: true }, messages }],
        ["/v1/chat/completions", { model: "gpt-5.5-fast", stream: true, tools: chatTool, messages: [{ role: "user", content: "[[scenario:tool]]" }] }],
        ["/v1/chat/completions", { model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "[[scenario:reasoning]]" }] }],
        ["/v1/completions", { model: "gpt-5.5", prompt: "Say something short", echo: true }],
        ["/v1/completions", { model: "gpt-5.5", stream: true, prompt: "Say something short" }],
        ["/v1/responses", { model: "gpt-5.5", input: [{ role: "user", content: "Say something short" }] }],
        ["/v1/responses", { model: "gpt-5.5", stream: true, input: "Say something short" }],
        ["/v1/messages", { model: "claude-sonnet-4-5", max_tokens: 100, messages }],
        ["/v1/messages", { model: "claude-sonnet-4-5", max_tokens: 100, stream: true, tools: [{ name: "get_weather", input_schema: { type: "object" } }], messages: [{ role: "user", content: "[[scenario:tool]]" }] }],
        ["/api/chat", { model: "gpt-5.5", stream: false, messages: [{ role: "user", content: "[[scenario:reasoning]]" }], think: true }],
        ["/api/chat", { model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:tool]]" }], tools: chatTool }],
        ["/api/chat", { model: "gpt-5.5", messages: [] }],
        ["/api/generate", { model: "gpt-5.5", prompt: "Say something short" }],
        ["/api/generate", { model: "gpt-5.5", stream: false, prompt: "Say something short" }],
      ];
      for (const [path, body] of requests) {
        for (let i = 0; i < REQUESTS; i++) {
          const res = await fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
          expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(200);
          await res.text();
        }
      }
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
    }
    const { sites, compiled } = newMapsBySite(readFileSync(log, "utf8"));
    rmSync(dir, { recursive: true, force: true });
    expect(compiled).toBeGreaterThan(0); // the log named the bundle's code: the test sees what it looks for
    const perRequest = [...sites].filter(([, count]) => count >= REQUESTS / 2);
    expect(perRequest.map(([site, count]) => `${site}: ${count} new maps`)).toEqual([]);
  }, 120_000);
});
