import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
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

  it("installs from a clean clone: `npm pack <git url>` and `npm install -g .` build dist/, `npm install -g <git url>` says what works", { timeout: 600_000 }, () => {
    // a clone of the committed state, as a user or CI gets it: no node_modules, no dist/
    const clone = join(tempDir("codex-proxy-clone-"), "codex-proxy");
    execFileSync("git", ["clone", "--quiet", ROOT, clone]);
    expect(existsSync(join(clone, "dist"))).toBe(false);
    const url = `git+file://${clone}`;
    // only npm's own settings: the ones of the `npm test` running this must not leak into these installs
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== "_PACOTE_NO_PREPARE_"));
    const npmRun = (args: string[], cwd: string) =>
      spawnSync(npm, [...args, "--no-audit", "--no-fund", "--prefer-offline"], { cwd, env, encoding: "utf8", timeout: 300_000 });
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;

    const started = Date.now();
    const packDir = tempDir("codex-proxy-gitpack-");
    const pack = npmRun(["pack", url], packDir);
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = join(packDir, pack.stdout.trim().split("\n").pop()!);
    const prefix = tempDir("codex-proxy-prefix-");
    const fromTarball = npmRun(["install", "-g", "--prefix", prefix, tarball], packDir);
    expect(fromTarball.status, fromTarball.stderr).toBe(0);
    const packed = spawnSync(join(prefix, "bin/codex-proxy"), ["--help"], { encoding: "utf8" });
    expect(packed.status, packed.stderr).toBe(0);
    expect(packed.stdout).toContain("service");
    const packSeconds = (Date.now() - started) / 1000;

    // npm cannot build a git URL installed with -g (npm/cli#8440): a clear way out instead of a broken install
    const direct = npmRun(["install", "-g", "--prefix", tempDir("codex-proxy-prefix-"), url], packDir);
    expect(direct.status).not.toBe(0);
    expect(direct.stderr).toContain('npm install -g "$(npm pack <git url> | tail -n 1)"');

    const folderPrefix = tempDir("codex-proxy-prefix-");
    const folder = npmRun(["install", "-g", "--prefix", folderPrefix, "."], clone);
    expect(folder.status, folder.stderr).toBe(0);
    const linked = spawnSync(join(folderPrefix, "bin/codex-proxy"), ["--version"], { encoding: "utf8" });
    expect(linked.stdout.trim(), linked.stderr).toBe(version);
    console.log(`source installs: npm pack <git url> + install ${packSeconds.toFixed(0)}s, all ${((Date.now() - started) / 1000).toFixed(0)}s`);
  });

  it("run from a checkout that was never built: says how to build it instead of a module-not-found stack", () => {
    const dir = tempDir("codex-proxy-unbuilt-");
    mkdirSync(join(dir, "bin"));
    copyFileSync(join(ROOT, "bin/codex-proxy.js"), join(dir, "bin/codex-proxy.js"));
    const run = spawnSync(process.execPath, [join(dir, "bin/codex-proxy.js"), "--version"], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("codex-proxy is not built");
    expect(run.stderr).toContain("npm ci && npm run build");
    expect(run.stderr).not.toContain("ERR_MODULE_NOT_FOUND");
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
