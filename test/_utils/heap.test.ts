import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

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
