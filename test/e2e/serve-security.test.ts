import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { accountFile } from "../helpers/accounts.js";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, type FakeBackend } from "../fake-backend/index.js";
import { cliEnv, runCli, tempDir } from "../helpers/cli.js";
import { signedInConfigDir, startServe, type ServeHandle } from "../helpers/serve.js";
import { waitFor } from "../helpers/wait.js";

let fake: FakeBackend;
beforeAll(async () => {
  fake = await startFakeBackend();
});
afterAll(() => fake.close());

/** A request with exactly these headers (fetch does not let a caller choose Host). */
function send(url: string, path: string, { method = "POST", headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = request(target, { method, headers: { ...(body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) }), ...headers } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const families = [
  { path: "/v1/chat/completions", body: { model: "gpt-5.5", messages: [{ role: "user", content: "spend the plan" }] }, error: (b: any) => b.error.message as string },
  { path: "/api/chat", body: { model: "gpt-5.5", stream: false, messages: [{ role: "user", content: "spend the plan" }] }, error: (b: any) => b.error as string },
  { path: "/v1/messages", body: { model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "spend the plan" }] }, error: (b: any) => (b.type === "error" ? (b.error.message as string) : undefined) },
];

describe("DNS rebinding: the Host must name this server", () => {
  let serve: ServeHandle;
  let port: string;
  beforeAll(async () => {
    serve = await startServe(fake);
    port = new URL(serve.url).port;
  });
  afterAll(() => serve.stop());

  it("refuses a foreign Host on every family before anything reaches the backend, and says how to allow it", async () => {
    const before = fake.codex.calls.length;
    const models = await send(serve.url, "/v1/models", { method: "GET", headers: { host: `evil.example:${port}` } });
    expect(models.status).toBe(403);
    expect(JSON.parse(models.body).error).toMatchObject({ type: "permission_error", code: "host_not_allowed" });
    expect(JSON.parse(models.body).error.message).toContain("--allowed-host evil.example");
    for (const family of families) {
      const res = await send(serve.url, family.path, { headers: { host: `evil.example:${port}`, "content-type": "application/json" }, body: JSON.stringify(family.body) });
      expect(res.status, family.path).toBe(403);
      expect(family.error(JSON.parse(res.body)), family.path).toMatch(/does not name this server/);
    }
    expect(fake.codex.calls.length).toBe(before);
  });

  it("accepts loopback names and addresses (a local forwarder may name its own port), and nothing that only starts like one", async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `app.localhost:${port}`, "localhost", `LOCALHOST:${port}`, "127.0.0.1:5173", `localhost.:${port}`, `[0:0:0:0:0:0:0:1]:${port}`, `[::ffff:7f00:1]:${port}`, `[::ffff:127.0.0.1]:${port}`]) {
      expect((await send(serve.url, "/v1/models", { method: "GET", headers: { host } })).status, host).toBe(200);
    }
    expect((await send(serve.url, "/v1/models", { method: "GET", headers: { host: `localhost.evil.example:${port}` } })).status).toBe(403);
    expect((await send(serve.url, "/v1/models", { method: "GET", headers: { host: `127.0.0.1.evil.example:${port}` } })).status).toBe(403);
  });

  it("accepts names added with --allowed-host and CODEX_PROXY_ALLOWED_HOSTS", async () => {
    const allowed = await startServe(fake, ["--allowed-host", "proxy.lan", "--allowed-host", ".docker.internal", "--allowed-host", "fd00::5"], { env: { CODEX_PROXY_ALLOWED_HOSTS: "ignored.example" } });
    const fromEnv = await startServe(fake, [], { env: { CODEX_PROXY_ALLOWED_HOSTS: "a.example, b.example" } });
    try {
      const get = (url: string, host: string) => send(url, "/v1/models", { method: "GET", headers: { host } }).then((r) => r.status);
      expect(await get(allowed.url, "proxy.lan:8787")).toBe(200);
      expect(await get(allowed.url, "host.docker.internal:8787")).toBe(200);
      expect(await get(allowed.url, "[fd00::5]:8787")).toBe(200);
      expect(await get(allowed.url, "ignored.example")).toBe(403); // the flag wins over the variable
      expect(await get(fromEnv.url, "b.example")).toBe(200);
      expect(await get(fromEnv.url, "c.example")).toBe(403);
    } finally {
      await allowed.stop();
      await fromEnv.stop();
    }
  });

  it("lets a request with a valid API key name any Host (a container calling host.docker.internal)", async () => {
    const keyed = await startServe(fake, ["--api-key", "k-123456"]);
    try {
      const ask = (headers: Record<string, string>) =>
        send(keyed.url, "/v1/chat/completions", { headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(families[0]!.body) });
      expect((await ask({ host: "host.docker.internal:8787", authorization: "Bearer k-123456" })).status).toBe(200);
      expect((await ask({ host: "host.docker.internal:8787", authorization: "Bearer wrong" })).status).toBe(403);
    } finally {
      await keyed.stop();
    }
  });
});

