import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    // generous: the suite must pass on a slow, busy machine (tests wait for conditions, never for the clock)
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the e2e tests run the built CLI; build once before the suite
    globalSetup: ["test/global-setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
