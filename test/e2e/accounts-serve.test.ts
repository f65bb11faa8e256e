// Several ChatGPT accounts behind one `serve`: which account serves each request, read from the fake backend
// (each call records the identity whose token made it).
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend, startFakeBackend } from "../fake-backend/index.js";
import { FakeBackendProcess } from "../fake-backend/process.js";
import type { IssuedTokens } from "../fake-backend/issuer.js";
import { IDENTITIES, accountFile, importLogin } from "../helpers/accounts.js";
import { cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { startServe, type ServeHandle } from "../helpers/serve.js";
import { waitFor } from "../helpers/wait.js";

type Who = keyof typeof IDENTITIES;
type Fake = FakeBackend | FakeBackendProcess;

/** Sign in to each identity in turn with the built CLI (`login --import`); the last one is preferred. */
async function signIn(fake: Fake, who: Who[], { ttl = 3600, configDir = `${tempDir()}/config` } = {}): Promise<{ configDir: string; tokens: Record<string, IssuedTokens> }> {
  const env = cliEnv({ CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl, CODEX_PROXY_CONFIG_DIR: configDir });
  const tokens: Record<string, IssuedTokens> = {};
  for (const name of who) tokens[name] = (await importLogin(fake, env, IDENTITIES[name], ttl)).tokens;
  return { configDir, tokens };
}

const chat = (serve: ServeHandle, conversation: string, headers: Record<string, string> = {}, model = "gpt-5.5") =>
  fetch(`${serve.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, prompt_cache_key: conversation, messages: [{ role: "user", content: `hello from ${conversation}` }] }),
  });

/** serve fetches every account's model list at start; the answers' usage headers would already tell it about a limit */
const warmedUp = (fake: FakeBackend, who: Who[]) =>
  waitFor(() => who.every((name) => (fake.codex.modelsCallsBy[IDENTITIES[name].email] ?? 0) > 0), { timeoutMs: 30_000, what: "the model lists" });

const servedBy = (fake: FakeBackend) => fake.codex.calls.filter((c) => c.status === 200 && !c.limited).map((c) => c.account);
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe("several accounts in one serve", () => {
  let fake: FakeBackend;
  let serve: ServeHandle | undefined;
  beforeAll(async () => {
    fake = await startFakeBackend();
  });
  afterEach(async () => {
    await serve?.stop();
    serve = undefined;
    fake.codex.calls.length = 0;
    fake.codex.modelsCallsBy = {};
    fake.codex.accounts = {};
  });
  afterAll(() => fake.close());

  it("fails over to the next account on a 429 usage limit, before the client sees anything, and names the account that served", async () => {
    const { configDir } = await signIn(fake, ["bob", "ada"]); // ada is preferred
    serve = await startServe(fake, [], { configDir });
    await warmedUp(fake, ["ada", "bob"]);
    fake.codex.setAccount(IDENTITIES.ada.email, { limitedUntil: inAnHour() });
    const client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(data.choices[0]!.message.content).toBeTruthy();
    expect(response.headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    expect(fake.codex.calls.map((c) => [c.account, c.limited])).toEqual([
      [IDENTITIES.ada.email, true],
      [IDENTITIES.bob.email, false],
    ]);
    await waitFor(() => /ada@example\.com: .*usage limit.*Other accounts serve meanwhile/.test(serve!.run.stdout() + serve!.run.stderr()), { what: "the log line about the limit" });
    // the limited account is not asked again until its reset
    await client.chat.completions.create({ model: "gpt-5.5", messages: [{ role: "user", content: "a new conversation" }] });
    expect(fake.codex.calls.map((c) => c.account).slice(2)).toEqual([IDENTITIES.bob.email]);
    const usage = (await (await fetch(`${serve.url}/v1/usage`)).json()) as { accounts: { email: string; preferred: boolean; limitedUntil: string | null }[] };
    expect(usage.accounts.map((a) => [a.email, a.preferred, a.limitedUntil !== null])).toEqual([
      [IDENTITIES.ada.email, true, true],
      [IDENTITIES.bob.email, false, false],
    ]);
  });

  it("fails over on a usage limit that arrives in the stream before any output", async () => {
    const { configDir } = await signIn(fake, ["bob", "ada"]);
    serve = await startServe(fake, ["--account-strategy", "failover"], { configDir });
    await warmedUp(fake, ["ada", "bob"]);
    fake.codex.setAccount(IDENTITIES.ada.email, { limitedUntil: inAnHour(), limitInStream: true });
    const res = await chat(serve, "streamed-limit");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    expect(fake.codex.calls.map((c) => [c.account, c.limited])).toEqual([
      [IDENTITIES.ada.email, true],
      [IDENTITIES.bob.email, false],
    ]);
  });

  it("moves new conversations on when an account's headers report a window full", async () => {
    const { configDir } = await signIn(fake, ["bob", "ada"]);
    serve = await startServe(fake, [], { configDir });
    await warmedUp(fake, ["ada", "bob"]);
    // ada still answers, but says her 5-hour window is used up
    fake.codex.setAccount(IDENTITIES.ada.email, { usage: { primary: 100, secondary: 50 } });
    expect((await chat(serve, "first")).headers.get("x-codex-proxy-account")).toBe(IDENTITIES.ada.accountId);
    expect((await chat(serve, "second")).headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    expect(servedBy(fake)).toEqual([IDENTITIES.ada.email, IDENTITIES.bob.email]);
    // serve saves the usage figures within a second; `status` reads them from there
    const limited = await waitFor(async () => {
      const status = JSON.parse((await runCli(["status", "--json"], serve!.env)).stdout) as { accounts: { email: string; limitedUntil: string | null }[] };
      const marks = status.accounts.map((a) => [a.email, a.limitedUntil !== null]);
      return marks[0]?.[1] === true && marks;
    }, { timeoutMs: 30_000, what: "status to show ada limited" });
    expect(limited).toEqual([
      [IDENTITIES.ada.email, true],
      [IDENTITIES.bob.email, false],
    ]);
  });

  it("round-robin spreads new conversations and keeps each conversation on its account", async () => {
    const { configDir } = await signIn(fake, ["ada", "bob"]);
    serve = await startServe(fake, ["--account-strategy", "round-robin"], { configDir });
    const conversations = ["c1", "c2", "c3", "c4"];
    const first: Record<string, string | null> = {};
    for (const c of conversations) first[c] = (await chat(serve, c)).headers.get("x-codex-proxy-account");
    expect(Object.values(first).filter((a) => a === IDENTITIES.ada.accountId)).toHaveLength(2);
    expect(Object.values(first).filter((a) => a === IDENTITIES.bob.accountId)).toHaveLength(2);
    for (const c of [...conversations].reverse()) expect((await chat(serve, c)).headers.get("x-codex-proxy-account")).toBe(first[c]);
  });

  it("failover keeps a conversation on its account, and moves it only when that account is limited", async () => {
    const { configDir } = await signIn(fake, ["bob", "ada"]);
    serve = await startServe(fake, [], { configDir });
    expect((await chat(serve, "long-chat")).headers.get("x-codex-proxy-account")).toBe(IDENTITIES.ada.accountId);
    fake.codex.setAccount(IDENTITIES.ada.email, { limitedUntil: inAnHour() });
    expect((await chat(serve, "long-chat")).headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    fake.codex.setAccount(IDENTITIES.ada.email, undefined);
    // bob has its prompt cache now; ada stays set aside until the reset she gave
    expect((await chat(serve, "long-chat")).headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
  });

  it("every account limited: the family's 429 with the earliest reset, retry-after and x-should-retry: false", async () => {
    const { configDir } = await signIn(fake, ["bob", "ada"]);
    const soon = Math.floor(Date.now() / 1000) + 600;
    fake.codex.setAccount(IDENTITIES.ada.email, { limitedUntil: inAnHour() });
    fake.codex.setAccount(IDENTITIES.bob.email, { limitedUntil: soon });
    serve = await startServe(fake, [], { configDir });
    const res = await chat(serve, "x");
    expect(res.status).toBe(429);
    expect(res.headers.get("x-should-retry")).toBe("false");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(500);
    expect(retryAfter).toBeLessThanOrEqual(600);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("usage_limit_reached");
    expect(body.error.message).toMatch(/Every signed-in ChatGPT account \(2\)/);

    const anthropic = new Anthropic({ baseURL: serve.url, apiKey: "unused", maxRetries: 0 });
    const error = await anthropic.messages.create({ model: "claude-sonnet-4-5", max_tokens: 100, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it("x-codex-proxy-account pins a request; an unknown or ambiguous one is a 400 in the family's format", async () => {
    const { configDir } = await signIn(fake, ["ada", "cy", "bob"]); // bob preferred; ada and cy share the workspace acc-a
    serve = await startServe(fake, [], { configDir });
    let res = await chat(serve, "p1", { "x-codex-proxy-account": "ADA@example.com" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-codex-proxy-account")).toBe(IDENTITIES.ada.accountId);
    res = await chat(serve, "p2", { "x-codex-proxy-account": IDENTITIES.bob.accountId });
    expect(res.headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    expect(servedBy(fake)).toEqual([IDENTITIES.ada.email, IDENTITIES.bob.email]);

    res = await chat(serve, "p3", { "x-codex-proxy-account": "nobody@example.com" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string; param: string } }).error).toMatchObject({ param: "x-codex-proxy-account", message: expect.stringContaining("nobody@example.com") });
    res = await chat(serve, "p4", { "x-codex-proxy-account": "acc-a" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/ada@example\.com.*cy@example\.com.*email/);
    const ollama = await fetch(`${serve.url}/api/chat`, {
      method: "POST",
      headers: { "x-codex-proxy-account": "nobody@example.com" },
      body: JSON.stringify({ model: "gpt-5.5", stream: false, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(ollama.status).toBe(400);
    expect(((await ollama.json()) as { error: string }).error).toContain("nobody@example.com");
  });

  it("an account whose login is dead is set aside and shown as needing login; the others carry on", async () => {
    const { configDir, tokens } = await signIn(fake, ["bob", "ada"], { ttl: -60 }); // both access tokens expired
    fake.issuer.setRefreshState(tokens.ada!.refresh_token, "invalidated");
    serve = await startServe(fake, [], { configDir });
    const res = await chat(serve, "dead");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    const usage = (await (await fetch(`${serve.url}/v1/usage`)).json()) as { accounts: { email: string; needsLogin: boolean }[] };
    expect(usage.accounts.map((a) => [a.email, a.needsLogin])).toEqual([
      [IDENTITIES.ada.email, true],
      [IDENTITIES.bob.email, false],
    ]);
    const status = await runCli(["status", "--json"], serve.env);
    const accounts = (JSON.parse(status.stdout) as { accounts: { email: string; needsLogin: boolean }[] }).accounts;
    expect(accounts.find((a) => a.email === IDENTITIES.ada.email)?.needsLogin).toBe(true);
  });

  it("a model one account's plan lacks is served by another, and /v1/models lists every account's models", async () => {
    const { configDir } = await signIn(fake, ["bob", "ada"]);
    fake.codex.setAccount(IDENTITIES.ada.email, { models: ["gpt-5.5", "gpt-5.4-mini"] });
    serve = await startServe(fake, [], { configDir });
    const client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await waitFor(async () => (await client.models.list()).data.some((m) => m.id === "gpt-5.6-sol"), { timeoutMs: 30_000 });
    const { response } = await client.chat.completions.create({ model: "gpt-5.6-sol", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(response.headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    const { response: mini } = await client.chat.completions.create({ model: "gpt-5.4-mini", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(mini.headers.get("x-codex-proxy-account")).toBe(IDENTITIES.ada.accountId);
  });

  it("with its only account's file corrupt, a request is a 401 naming the file and the fix", async () => {
    const { configDir } = await signIn(fake, ["ada"]);
    const file = accountFile(configDir);
    writeFileSync(file, "{ not json");
    serve = await startServe(fake, [], { configDir });
    const res = await chat(serve, "corrupt");
    expect(res.status).toBe(401);
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    expect(message).toContain(`The token store ${file} is corrupt`);
    expect(message).toContain("codex-proxy login");
  });

  it("a running serve picks up an account added or removed on disk", async () => {
    const { configDir } = await signIn(fake, ["ada"]);
    serve = await startServe(fake, [], { configDir });
    expect((await chat(serve, "one", { "x-codex-proxy-account": IDENTITIES.bob.email })).status).toBe(400);
    await signIn(fake, ["bob"], { configDir });
    await waitFor(async () => (await chat(serve!, "two", { "x-codex-proxy-account": IDENTITIES.bob.email })).status === 200, { timeoutMs: 30_000 });
    // bob is preferred now (the last login): new conversations go to him
    expect((await chat(serve, "three")).headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    const bobDir = join(configDir, "accounts", `${IDENTITIES.bob.userId}--${IDENTITIES.bob.accountId}`);
    expect(existsSync(bobDir)).toBe(true);
    const out = await runCli(["logout", IDENTITIES.bob.email, "--yes"], serve.env);
    expect(out.code, out.stderr).toBe(0);
    await waitFor(async () => (await chat(serve!, "four")).headers.get("x-codex-proxy-account") === IDENTITIES.ada.accountId, { timeoutMs: 30_000 });
    // the pool knows bob is gone: no call with his token after that (not one that failed over to ada)
    const calls = fake.codex.calls.length;
    expect((await chat(serve, "five")).status).toBe(200);
    expect(fake.codex.calls.slice(calls).map((c) => c.account)).toEqual([IDENTITIES.ada.email]);
    // nothing of bob is written back when serve stops (it held his usage figures)
    expect(await serve.stop()).toBe(0);
    serve = undefined;
    expect(existsSync(bobDir)).toBe(false);
  });

  it("an account whose issuer keeps failing is set aside for a while; another account serves", async () => {
    const { configDir } = await signIn(fake, ["bob"]);
    await signIn(fake, ["ada"], { ttl: -60, configDir }); // ada preferred, her token expired
    // every refresh fails (serve's first model-list fetch at start tries too)
    fake.issuer.refreshScript.push(...Array.from({ length: 16 }, () => ({ status: 500, body: { error: "server_error" } })));
    serve = await startServe(fake, [], { configDir });
    const res = await chat(serve, "issuer-down");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    await waitFor(() => /ada@example\.com: .*other accounts serve for a minute/.test(serve!.run.stderr() + serve!.run.stdout()), { what: "the warning" });
    // for that minute new conversations go straight to bob, without waiting for ada's issuer again
    const refreshes = fake.issuer.refreshCount;
    expect((await chat(serve, "next")).headers.get("x-codex-proxy-account")).toBe(IDENTITIES.bob.accountId);
    expect(fake.issuer.refreshCount).toBe(refreshes);
    fake.issuer.refreshScript.length = 0;
  });

  it("one account limited and the other needing login: the 429 says so for each", async () => {
    const { configDir, tokens } = await signIn(fake, ["bob"], { ttl: -60 });
    fake.issuer.setRefreshState(tokens.bob!.refresh_token, "invalidated");
    await signIn(fake, ["ada"], { configDir });
    serve = await startServe(fake, [], { configDir });
    await warmedUp(fake, ["ada"]);
    fake.codex.setAccount(IDENTITIES.ada.email, { limitedUntil: inAnHour() });
    const res = await chat(serve, "both-out");
    expect(res.status).toBe(429);
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    expect(message).toMatch(/^1 of the 2 signed-in ChatGPT accounts have reached the Codex usage limit\. The first resets at .*The others cannot serve either \(bob@example\.com: /);
  });
});

describe("refresh with several accounts under load", () => {
  let fake: FakeBackendProcess;
  beforeAll(async () => {
    fake = await FakeBackendProcess.start();
  });
  afterAll(() => fake.close());

  it("500 concurrent requests with every token expired make exactly one refresh per account", async () => {
    const { configDir } = await signIn(fake, ["ada", "bob", "cy"], { ttl: -60 });
    const serve = await startServe(fake, ["--account-strategy", "round-robin"], { configDir });
    try {
      const results = await Promise.all(Array.from({ length: 500 }, (_, i) => chat(serve, `load-${i}`).then(async (res) => [res.status, res.headers.get("x-codex-proxy-account"), await res.text()] as const)));
      expect(results.filter(([status]) => status !== 200)).toEqual([]);
      const served = new Set(results.map(([, account]) => account));
      expect(served).toEqual(new Set([IDENTITIES.ada.accountId, IDENTITIES.bob.accountId]));
      expect(await fake.get<Record<string, number>>("issuer.refreshCounts")).toEqual({ [IDENTITIES.ada.email]: 1, [IDENTITIES.bob.email]: 1, [IDENTITIES.cy.email]: 1 });
    } finally {
      await serve.stop();
    }
  });
});
