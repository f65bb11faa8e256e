// `prepare`: builds dist/ whenever npm installs this package from source (a clone, a git URL, `npm pack`).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

if (process.env._PACOTE_NO_PREPARE_ && process.env.npm_config_global === "true") {
  // npm prepares a git URL installed with -g by running `npm install` globally in its temporary clone, which then
  // replaces the package being installed (npm/cli#8440, #3692): no build can succeed there, so say what works
  console.error(
    "codex-proxy: npm cannot build a package installed globally straight from a git URL (npm/cli#8440). Pack it first, then install the tarball:\n" +
      '  npm install -g "$(npm pack <git url> | tail -n 1)"\n' +
      "or from a clone: npm install -g .",
  );
  process.exit(1);
}

const require = createRequire(import.meta.url);
const findTsup = () => {
  try {
    return require.resolve("tsup/dist/cli-default.js");
  } catch {
    return undefined;
  }
};

let tsup = findTsup();
if (!tsup) {
  // a fresh clone (or a git URL's clone) has no devDependencies: install exactly the locked ones here, never
  // globally, without running this script again
  const npm = process.env.npm_execpath;
  const argv = npm ? [process.execPath, npm] : ["npm"];
  const verb = existsSync("package-lock.json") ? "ci" : "install";
  console.error(`codex-proxy: installing the build tools (npm ${verb} --include=dev) to build dist/`);
  try {
    execFileSync(argv[0], [...argv.slice(1), verb, "--include=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--global=false"], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, npm_config_global: "false" },
    });
  } catch {
    console.error("codex-proxy: could not install the build tools; run `npm ci` in this directory, then repeat the command.");
    process.exit(1);
  }
  tsup = findTsup();
}
execFileSync(process.execPath, [tsup, "--silent"], { stdio: "inherit" });
