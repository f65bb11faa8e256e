// On Node 20 (V8 11.3) an object literal that starts with a spread and then adds members (`{ ...a, b }`,
// `{ ...a, ...b }`) gets a hidden class outside V8's transition tree: each evaluation allocates new maps, straight
// into the old generation. One such literal on the request path grew the old generation by about 1 KB per request,
// about 9 MiB of RSS after waves of 64 concurrent streams. The request path builds such objects with literals or
// `Object.assign` instead; this test serves every family with node's map log on and finds any literal that slips back.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { BIN, cliEnv, startNode } from "../helpers/cli.js";
import { signedInConfigDir } from "../helpers/serve.js";

const REQUESTS = 30;

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

/** Prototype-map transitions (new maps outside the transition tree) per code site in dist/, from a V8 log. */
function newMapsBySite(log: string): Map<string, number> {
  const lines = log.split("\n");
  const code: { start: bigint; end: bigint; name: string }[] = [];
  for (const line of lines) {
    if (!line.startsWith("code-creation,")) continue;
    const fields = line.split(",");
    const name = fields.slice(6).join(",");
    if (!name.includes("/dist/")) continue;
    const start = BigInt(fields[4]!);
    code.push({ start, end: start + BigInt(fields[5]!), name: name.replace(/^.*\/dist\//, "dist/").replace(/,0x[0-9a-f]+,.*$/, "") });
  }
  const sites = new Map<string, number>();
  for (const line of lines) {
    // map,Transition,time,from,to,pc,line,column,reason,name: reason "prototype" = a map outside the transition tree
    if (!line.startsWith("map,Transition,") || !line.includes(",prototype,")) continue;
    const fields = line.split(",");
    const pc = BigInt(fields[5]!);
    const site = code.find((c) => pc >= c.start && pc < c.end);
    if (site) sites.set(`${site.name} @${fields[6]}:${fields[7]}`, (sites.get(`${site.name} @${fields[6]}:${fields[7]}`) ?? 0) + 1);
  }
  return sites;
}

describe("the request path", () => {
  it("allocates no new hidden classes per request, in any family, streamed or not", async () => {
    const log = join(mkdtempSync(join(tmpdir(), "codex-proxy-maps-")), "v8.log");
    const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: signedInConfigDir(fake).configDir });
    const run = startNode(BIN, ["serve", "--port", "0"], env, undefined, ["--log-maps", `--logfile=${log}`, "--no-logfile-per-isolate"]);
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
      ["/api/chat", { model: "gpt-5.5", stream: false, messages }],
      ["/api/chat", { model: "gpt-5.5", messages: [{ role: "user", content: "[[scenario:tool]]" }], tools: chatTool }],
      ["/api/generate", { model: "gpt-5.5", prompt: "Say something short" }],
    ];
    for (const [path, body] of requests) {
      for (let i = 0; i < REQUESTS; i++) {
        const res = await fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(200);
        await res.text();
      }
    }
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    const perRequest = [...newMapsBySite(readFileSync(log, "utf8"))].filter(([, count]) => count >= REQUESTS / 2);
    expect(perRequest.map(([site, count]) => `${site}: ${count} new maps`)).toEqual([]);
  }, 120_000);
});
