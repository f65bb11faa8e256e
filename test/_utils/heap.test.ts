import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const HEAP = join(import.meta.dirname, "../../src/_utils/heap.ts");

/**
 * A child process allocating like a busy server (short-lived objects, some surviving a collection or two), with
 * `limitSemiSpace` applied or not; prints the young generation's size in MiB (both semi-spaces) at the end.
 */
function youngGenerationAfterLoad(opts: { limit: boolean; nodeFlags?: string[] }): number {
  const code = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { limitSemiSpace } from ${JSON.stringify(HEAP)};
    if (${opts.limit}) limitSemiSpace(2);
    const sleep = () => new Promise((resolve) => setImmediate(resolve));
    let live = [];
    for (let round = 0; round < 300; round++) {
      for (let i = 0; i < 20000; i++) live.push({ i, text: "x" + i, list: [i, i] });
      if (live.length > 60000) live = live.slice(-20000);
      await sleep(); // the collector's observer runs between turns, as between a server's requests
    }
    const space = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
    console.log(space.space_size / 1048576);
  `;
  const child = spawnSync(process.execPath, [...(opts.nodeFlags ?? []), "--import", "tsx", "--input-type=module", "-e", code], { encoding: "utf8", timeout: 120_000 });
  expect(child.stderr).toBe("");
  expect(child.status).toBe(0);
  return Number(child.stdout.trim());
}

describe("limitSemiSpace", () => {
  it("keeps the semi-spaces at their limit under load, where V8 alone grows them further", () => {
    expect(youngGenerationAfterLoad({ limit: false })).toBeGreaterThan(4);
    expect(youngGenerationAfterLoad({ limit: true })).toBeLessThanOrEqual(4);
  });

  it("leaves a semi-space limit given on the command line alone", () => {
    expect(youngGenerationAfterLoad({ limit: true, nodeFlags: ["--max-semi-space-size=8"] })).toBeGreaterThan(4);
  });
});