describe("cross-site requests: a foreign Origin cannot spend the plan", () => {
  let serve: ServeHandle;
  let cors: ServeHandle;
  beforeAll(async () => {
    [serve, cors] = await Promise.all([startServe(fake), startServe(fake, ["--cors", "https://app.example"])]);
  });
  afterAll(async () => {
    await serve.stop();
    await cors.stop();
  });

  const simple = [
    ["text/plain;charset=UTF-8", (b: unknown) => JSON.stringify(b)],
    ["application/x-www-form-urlencoded", (b: unknown) => JSON.stringify(b)],
    ["multipart/form-data; boundary=x", (b: unknown) => `--x\r\ncontent-disposition: form-data; name="${JSON.stringify(b)}"\r\n\r\n\r\n--x--`],
  ] as const;

  it("refuses every simple request shape from a foreign origin, with or without --cors, before the backend", async () => {
    const before = fake.codex.calls.length;
    for (const server of [serve, cors]) {
      for (const family of families) {
        for (const [type, encode] of simple) {
          const res = await send(server.url, family.path, { headers: { origin: "https://evil.example", "content-type": type }, body: encode(family.body) });
          expect(res.status, `${family.path} ${type}`).toBe(403);
          expect(family.error(JSON.parse(res.body))).toContain("--cors https://evil.example");
        }
      }
    }
    expect(fake.codex.calls.length).toBe(before);
  });

  it("an allowed origin must declare JSON; this server's own origin and a request without Origin pass", async () => {
    const body = JSON.stringify(families[0]!.body);
    const plain = await send(cors.url, "/v1/chat/completions", { headers: { origin: "https://app.example", "content-type": "text/plain" }, body });
    expect(plain.status).toBe(415);
    expect(plain.headers["access-control-allow-origin"]).toBe("https://app.example"); // the app can read why
    expect((await send(cors.url, "/v1/chat/completions", { headers: { origin: "https://app.example", "content-type": "application/json" }, body })).status).toBe(200);
    const own = `http://127.0.0.1:${new URL(serve.url).port}`;
    expect((await send(serve.url, "/v1/chat/completions", { headers: { origin: own, "content-type": "application/json" }, body })).status).toBe(200);
    // curl and the SDKs send no Origin; curl's default form type is fine there
    expect((await send(serve.url, "/v1/chat/completions", { headers: { "content-type": "application/x-www-form-urlencoded" }, body })).status).toBe(200);
  });

  it("preflights from a foreign origin are still refused", async () => {
    const res = await send(cors.url, "/v1/chat/completions", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(res.status).toBe(403);
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("API keys", () => {
  const env = () => cliEnv({ CODEX_PROXY_CONFIG_DIR: signedInConfigDir(fake).configDir, CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl });

  it("a flag's key is taken whole, commas and all: its fragments open nothing", async () => {
    const serve = await startServe(fake, ["--api-key", "ab,long-secret-1"]);
    try {
      const ask = (key: string) => send(serve.url, "/v1/models", { method: "GET", headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
      expect(await ask("ab")).toBe(401);
      expect(await ask("long-secret-1")).toBe(401);
      expect(await ask("ab,long-secret-1")).toBe(200);
    } finally {
      await serve.stop();
    }
  });

  it("an empty or non-ASCII key is a usage error that names its position, never its value", async () => {
    const empty = await runCli(["serve", "--port", "0", "--api-key", "good-key-1", "--api-key", ""], env());
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("key #2 of --api-key is empty");
    const accented = await runCli(["serve", "--port", "0", "--api-key", "clé-secrète"], env());
    expect(accented.code).toBe(2);
    expect(accented.stderr).toContain("printable ASCII");
    expect(accented.stderr).not.toContain("secr");
    const list = await runCli(["serve", "--port", "0"], { ...env(), CODEX_PROXY_API_KEY: "first-key,,third-key" });
    expect(list.code).toBe(2);
    expect(list.stderr).toContain("key #2 of CODEX_PROXY_API_KEY is empty");
    expect(list.stderr).not.toContain("first-key");
  });
});

describe("the config dir", () => {
  it("a link planted where a temp file could be expected is never followed", async () => {
    const serve = await startServe(fake);
    try {
      const outside = join(tempDir(), "precious.txt");
      writeFileSync(outside, "keep me");
      // the names the usage and model caches once wrote through: `<file>.<pid>.tmp`
      for (const file of ["usage.json", "models-cache.json"]) symlinkSync(outside, `${accountFile(serve.configDir, file)}.${serve.run.child.pid}.tmp`);
      const res = await fetch(`${serve.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(families[0]!.body) });
      expect(res.status).toBe(200);
      await waitFor(() => existsSync(accountFile(serve.configDir, "usage.json")), { what: "usage.json to be written" });
      expect(readFileSync(outside, "utf8")).toBe("keep me");
    } finally {
      await serve.stop();
    }
  });
});

describe("a config dir another user could tamper with is refused", () => {
  /** A dir owned by someone else: as root, one we give away; otherwise a system dir. */
  function foreignDir(): string {
    if (process.getuid!() !== 0) return "/usr";
    const dir = join(tempDir(), "theirs");
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 4321, 4321);
    return dir;
  }
  const env = (configDir: string) => cliEnv({ CODEX_PROXY_CONFIG_DIR: configDir, CODEX_PROXY_AUTH_URL: fake.issuerUrl, CODEX_PROXY_UPSTREAM_URL: fake.upstreamUrl });

  it("owned by another user, directly or through a link: every command refuses it with the fix, doctor reports it", async () => {
    const theirs = foreignDir();
    const link = join(tempDir(), "link");
    symlinkSync(theirs, link);
    for (const dir of [theirs, link]) {
      const status = await runCli(["status"], env(dir));
      expect(status.code, dir).toBe(1);
      expect(status.stderr).toMatch(/is owned by another user \(uid \d+\)/);
      expect(status.stderr).toMatch(/--config-dir|CODEX_PROXY_CONFIG_DIR/);
      expect((await runCli(["serve", "--port", "0"], env(dir))).code).toBe(1);
    }
    const doctor = await runCli(["doctor", "--json", "--no-refresh"], env(theirs));
    const check = JSON.parse(doctor.stdout).checks.find((c: { name: string }) => c.name === "Config dir");
    expect(check).toMatchObject({ status: "fail" });
    expect(check.detail).toMatch(/owned by another user/);
    expect(check.fix).toBeTruthy();
  });

  it("writable by others, or to be created inside a dir others can write to", async () => {
    const open = signedInConfigDir(fake).configDir;
    chmodSync(open, 0o777);
    const status = await runCli(["status"], env(open));
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`chmod 700 ${open}`);
    const shared = join(tempDir(), "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o777); // not sticky, unlike /tmp
    const login = await runCli(["login", "--device"], env(join(shared, "codex-proxy")));
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(/where the config dir .* would be created, is writable by other users/);
  });

  it("a parent writable only by the user's own group (umask 002, user private groups) is fine", async () => {
    const parent = join(tempDir(), "dot-config");
    mkdirSync(parent);
    chmodSync(parent, 0o775); // owned by us, group = our primary group
    const status = await runCli(["status"], env(join(parent, "codex-proxy")));
    expect(status.stderr).not.toMatch(/writable by other users|owned by another user/);
  });
});
