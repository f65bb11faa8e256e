import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/cli.js";

const ROOT = resolve(import.meta.dirname, "../..");

describe("writeFileAtomic", () => {
  it("a write the disk cuts short throws and leaves the old file and no temp file", () => {
    const dir = tempDir();
    const path = join(dir, "auth.json");
    writeFileSync(path, "the good old store");
    // A file-size limit makes the kernel write part of the data, as a nearly full disk does (SIGXFSZ ignored,
    // so the short write is reported instead of killing the process).
    const script = `import { writeFileAtomic } from "./src/_utils/atomic-write.ts";
try { writeFileAtomic(${JSON.stringify(path)}, "x".repeat(40_000)); console.log("wrote"); } catch (e) { console.log("threw " + e.code); }`;
    const out = execFileSync("bash", ["-c", `trap '' XFSZ; ulimit -f 8; exec "${process.execPath}" --import tsx --input-type=module -e '${script.replace(/'/g, "'\\''")}'`], { cwd: ROOT, encoding: "utf8" });
    expect(out.trim()).toBe("threw EFBIG");
    expect(readFileSync(path, "utf8")).toBe("the good old store");
    expect(readdirSync(dir)).toEqual(["auth.json"]);
  });
});
