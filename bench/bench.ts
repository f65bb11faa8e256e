// npm run bench: the same workload straight to the fake backend and through the proxy, side by side.
// Three processes: the fake backend, the built proxy (`codex-proxy serve`), and this load generator.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { Agent, request } from "undici";
import { ChatStreamTranslator } from "../src/translate/openai-chat/stream.js";
import { closedLoop, encodeRequest, type Timing } from "./load.js";
import { coldStart, firstByte, rssAfterWaves } from "./light.js";
import { NODE_FLAGS } from "../src/service/spec.js";
import { responseSteps } from "../test/fake-backend/events.js";

const ROOT = resolve(import.meta.dirname, "..");
// BENCH_BIN: another build's bin (e.g. an older commit's), to measure before and after on one machine
const BIN = process.env.BENCH_BIN ? resolve(process.env.BENCH_BIN) : join(ROOT, "bin/codex-proxy.js");

const quick = process.argv.includes("--quick");
const agent = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 30_000, bodyTimeout: 0, headersTimeout: 0 });

// ---------- processes ----------
const children: ChildProcess[] = [];
process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

async function firstLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  const rl = createInterface({ input: child.stdout! });
  for await (const line of rl) if (pattern.test(line)) return line;
  throw new Error("process ended before it was ready");
}

