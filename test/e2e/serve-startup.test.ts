import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { tempDir } from "../helpers/cli.js";
import { startServe } from "../helpers/serve.js";

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

/**
 * Every file a process loads, ESM (a resolve hook) and CommonJS (require), appended to `log`: what serve costs at
 * start is mostly what it loads, and a timing cannot be asserted on a busy machine, but the list can.
 */
function moduleLog(): { nodeOptions: string; loaded: () => string[] } {
  const dir = tempDir();
  const log = join(dir, "loaded.txt");
  writeFileSync(log, "");
  writeFileSync(
    join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + "\\n");
  return result;
}`,
  );
  writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module";\nregister(${JSON.stringify(`file://${join(dir, "hooks.mjs")}`)});`);
  writeFileSync(
    join(dir, "require.cjs"),
    `const Module = require("node:module");
const { appendFileSync } = require("node:fs");
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try { appendFileSync(${JSON.stringify(log)}, Module._resolveFilename(request, parent, isMain) + "\\n"); } catch {}
  return load.apply(this, arguments);
};`,
  );
  return { nodeOptions: `--require ${join(dir, "require.cjs")} --import ${join(dir, "register.mjs")}`, loaded: () => readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

describe("serve loads what /health and the first request need", () => {
  it("and none of the login, service or validation code, nor undici's or consola's extras", async () => {
    const modules = moduleLog();
    const serve = await startServe(fake, [], { env: { NODE_OPTIONS: modules.nodeOptions } });
    try {
      expect((await fetch(`${serve.url}/health`)).status).toBe(200);
      const client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "x", maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] });
      expect(answer.choices[0]!.message.content).toBeTruthy();
    } finally {
      await serve.stop();
    }
    const loaded = modules.loaded();
    expect(loaded.some((file) => /node_modules\/h3\//.test(file))).toBe(true); // the log works
    expect(loaded.some((file) => /node_modules\/undici\/lib\/dispatcher\/agent\.js$/.test(file))).toBe(true);
    const heavy = loaded.filter((file) =>
      /node_modules\/(conf|ajv|ajv-formats|listhen|get-port-please|http-shutdown|@inquirer|yocto-spinner|open)\/|node_modules\/undici\/index\.js$|node_modules\/consola\/dist\/index\.mjs$|dist\/(login|service|doctor)-/.test(file),
    );
    expect(heavy).toEqual([]);
  });
});
