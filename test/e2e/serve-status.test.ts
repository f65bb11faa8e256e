import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeBackend } from "../fake-backend/index.js";
import { startServedFake, type ServeHandle } from "../helpers/serve.js";

let fake: FakeBackend;
let serve: ServeHandle;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ fake, serve, stop } = await startServedFake(["--api-key", "status-key"]));
});
afterAll(() => stop?.());

/** The status line exactly as the server wrote it, read from a raw socket. */
function statusLine(method: string, path: string, body = "", headers: Record<string, string> = { authorization: "Bearer status-key" }): Promise<string> {
  const url = new URL(serve.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
      const end = received.indexOf("\r\n");
      if (end >= 0) {
        socket.destroy();
        resolve(received.slice(0, end));
      }
    });
    socket.on("error", reject);
    const head = Object.entries({ host: url.host, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), connection: "close", ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n${body}`);
  });
}

const chat = (content: string, stream = false) => JSON.stringify({ model: "gpt-5.5", stream, messages: [{ role: "user", content }] });

describe("status lines", () => {
  it("carry the standard reason phrase, on answers, streams and errors alike", { timeout: 30_000 }, async () => {
    expect(await statusLine("GET", "/health")).toBe("HTTP/1.1 200 OK");
    expect(await statusLine("POST", "/v1/chat/completions", chat("hi"))).toBe("HTTP/1.1 200 OK");
    expect(await statusLine("POST", "/v1/chat/completions", chat("hi", true))).toBe("HTTP/1.1 200 OK");
    expect(await statusLine("POST", "/v1/chat/completions", "{")).toBe("HTTP/1.1 400 Bad Request");
    expect(await statusLine("POST", "/v1/chat/completions", chat("hi"), {})).toBe("HTTP/1.1 401 Unauthorized");
    expect(await statusLine("GET", "/v1/nothing-here")).toBe("HTTP/1.1 404 Not Found");
    expect(await statusLine("POST", "/v1/chat/completions", chat("[[scenario:usage_limit]]"))).toBe("HTTP/1.1 429 Too Many Requests");
    expect(await statusLine("POST", "/v1/chat/completions", chat("[[scenario:blocked]]"))).toBe("HTTP/1.1 502 Bad Gateway");
    expect(fake.codex.calls.length).toBeGreaterThan(0);
  });
});
