import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeIssuer } from "./issuer.js";
import { FakeCodex } from "./codex.js";
import type { FakeRequest, FakeResponse } from "./http.js";

export { FakeIssuer } from "./issuer.js";
export { makeJwt, readJwt } from "./jwt.js";
export { FakeCodex, scenarioReply, type Reply } from "./codex.js";
export { responseSteps, sseFrame, type Step } from "./events.js";

/** Every request the fake saw, for assertions. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** the query string, with its `?` */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * The fake "Sign in with ChatGPT" issuer and Codex backend in one real HTTP server on a free port.
 * `issuerUrl` goes into CODEX_PROXY_AUTH_URL, `upstreamUrl` into CODEX_PROXY_UPSTREAM_URL.
 */
export class FakeBackend {
  readonly issuer = new FakeIssuer(() => this.issuerUrl);
  readonly codex = new FakeCodex(this.issuer);
  readonly requests: RecordedRequest[] = [];
  /** keep every request in `requests` and `codex.calls`; off for the standalone runner */
  set record(on: boolean) {
    this.#record = on;
    this.codex.record = on;
  }
  #record = true;
  #server?: Server;
  #url = "";

  get issuerUrl(): string {
    return this.#url;
  }

  get upstreamUrl(): string {
    return `${this.#url}/backend-api/codex`;
  }

  async start(port = 0): Promise<this> {
    this.#server = createServer((req, res) => {
      this.#dispatch(req, res).catch((error) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ detail: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, "127.0.0.1", resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", this.#url);
    const request: FakeRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers as FakeRequest["headers"],
      body: Buffer.concat(chunks).toString("utf8"),
    };
    if (this.#record) this.requests.push({ method: request.method, path: request.path, query: url.search, headers: req.headers, body: request.body });
    if (await this.codex.handle(req, res, request.path, request.query, request.body)) return;
    const answer: FakeResponse = (await this.issuer.handle(request)) ?? { status: 404, headers: { "content-type": "application/json" }, body: '{"detail":"Not Found"}' };
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }
}

export async function startFakeBackend(): Promise<FakeBackend> {
  return new FakeBackend().start();
}
