// The wave row of bench/light.ts for several builds or node command lines, alternating in one run (RSS varies
// ±15 MB from run to run with V8's heap sizing: compare variants only within a run), with the proxy's CPU time:
//   npx tsx bench/waves.ts <rounds> <bin>[|<node flags>] …
//   e.g. npx tsx bench/waves.ts 3 bin/codex-proxy.js "bin/codex-proxy.js|--max-semi-space-size=4"
// Each variant: a fresh `serve`, idle RSS, RSS after each of 5 waves of 64 concurrent short streams, the proxy's
// CPU per short stream over the waves, then one stream of 100,000 deltas (wall time and the proxy's CPU).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { closedLoop, encodeRequest } from "./load.js";
import { rssOf } from "./light.js";

const ROOT = join(import.meta.dirname, "..");
const [rounds, ...variants] = process.argv.slice(2);
if (!variants.length) throw new Error("usage: npx tsx bench/waves.ts <rounds> <bin>[|<node flags>] …");
const children: ChildProcess[] = [];
process.on("exit", () => children.forEach((child) => child.kill("SIGKILL")));

async function lineMatching(child: ChildProcess, pattern: RegExp): Promise<string> {
  for await (const line of createInterface({ input: child.stdout! })) if (pattern.test(line)) return line;
  throw new Error("process ended before it was ready");
}

const dir = mkdtempSync(join(tmpdir(), "codex-proxy-waves-"));
const fake = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/fake-backend/main.ts"), "--codex-auth", join(dir, "codex/auth.json")], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
children.push(fake);
const { issuerUrl, upstreamUrl } = JSON.parse(await lineMatching(fake, /^\{/)) as { issuerUrl: string; upstreamUrl: string };
const env = { ...process.env, CODEX_PROXY_CONFIG_DIR: join(dir, "config"), CODEX_PROXY_AUTH_URL: issuerUrl, CODEX_PROXY_UPSTREAM_URL: upstreamUrl };
spawnSync(process.execPath, [variants[0]!.split("|")[0]!, "login", "--import", join(dir, "codex/auth.json")], { env, stdio: "ignore" });

/** user + system CPU of a process in ms (clock ticks of 10 ms) */
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
const chat = (url: string, content: string) =>
  encodeRequest({ url: `${url}/v1/chat/completions`, headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-5.5", stream: true, reasoning_format: "none", messages: [{ role: "user", content }] }) });

for (let round = 0; round < Number(rounds); round++) {
  for (const variant of variants) {
    const [bin, flags = ""] = variant.split("|");
    const proxy = spawn(process.execPath, [...flags.split(" ").filter(Boolean), bin!, "serve", "--port", "0", "--quiet"], { env, stdio: ["ignore", "pipe", "inherit"] });
    children.push(proxy);
    const url = /(http:\/\/\S+)/.exec(await lineMatching(proxy, /listening on/))![1]!;
    await fetch(`${url}/v1/models`).then((res) => res.text());
    await new Promise((resolve) => setTimeout(resolve, 1000)); // let the start-up garbage be collected
    const idle = rssOf(proxy.pid!);
    const cpuStart = cpuMs(proxy.pid!);
    const after: number[] = [];
    for (let wave = 0; wave < 5; wave++) {
      await closedLoop(url, chat(url, "Say something short"), 64, { total: 64 * 20 });
      after.push(rssOf(proxy.pid!));
    }
    const cpuWaves = cpuMs(proxy.pid!) - cpuStart;
    const t0 = performance.now();
    await closedLoop(url, chat(url, "[[scenario:long-100000]]"), 1, { total: 1 });
    const longMs = performance.now() - t0;
    const cpuLong = cpuMs(proxy.pid!) - cpuStart - cpuWaves;
    const peak = rssOf(proxy.pid!, "VmHWM");
    proxy.kill("SIGKILL");
    const figures = [`idle ${idle.toFixed(0)} MB`, `after waves ${after.map((rss) => rss.toFixed(0)).join(", ")} MB`, `peak ${peak.toFixed(0)} MB`, `CPU per short stream ${((cpuWaves / (5 * 64 * 20)) * 1000).toFixed(0)} µs`, `100k deltas ${longMs.toFixed(0)} ms, CPU ${cpuLong} ms`];
    console.log(`${variant}: ${figures.join(" | ")}`);
  }
}
process.exit(0);
