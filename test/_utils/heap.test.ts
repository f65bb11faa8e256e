import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../helpers/wait.js";

const HEAP = join(import.meta.dirname, "../../src/_utils/heap.ts");

/**
 * A child process allocating like a busy server (short-lived objects, some surviving a collection or two, the
 * event loop turning between batches of less than one collection's worth), with `limitSemiSpace(8)` applied or not;
 * prints the young generation's size in MiB (both semi-spaces) at the end. V8 alone grows it to 32 MiB or more (Node
 * 20 and 22: 32; Node 24: 128). The observer hears of a collection a turn later, so a turn that survives a whole
 * semi-space twice over could grow it twice: the soft cap `limitSemiSpace` describes.
 */
function youngGenerationAfterLoad(opts: { limit: boolean; given?: string; nodeFlags?: string[] }): number {
  const code = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { limitSemiSpace } from ${JSON.stringify(HEAP)};
    if (${opts.limit}) limitSemiSpace(8, ${opts.given === undefined ? "undefined" : JSON.stringify(opts.given)});
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    let live = [];
    for (let round = 0; round < 2000; round++) {
      for (let i = 0; i < 4000; i++) live.push({ i, text: "x" + i, list: [i, i] });
      if (live.length > 16000) live = live.slice(-4000);
      await turn(); // the collector's observer runs between turns, as between a server's requests
    }
    const space = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    console.log(space.space_size / 1048576);
  `;
  const child = spawnSync(process.execPath, [...(opts.nodeFlags ?? []), "--import", "tsx", "--input-type=module", "-e", code], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
    timeout: 50_000,
  });
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
  return Number(child.stdout.trim());
}

describe("limitSemiSpace", () => {
  it("stops the semi-spaces at the limit under load, where V8 alone grows them further", () => {
    expect(youngGenerationAfterLoad({ limit: false })).toBeGreaterThan(16);
    expect(youngGenerationAfterLoad({ limit: true })).toBeLessThanOrEqual(16);
  });

  it("leaves a semi-space limit given on node's command line alone", () => {
    expect(youngGenerationAfterLoad({ limit: true, nodeFlags: ["--max-semi-space-size=32"] })).toBeGreaterThan(16);
  });

  it.each(["--max_semi_space_size=4", "--max-semi-space-size 4", "--require x --min-semi-space-size=2", "--semi-space-growth-factor=3"])(
    "reads %s in node's flags or NODE_OPTIONS as the user's own setting",
    (given) => {
      expect(youngGenerationAfterLoad({ limit: true, given })).toBeGreaterThan(16);
    },
  );
});

/**
 * A child process that fetches from a local server through undici (llhttp, compiled to WebAssembly) with V8's
 * WebAssembly compilations traced, `compileWasmOnce` applied or not. Resolves with the trace once `done` says so.
 */
async function wasmCompilations(opts: { compileOnce: boolean; given?: string }, done: (trace: string) => boolean): Promise<string> {
  const code = `
    import http from "node:http";
    import { request } from "undici";
    import { compileWasmOnce } from ${JSON.stringify(HEAP)};
    if (${opts.compileOnce}) compileWasmOnce(${opts.given === undefined ? "undefined" : JSON.stringify(opts.given)});
    const server = http.createServer((req, res) => res.end("x".repeat(4096))).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const url = "http://127.0.0.1:" + server.address().port + "/";
    for (let i = 0; i < 2000; i++) await request(url).then((res) => res.body.text());
    console.log("requests done");
    process.stdin.resume(); // until the test ends it
  `;
  const child = spawn(process.execPath, ["--trace-wasm-compilation-times", "--import", "tsx", "--input-type=module", "-e", code], {
    env: { ...process.env, NODE_OPTIONS: "" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let trace = "";
  child.stdout.on("data", (d: Buffer) => (trace += d.toString()));
  child.stderr.on("data", (d: Buffer) => (trace += d.toString()));
  try {
    await waitFor(() => done(trace) || child.exitCode !== null, { timeoutMs: 40_000, what: "the traced WebAssembly compilations" });
    return trace;
  } finally {
    child.kill();
  }
}

describe("compileWasmOnce", () => {
  // llhttp's parser is one function of some 33 KB of WebAssembly; TurboFan needs about 30 MB to compile it again.
  // (Node's own module lexer is WebAssembly too, and may be compiled by TurboFan while the child loads, before.)
  const TURBOFAN = /using TurboFan.*bodysize \d{5,}/;
  it("keeps V8 from compiling WebAssembly a second time with TurboFan, which an HTTP client's traffic makes it do", async () => {
    // without it, this traffic gets llhttp's parser compiled again by TurboFan (about 30 MB of compiler memory)
    expect(await wasmCompilations({ compileOnce: false }, (trace) => TURBOFAN.test(trace))).toMatch(TURBOFAN);
    const trace = await wasmCompilations({ compileOnce: true }, (trace) => trace.includes("requests done"));
    expect(trace).toContain("using Liftoff");
    expect(trace).toContain("requests done");
    expect(trace).not.toMatch(TURBOFAN);
  }, 90_000);

  it("leaves a WebAssembly setting given to node alone", async () => {
    const trace = await wasmCompilations({ compileOnce: true, given: "--no-wasm-dynamic-tiering" }, (trace) => TURBOFAN.test(trace));
    expect(trace).toMatch(TURBOFAN);
  }, 60_000);
});
