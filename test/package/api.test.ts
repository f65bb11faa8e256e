// The programmatic API as a program outside the repository sees it: `import ... from "codex-proxy"` resolved
// through package.json `exports` to the built dist/, and its types through the same map.
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { cliEnv, startNode, tempDir } from "../helpers/cli.js";
import { signedInConfigDir } from "../helpers/serve.js";

const ROOT = resolve(import.meta.dirname, "../..");

const PROGRAM = `
import { createApp, createCore, createLogger, loadConfig, serveOptions, startServer } from "codex-proxy";

const [configDir, upstreamUrl, authUrl] = process.argv.slice(2);
const config = loadConfig({ configDir, upstreamUrl, authUrl, port: "0" });
const core = createCore(config, { logger: createLogger({ quiet: true }) });
const shutdown = new AbortController();
const app = createApp({
  options: serveOptions(config),
  upstream: core.upstream,
  catalog: core.catalog,
  usage: core.usage,
  logger: core.logger,
  shutdownSignal: shutdown.signal,
  version: "embedded",
});
const server = await startServer(app, config.host, config.port);
console.log("serving " + server.url);
process.once("SIGTERM", async () => {
  await server.close(5_000, () => shutdown.abort());
  await core.close();
  console.log("closed");
});
`;

const TYPED = `
import { createCore, loadConfig, type Core } from "codex-proxy";
const core: Core = createCore(loadConfig({ port: "0" }));
const models: Promise<{ models: { slug: string }[] }> = core.catalog.get();
export { models };
`;

/** A project beside the repository with codex-proxy in its node_modules, as `npm install` would link it. */
function consumerProject(): string {
  const project = tempDir("codex-proxy-consumer-");
  mkdirSync(join(project, "node_modules"));
  symlinkSync(ROOT, join(project, "node_modules/codex-proxy"), "dir");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
  return project;
}

describe("the programmatic API", () => {
  let fake: FakeBackend;
  beforeAll(async () => {
    fake = await startFakeBackend();
  });
  afterAll(() => fake?.close());

  it("serves a chat completion from the built package imported by name, without the CLI", { timeout: 60_000 }, async () => {
    const project = consumerProject();
    writeFileSync(join(project, "serve.mjs"), PROGRAM);
    const { configDir } = signedInConfigDir(fake);
    const program = startNode(join(project, "serve.mjs"), [configDir, fake.upstreamUrl, fake.issuerUrl], cliEnv(), project);
    try {
      const [, url] = await program.waitFor(/serving (http:\/\/\S+)/, 30_000);
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] });
      expect(answer.choices[0]!.message.content).toBe("You said: hi");
      expect(fake.codex.calls.at(-1)?.body).toMatchObject({ model: "gpt-5.5", stream: true });
    } finally {
      program.child.kill("SIGTERM");
    }
    await program.waitFor(/closed/, 30_000);
    expect(await program.exited).toBe(0);
  });

  it("declares its types: a TypeScript program type-checks against them, and a wrong call does not", { timeout: 60_000 }, () => {
    const project = consumerProject();
    writeFileSync(join(project, "typed.ts"), TYPED);
    writeFileSync(join(project, "wrong.ts"), `import { createCore } from "codex-proxy";\ncreateCore(42);\n`);
    const tsc = (file: string) =>
      spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", "--skipLibCheck", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", file], {
        cwd: project,
        encoding: "utf8",
      });
    const typed = tsc("typed.ts");
    expect(typed.status, typed.stdout).toBe(0);
    const wrong = tsc("wrong.ts");
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout).toContain("not assignable to parameter of type 'Config'");
  });
});
