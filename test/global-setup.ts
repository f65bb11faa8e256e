import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";

// The e2e tests drive the built CLI, exactly as users run it: build it once before the suite.
export default function setup(): void {
  const require = createRequire(import.meta.url);
  const tsup = require.resolve("tsup/dist/cli-default.js");
  execFileSync(process.execPath, [tsup, "--silent"], { stdio: "inherit" });
}
