// What a background daemon and a launcher care about, each beside a bare Node server or the direct path in one run:
// spawn → first /health, idle RSS, RSS after waves of concurrent streams, and a node:http client's first byte.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, get, request } from "node:http";
import { performance } from "node:perf_hooks";
import { closedLoop, Connection, encodeRequest, type Target } from "./load.js";

const BARE = `require("node:http").createServer((q, s) => s.end("ok")).listen(0, "127.0.0.1", function () { console.log("listening on http://127.0.0.1:" + this.address().port) })`;

export const rssOf = (pid: number, field: "VmRSS" | "VmHWM" = "VmRSS") =>
  Number(/(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(field))!)![1]) / 1024;
export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (values: number[], digits = 2) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => get(url, (res) => res.resume().on("end", () => resolve(res.statusCode!))).on("error", reject));
}

/** Spawn, read the "listening on" line, GET /health: ms until its 200, and the running child. */
async function startTimed(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; url: string; child: ChildProcess }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "ignore"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      const m = /listening on (http:\/\/\S+)/.exec((out += d));
      if (m) resolve(m[1]!);
    });
    child.once("exit", () => reject(new Error(`${args.join(" ")} ended before listening`)));
  });
  if ((await getStatus(`${url}/health`)) !== 200) throw new Error("/health did not answer 200");
  return { ms: performance.now() - t0, url, child };
}

/** Idle RSS once the process has answered and its start-up work is done (the proxy's model list is loaded). */
async function idleRss(child: ChildProcess, ready: () => Promise<unknown>): Promise<number> {
  await ready();
  await new Promise((r) => setTimeout(r, 1000)); // let the start-up garbage be collected
  return rssOf(child.pid!);
}

/**
 * Cold start to the first /health 200 and idle RSS: the proxy and a bare node:http server, alternating. The proxy's
 * RSS is read after one answered `target` request: its backend connection is where undici compiles its WebAssembly
 * parser.
 */
export async function coldStart(bin: string, env: NodeJS.ProcessEnv, rounds: number, target: (url: string) => Target) {
  const bare = { ms: [] as number[], rss: [] as number[] };
  const proxy = { ms: [] as number[], rss: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    const b = await startTimed(["-e", BARE], process.env);
    bare.ms.push(b.ms);
    bare.rss.push(await idleRss(b.child, () => getStatus(b.url)));
    b.child.kill();
    const p = await startTimed([bin, "serve", "--port", "0", "--quiet"], env);
    proxy.ms.push(p.ms);
    proxy.rss.push(await idleRss(p.child, () => closedLoop(p.url, encodeRequest(target(p.url)), 1, { total: 1 })));
    p.child.kill();
  }
  const ratios = proxy.ms.map((ms, i) => ms / bare.ms[i]!);
  return {
    start: [`Cold start → first /health 200 (${rounds} runs)`, `bare node ${median(bare.ms).toFixed(0)} ms`, `proxy ${median(proxy.ms).toFixed(0)} ms`, `ratio ${median(ratios).toFixed(2)}x (${spread(ratios)})`],
    rss: [`RSS idle after start and one answer (${rounds} runs)`, `bare node ${median(bare.rss).toFixed(0)} MB`, `proxy ${median(proxy.rss).toFixed(0)} MB (${spread(proxy.rss, 0)})`, `proxy − bare ${(median(proxy.rss) - median(bare.rss)).toFixed(0)} MB`],
  };
}

/** A fresh proxy (node run with `nodeFlags`) through `waves` rounds of `width` concurrent short streams: RSS after each wave. */
export async function rssAfterWaves(bin: string, env: NodeJS.ProcessEnv, target: (url: string) => Target, width: number, waves: number, nodeFlags: string[] = []) {
  const p = await startTimed([...nodeFlags, bin, "serve", "--port", "0", "--quiet"], env);
  const idle = await idleRss(p.child, () => getStatus(`${p.url}/v1/models`));
  const after: number[] = [];
  const request = encodeRequest(target(p.url));
  for (let i = 0; i < waves; i++) {
    await closedLoop(p.url, request, width, { total: width * 20 });
    after.push(rssOf(p.child.pid!));
  }
  const hwm = rssOf(p.child.pid!, "VmHWM");
  p.child.kill();
  const how = nodeFlags.length ? `, node ${nodeFlags.join(" ")} (as the service runs it)` : "";
  return [`RSS, ${waves} waves of ${width} concurrent short streams${how}`, `idle ${idle.toFixed(0)} MB`, `after waves ${after.map((x) => x.toFixed(0)).join(", ")} MB`, `peak (VmHWM) ${hwm.toFixed(0)} MB`];
}

/** A keep-alive node:http client: one short stream at a time, time to the first body byte. */
function httpFirstByte(agent: Agent, target: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    request(target.url, { method: "POST", headers: target.headers, agent }, (res) => {
      res.once("data", () => (first = performance.now() - t0));
      res.on("end", () => (res.statusCode === 200 ? resolve(first) : reject(new Error(`answered ${res.statusCode}`))));
    })
      .on("error", reject)
      .end(target.body);
  });
}

/**
 * Time to first byte, one short stream at a time, direct and through the proxy alternating, with the node:http
 * client and with the raw-socket generator in the same run (so the two clients can be compared).
 */
export async function firstByte(direct: Target, proxy: Target, count: number) {
  const agents = { direct: new Agent({ keepAlive: true, maxSockets: 1 }), proxy: new Agent({ keepAlive: true, maxSockets: 1 }) };
  const targets = { direct, proxy };
  const http = { direct: [] as number[], proxy: [] as number[] };
  const raw = { direct: [] as number[], proxy: [] as number[] };
  const sockets = { direct: new Connection(direct.url), proxy: new Connection(proxy.url) };
  await Promise.all([sockets.direct.ready, sockets.proxy.ready]);
  const bytes = { direct: encodeRequest(direct), proxy: encodeRequest(proxy) };
  for (let i = 0; i < count + 50; i++) {
    for (const path of ["direct", "proxy"] as const) {
      const h = await httpFirstByte(agents[path], targets[path]);
      const r = (await sockets[path].send(bytes[path])).ttfb;
      if (i >= 50) (http[path].push(h), raw[path].push(r)); // the first 50 warm up
    }
  }
  Object.values(agents).forEach((a) => a.destroy());
  Object.values(sockets).forEach((s) => s.close());
  // the added time in each of five consecutive blocks shows how much the machine moved during the run
  const blocks = (t: number[]) => Array.from({ length: 5 }, (_, b) => t.slice((b * t.length) / 5, ((b + 1) * t.length) / 5));
  const row = (client: string, t: typeof http) => [
    `TTFB p50, one short stream at a time, ${client}`,
    `direct ${median(t.direct).toFixed(2)} ms`,
    `proxy ${median(t.proxy).toFixed(2)} ms`,
    `added ${(median(t.proxy) - median(t.direct)).toFixed(2)} ms (5 blocks: ${spread(blocks(t.proxy).map((p, b) => median(p) - median(blocks(t.direct)[b]!)))})`,
  ];
  return [row("node:http client", http), row("raw-socket client", raw)];
}
