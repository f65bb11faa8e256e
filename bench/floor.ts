// The floor of this stack for short non-stream requests: the same requests straight to the fake backend, through a
// bare relay (node:http + undici, the same JSON in and out, no h3 and none of the proxy's layers), and through the
// proxy, alternating in one run, with each server's CPU per request:
//   npm run build && npx tsx bench/floor.ts [rounds] [seconds]
// The relay is this file, run as `floor.ts --relay <upstream url> <codex auth.json>`.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { randomUUID } from "node:crypto";
import { Agent, type Dispatcher } from "undici";
import { closedLoop, encodeRequest } from "./load.js";

type Message = { role: string; content: string };

/** The relay: a chat completion in, one streamed `POST /responses` to the backend, one JSON answer out. */
function relay(upstreamUrl: string, authFile: string): void {
  const auth = JSON.parse(readFileSync(authFile, "utf8")).tokens as { access_token: string; account_id: string };
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const url = new URL(`${upstreamUrl}/responses`);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { model: string; messages: Message[] };
      const input = body.messages.map((m) => ({ type: "message", role: m.role, content: [{ type: "input_text", text: m.content }] }));
      const payload = JSON.stringify({ model: body.model, instructions: "x", input, store: false, stream: true });
      const decoder = new TextDecoder();
      let text = "";
      let pending = "";
      let usage: unknown;
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart() {},
        onResponseStart() {},
        onResponseData(_controller, chunk) {
          pending += decoder.decode(chunk, { stream: true });
          for (let end = pending.indexOf("\n\n"); end >= 0; end = pending.indexOf("\n\n")) {
            const block = pending.slice(0, end);
            pending = pending.slice(end + 2);
            const event = JSON.parse(block.slice(block.indexOf("data: ") + 6)) as { type: string; delta?: string; response?: { usage?: unknown } };
            if (event.type === "response.output_text.delta") text += event.delta;
            else if (event.type === "response.completed") usage = event.response?.usage;
          }
        },
        onResponseEnd() {
          const answer = JSON.stringify({
            id: `chatcmpl-${randomUUID()}`,
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
            usage,
          });
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) }).end(answer);
        },
        onResponseError(_controller, error) {
          res.writeHead(502).end(String(error));
        },
      };
      const headers = { authorization: `Bearer ${auth.access_token}`, "chatgpt-account-id": auth.account_id, "content-type": "application/json", accept: "text/event-stream" };
      agent.dispatch({ origin: url.origin, path: url.pathname, method: "POST", headers, body: payload }, handler);
    });
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    console.log(`listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
  });
}

async function lineMatching(child: ChildProcess, pattern: RegExp): Promise<string> {
  for await (const line of createInterface({ input: child.stdout! })) if (pattern.test(line)) return line;
  throw new Error("process ended before it was ready");
}

/** user + system CPU of a process in ms (clock ticks of 10 ms) */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(rounds: number, seconds: number): Promise<void> {
  const ROOT = join(import.meta.dirname, "..");
  const children: ChildProcess[] = [];
  process.on("exit", () => children.forEach((child) => child.kill("SIGKILL")));
  const start = (args: string[], env = process.env) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
    children.push(child);
    return child;
  };
  const dir = mkdtempSync(join(tmpdir(), "codex-proxy-floor-"));
  const authFile = join(dir, "codex/auth.json");
  const fake = start(["--import", "tsx", join(ROOT, "test/fake-backend/main.ts"), "--codex-auth", authFile]);
  const { issuerUrl, upstreamUrl } = JSON.parse(await lineMatching(fake, /^\{/)) as { issuerUrl: string; upstreamUrl: string };
  const env = { ...process.env, CODEX_PROXY_CONFIG_DIR: join(dir, "config"), CODEX_PROXY_AUTH_URL: issuerUrl, CODEX_PROXY_UPSTREAM_URL: upstreamUrl };
  const bin = join(ROOT, "bin/codex-proxy.js");
  spawnSync(process.execPath, [bin, "login", "--import", authFile], { env, stdio: "ignore" });
  const servers = { relay: start(["--import", "tsx", join(ROOT, "bench/floor.ts"), "--relay", upstreamUrl, authFile]), proxy: start([bin, "serve", "--port", "0", "--quiet"], env) };
  const chat = JSON.stringify({ model: "gpt-5.5", stream: false, reasoning_format: "none", messages: [{ role: "user", content: "short" }] });
  const auth = JSON.parse(readFileSync(authFile, "utf8")).tokens as { access_token: string; account_id: string };
  const direct = { url: upstreamUrl, pid: fake.pid!, request: encodeRequest({ url: `${upstreamUrl}/responses`, headers: { authorization: `Bearer ${auth.access_token}`, "chatgpt-account-id": auth.account_id, "content-type": "application/json", accept: "text/event-stream" }, body: JSON.stringify({ model: "gpt-5.5", instructions: "x", input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "short" }] }], store: false, stream: true }) }) };
  const paths: Record<string, { url: string; pid: number; request: Buffer }> = { direct };
  for (const [name, child] of Object.entries(servers)) {
    const url = /(http:\/\/\S+)/.exec(await lineMatching(child, /listening on/))![1]!;
    paths[name] = { url, pid: child.pid!, request: encodeRequest({ url: `${url}/v1/chat/completions`, headers: { "content-type": "application/json" }, body: chat }) };
  }
  for (const path of Object.values(paths)) await closedLoop(path.url, path.request, 16, { total: 2000 }); // warm up
  const results: Record<string, { rps: number[]; cpu: number[] }> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, path] of Object.entries(paths)) {
      const cpu0 = cpuMs(path.pid);
      const t0 = performance.now();
      const done = await closedLoop(path.url, path.request, 16, { until: t0 + seconds * 1000 });
      const entry = (results[name] ??= { rps: [], cpu: [] });
      entry.rps.push(done.length / ((performance.now() - t0) / 1000));
      entry.cpu.push(((cpuMs(path.pid) - cpu0) / done.length) * 1000);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const directRps = median(results.direct!.rps);
  console.log(`Short non-stream requests @16, medians of ${rounds} rounds of ${seconds} s:`);
  for (const [name, { rps, cpu }] of Object.entries(results)) {
    const server = name === "direct" ? "the fake backend's" : `the ${name}'s`;
    console.log(`  ${name.padEnd(6)} ${median(rps).toFixed(0).padStart(6)} req/s (${(median(rps) / directRps).toFixed(2)}x direct), ${server} CPU ${median(cpu).toFixed(0)} µs per request`);
  }
  process.exit(0);
}

if (process.argv[2] === "--relay") relay(process.argv[3]!, process.argv[4]!);
else await main(Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 3));
