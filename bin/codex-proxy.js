#!/usr/bin/env node
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

// a source checkout runs only once built: say how, instead of Node's "Cannot find module …/dist/cli.js"
const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  console.error(`codex-proxy is not built: ${fileURLToPath(cli)} is missing. Run \`npm ci && npm run build\` in ${root}, then try again.`);
  process.exit(1);
}
await import(cli.href);
