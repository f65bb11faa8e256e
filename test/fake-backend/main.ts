// Run the fake backend on its own, for trying the CLI by hand and for the benchmark:
//   npx tsx test/fake-backend/main.ts [--port 0] [--codex-auth <path> [--expired]]
// It prints {"issuerUrl","upstreamUrl"} as one JSON line and runs until killed. With --control (started by
// FakeBackendProcess over IPC) it keeps its records and answers control requests from the test process.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { FakeBackend } from "./index.js";
import { answerControl, type ControlRequest } from "./process.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "codex-auth": { type: "string" },
    expired: { type: "boolean", default: false },
    control: { type: "boolean", default: false },
  },
});

const fake = new FakeBackend();
// nobody reads the records of a standalone fake, and a benchmark would pile them up
fake.record = values.control;
await fake.start(Number(values.port));
if (values["codex-auth"]) {
  const tokens = fake.issuer.issueTokens(values.expired ? -60 : undefined);
  mkdirSync(dirname(values["codex-auth"]), { recursive: true });
  writeFileSync(
    values["codex-auth"],
    JSON.stringify({ auth_mode: "chatgpt", OPENAI_API_KEY: null, tokens: { ...tokens, account_id: fake.issuer.account.accountId }, last_refresh: new Date().toISOString() }, null, 2),
    { mode: 0o600 },
  );
}
process.stdout.write(`${JSON.stringify({ issuerUrl: fake.issuerUrl, upstreamUrl: fake.upstreamUrl })}\n`);
if (values.control) {
  process.on("message", (request: ControlRequest) => void answerControl(fake, request).then((reply) => process.send!(reply)));
  process.once("disconnect", () => void fake.close().then(() => process.exit(0))); // the test process is gone
}
const stop = () => fake.close().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
