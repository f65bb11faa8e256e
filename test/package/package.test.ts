import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/cli.js";

const ROOT = resolve(import.meta.dirname, "../..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

describe("the npm package", () => {
  it("packs only what it needs, installs into an empty directory and runs", { timeout: 180_000 }, () => {
    const out = tempDir("codex-proxy-pack-");
    const packed = JSON.parse(execFileSync(npm, ["pack", "--json", "--pack-destination", out], { cwd: ROOT, encoding: "utf8" })) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "CHANGELOG.md", "bin/codex-proxy.js", "dist/cli.js"]));
    expect(files.filter((f) => !/^(bin\/|dist\/|package\.json$|README\.md$|CHANGELOG\.md$)/.test(f))).toEqual([]);

    const project = tempDir("codex-proxy-install-");
    execFileSync(npm, ["init", "-y"], { cwd: project, stdio: "ignore" });
    execFileSync(npm, ["install", join(out, packed[0]!.filename), "--no-audit", "--no-fund", "--omit=dev"], { cwd: project, stdio: "pipe" });
    expect(existsSync(join(project, "node_modules/codex-proxy/src"))).toBe(false);

    const help = spawnSync(npm, ["exec", "--no", "--", "codex-proxy", "--help"], { cwd: project, encoding: "utf8" });
    expect(help.status, help.stderr).toBe(0);
    for (const command of ["login", "logout", "status", "serve", "models", "doctor", "service"]) expect(help.stdout).toContain(command);
    const version = spawnSync(join(project, "node_modules/.bin/codex-proxy"), ["--version"], { encoding: "utf8" });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  it("starts without loading any command's code: --help and --version import only commander", () => {
    // follow the static imports of dist/cli.js; every command is a dynamic import()
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["'];?$/gm)) {
        const spec = m[1]!;
        if (spec.startsWith(".")) visit(resolve(file, "..", spec));
        else packages.add(spec.replace(/^node:/, "node:"));
      }
    };
    visit(join(ROOT, "dist/cli.js"));
    expect([...packages].filter((p) => !p.startsWith("node:"))).toEqual(["commander"]);
  });
});
