import { defineConfig } from "tsup";

export default defineConfig({
  entry: { cli: "src/cli.ts", index: "src/index.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  clean: true,
  sourcemap: true,
  // types only for the programmatic API; the CLI has none to offer
  dts: { entry: { index: "src/index.ts" } },
  // one chunk per lazily imported command keeps `--help` and `--version` fast
  splitting: true,
});