const dir = mkdtempSync(join(tmpdir(), "codex-proxy-bench-"));
// one process (no tsx wrapper whose child would outlive a kill)
const fake = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/fake-backend/main.ts"), "--codex-auth", join(dir, "codex/auth.json")], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
children.push(fake);
console.error("starting the fake backend");
const { issuerUrl, upstreamUrl } = JSON.parse(await firstLine(fake, /^\{/)) as { issuerUrl: string; upstreamUrl: string };
const env = { ...process.env, CODEX_PROXY_CONFIG_DIR: join(dir, "config"), CODEX_PROXY_AUTH_URL: issuerUrl, CODEX_PROXY_UPSTREAM_URL: upstreamUrl };
spawnSync(process.execPath, [BIN, "login", "--import", join(dir, "codex/auth.json")], { env, stdio: "ignore" });
console.error("starting the proxy");
const proxy = spawn(process.execPath, [BIN, "serve", "--port", "0", "--quiet"], { env, stdio: ["ignore", "pipe", "inherit"] });
children.push(proxy);
const proxyUrl = /(http:\/\/\S+)/.exec(await firstLine(proxy, /listening on/))![1]!;
const auth = JSON.parse(readFileSync(join(dir, "codex/auth.json"), "utf8")).tokens;
const directHeaders = { authorization: `Bearer ${auth.access_token}`, "chatgpt-account-id": auth.account_id, "content-type": "application/json", accept: "text/event-stream" };

// ---------- the two paths ----------
type Path = "direct" | "proxy";
function call(path: Path, content: string, stream = true) {
  if (path === "direct") {
    const body = { model: "gpt-5.5", instructions: "x", input: [{ type: "message", role: "user", content: [{ type: "input_text", text: content }] }], store: false, stream: true };
    return { url: `${upstreamUrl}/responses`, headers: directHeaders, body: JSON.stringify(body) };
  }
  const body = { model: "gpt-5.5", stream, reasoning_format: "none", messages: [{ role: "user", content }] };
  return { url: `${proxyUrl}/v1/chat/completions`, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** `width` clients in a closed loop on `path`, each sending its next request when the last one is answered. */
function load(path: Path, content: string, width: number, limit: { total?: number; until?: number }, stream = true): Promise<Timing[]> {
  const c = call(path, content, stream);
  return closedLoop(c.url, encodeRequest(c), width, limit);
}

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const ms = (v: number) => `${v.toFixed(2)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const rssOf = (pid: number, field: "VmRSS" | "VmHWM" = "VmRSS") => Number(/(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(field))!)![1]) / 1024;

const rows: string[][] = [];
const row = (...cells: string[]) => {
  rows.push(cells);
  console.log(cells.join("  |  "));
};

console.error(`fake ${upstreamUrl}, proxy ${proxyUrl}: warming up`);
// warm both paths (JIT, keep-alive connections, the proxy's model list)
for (const path of ["direct", "proxy"] as const) await load(path, "warm up", 16, { total: 2000 });

// ---------- 1. latency at 1, 16, 256 concurrent streams ----------
for (const width of [1, 16, 256]) {
  // closed loop for a fixed time per round, so each figure rests on thousands of requests, not a JIT warm-up
  const seconds = quick ? 0.5 : 2;
  const results: Record<Path, Timing[]> = { direct: [], proxy: [] };
  // interleave rounds so both paths see the same machine noise
  for (let round = 0; round < 4; round++) {
    for (const path of ["direct", "proxy"] as const) results[path].push(...(await load(path, "Say something short", width, { until: performance.now() + seconds * 1000 })));
  }
  for (const [metric, key] of [["TTFB", "ttfb"], ["TTLB", "ttlb"]] as const) {
    for (const p of [50, 99]) {
      const d = pct(results.direct.map((t) => t[key]), p);
      const x = pct(results.proxy.map((t) => t[key]), p);
      row(`${metric} p${p} @${width}`, `direct ${ms(d)}`, `proxy ${ms(x)}`, `added ${ms(x - d)}`, `ratio ${ratio(x, d)}`);
    }
  }
}

// ---------- 1a. one short stream at a time: a node:http client beside the raw-socket one ----------
{
  for (const cells of await firstByte(call("direct", "Say something short"), call("proxy", "Say something short"), quick ? 200 : 1000)) row(...cells);
}

// ---------- 1b. 16 concurrent streams paced like a model's output (50 ms between events) ----------
{
  const rounds = quick ? 1 : 4;
  const results: Record<Path, Timing[]> = { direct: [], proxy: [] };
  for (let round = 0; round < rounds; round++) {
    for (const path of ["direct", "proxy"] as const) results[path].push(...(await load(path, "[[scenario:slow]] paced", 16, { total: 16 })));
  }
  for (const p of [50, 99]) {
    const d = pct(results.direct.map((t) => t.ttfb), p);
    const x = pct(results.proxy.map((t) => t.ttfb), p);
    row(`TTFB p${p} @16 paced streams`, `direct ${ms(d)}`, `proxy ${ms(x)}`, `added ${ms(x - d)}`, `ratio ${ratio(x, d)}`);
  }
}

// ---------- 2. throughput on one long stream ----------
{
  const events = quick ? 20_000 : 100_000;
  const best: Record<Path, number> = { direct: 0, proxy: 0 };
  for (let i = 0; i < (quick ? 3 : 5); i++) {
    for (const path of ["direct", "proxy"] as const) {
      const [t] = await load(path, `[[scenario:long-${events}]]`, 1, { total: 1 });
      best[path] = Math.max(best[path], events / (t!.ttlb / 1000));
    }
  }
  row(`Throughput, one stream of ${events} deltas`, `direct ${best.direct.toFixed(0)} ev/s`, `proxy ${best.proxy.toFixed(0)} ev/s`, `proxy/direct ${(best.proxy / best.direct * 100).toFixed(0)}%`);
}

// ---------- 3. requests per second, short non-stream completions ----------
{
  // the proxy's non-stream path is warmed on its own (the rows above only streamed), then the two paths alternate
  // in rounds and each gives its median: one round each moved this ratio ±5 % between runs
  const seconds = quick ? 0.75 : 2;
  const rounds = quick ? 3 : 5; // odd: the median is a round's own figure
  const rps: Record<Path, number[]> = { direct: [], proxy: [] };
  for (const path of ["direct", "proxy"] as const) await load(path, "short", 16, { total: 2000 }, false);
  for (let round = 0; round < rounds; round++) {
    for (const path of ["direct", "proxy"] as const) {
      const t0 = performance.now();
      const done = await load(path, "short", 16, { until: t0 + seconds * 1000 }, false);
      rps[path].push(done.length / ((performance.now() - t0) / 1000));
    }
  }
  const direct = pct(rps.direct, 50);
  const proxied = pct(rps.proxy, 50);
  row(`Short non-stream requests @16 (median of ${rounds} rounds)`, `direct ${direct.toFixed(0)} req/s`, `proxy ${proxied.toFixed(0)} req/s`, `proxy/direct ${(proxied / direct * 100).toFixed(0)}%`);
}

// ---------- 4. memory: 1,000 open streams, then 10,000 requests ----------
{
  const pid = proxy.pid!;
  const baseline = rssOf(pid);
  const open = 1000;
  let started = 0;
  let peak = baseline;
  const streams = Array.from({ length: open }, async () => {
    const c = call("proxy", "[[scenario:slow]] keep this stream open for a while");
    const res = await request(c.url, { method: "POST", headers: c.headers, body: c.body, dispatcher: agent });
    let first = true;
    for await (const _ of res.body) {
      if (first) {
        first = false;
        started++;
      }
    }
  });
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  while (started < open) await new Promise((r) => setTimeout(r, 20));
  const allOpen = rssOf(pid);
  await Promise.all(streams);
  clearInterval(sampler);
  row(`RSS with ${open} open streams`, `baseline ${baseline.toFixed(0)} MB`, `all open ${allOpen.toFixed(0)} MB`, `peak ${peak.toFixed(0)} MB (VmHWM ${rssOf(pid, "VmHWM").toFixed(0)} MB)`);

  // RSS moves with the garbage collector; a leak shows as growth from one full batch to the next
  const total = quick ? 3000 : 10_000;
  const samples: string[] = [];
  let done = 0;
  for (const batch of [total / 10, total - total / 10, total]) {
    done += (await load("proxy", "leak check", 32, { total: batch }, false)).length;
    samples.push(`${done}: ${rssOf(pid).toFixed(0)} MB`);
  }
  row(`RSS over ${2 * total} requests`, ...samples);
}

// ---------- 5. CLI cold start ----------
{
  const median = (args: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < (quick ? 7 : 21); i++) {
      const t0 = performance.now();
      spawnSync(process.execPath, args, { stdio: "ignore" });
      times.push(performance.now() - t0);
    }
    return pct(times, 50);
  };
  const node = median(["-e", "0"]);
  const version = median([BIN, "--version"]);
  const help = median([BIN, "--help"]);
  row("CLI cold start", `node -e 0 ${ms(node)}`, `--version ${ms(version)} (${ratio(version, node)})`, `--help ${ms(help)} (${ratio(help, node)})`);
  const short = (url: string) => ({ ...call("proxy", "Say something short"), url: `${url}/v1/chat/completions` });
  const start = await coldStart(BIN, env, quick ? 5 : 11, short);
  row(...start.start);
  row(...start.rss);
  row(...(await rssAfterWaves(BIN, env, short, 64, quick ? 3 : 5)));
  row(...(await rssAfterWaves(BIN, env, short, 64, quick ? 3 : 5, NODE_FLAGS)));
}

// ---------- 6. the translation core alone ----------
{
  const steps = responseSteps("gpt-5.5", { reasoning: ["thinking about it"], text: "word ".repeat(2000), chunk: 5 }).flatMap((s) => ("event" in s ? [s.event as { type: string }] : []));
  let events = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    const t = new ChatStreamTranslator({ id: "x", created: 0, model: "m", reasoningFormat: "think-tags", includeUsage: true });
    for (const e of steps) for (const chunk of t.push(e)) JSON.stringify(chunk);
    events += steps.length;
  }
  row("Translation core (events → serialized chat chunks)", `${(events / ((performance.now() - t0) / 1000) / 1e6).toFixed(2)} M events/s`);
}

// ---------- results ----------
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${process.platform}`;
const table = ["| measure | | | | |", "| --- | --- | --- | --- | --- |", ...rows.map((r) => `| ${[...r, "", "", "", ""].slice(0, 5).join(" | ")} |`)].join("\n");
const report = `## ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC${quick ? " (quick)" : ""}\n\nMachine: ${machine}. Load generator, fake backend and proxy share the machine.\n\n${table}\n`;
if (!quick) {
  const file = join(ROOT, "bench/RESULTS.md");
  let previous = "";
  try {
    previous = readFileSync(file, "utf8").replace(/^# [^\n]*\n+(?:[^#][^\n]*\n+)*/, "");
  } catch {
    // first run
  }
  writeFileSync(file, `# Benchmark results\n\nWritten by \`npm run bench\` (newest first). Figures are from shared, noisy machines: read the ratios.\n\n${report}\n${previous}`);
}
console.log(`\n${report}`);
await agent.close();
process.exit(0);
