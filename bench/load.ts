// A light HTTP/1.1 load generator on raw sockets, in the spirit of wrk: pre-serialized requests on keep-alive
// connections and a minimal response parser. The proxy shares two cores with the fake backend and this
// process, so a client that spends little CPU per request measures the proxy rather than itself.
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";

export interface Target {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface Timing {
  ttfb: number;
  ttlb: number;
  bytes: number;
  status: number;
}

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

/** Serialize a POST once; every request on every connection reuses the bytes. */
export function encodeRequest(target: Target): Buffer {
  const url = new URL(target.url);
  const body = Buffer.from(target.body);
  const head = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, `content-length: ${body.length}`, ...Object.entries(target.headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), body]);
}

/** One keep-alive connection that sends requests one after another and times each response. */
export class Connection {
  #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #pending?: { start: number; ttfb: number; bytes: number; status: number; resolve: (t: Timing) => void; reject: (e: Error) => void };
  // response parsing state
  #state: "head" | "chunk-size" | "chunk-data" | "chunk-end" | "trailer" | "length" = "head";
  #remaining = 0;
  readonly ready: Promise<void>;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.#socket = connect({ host: hostname, port: Number(port), noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.#socket.once("connect", resolve);
      this.#socket.once("error", reject);
    });
    this.#socket.on("data", (data: Buffer) => this.#onData(data));
    this.#socket.on("error", (error) => this.#pending?.reject(error));
    this.#socket.on("close", () => this.#pending?.reject(new Error("connection closed")));
  }

  send(request: Buffer): Promise<Timing> {
    return new Promise((resolve, reject) => {
      this.#pending = { start: performance.now(), ttfb: 0, bytes: 0, status: 0, resolve, reject };
      this.#state = "head";
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(data: Buffer): void {
    const p = this.#pending;
    if (!p) return;
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, data]) : data;
    for (;;) {
      if (this.#state === "head") {
        const end = this.#buffer.indexOf(HEAD_END);
        if (end < 0) return;
        const head = this.#buffer.subarray(0, end).toString("latin1");
        this.#buffer = this.#buffer.subarray(end + 4);
        p.status = Number(head.slice(9, 12));
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) this.#state = "chunk-size";
        else {
          this.#state = "length";
          this.#remaining = length ? Number(length[1]) : 0;
        }
      } else if (this.#state === "length") {
        const take = Math.min(this.#remaining, this.#buffer.length);
        this.#body(take);
        this.#remaining -= take;
        if (this.#remaining === 0) return this.#done();
        return;
      } else if (this.#state === "chunk-size") {
        const end = this.#buffer.indexOf(CRLF);
        if (end < 0) return;
        const size = parseInt(this.#buffer.subarray(0, end).toString("latin1"), 16);
        this.#buffer = this.#buffer.subarray(end + 2);
        if (size === 0) this.#state = "trailer";
        else {
          this.#state = "chunk-data";
          this.#remaining = size;
        }
      } else if (this.#state === "chunk-data") {
        if (!this.#buffer.length) return;
        const take = Math.min(this.#remaining, this.#buffer.length);
        this.#body(take);
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = "chunk-end";
      } else if (this.#state === "chunk-end") {
        if (this.#buffer.length < 2) return;
        this.#buffer = this.#buffer.subarray(2);
        this.#state = "chunk-size";
      } else {
        // trailer: no trailers are sent, so the blank line ends the message
        if (this.#buffer.length < 2) return;
        this.#buffer = this.#buffer.subarray(2);
        return this.#done();
      }
    }
  }

  #body(bytes: number): void {
    const p = this.#pending!;
    if (!p.ttfb && bytes > 0) p.ttfb = performance.now() - p.start;
    p.bytes += bytes;
    this.#buffer = this.#buffer.subarray(bytes);
  }

  #done(): void {
    const p = this.#pending!;
    this.#pending = undefined;
    p.resolve({ ttfb: p.ttfb, ttlb: performance.now() - p.start, bytes: p.bytes, status: p.status });
  }
}

/** `width` connections in a closed loop until `total` requests are done (or `until` ms pass). */
export async function closedLoop(url: string, request: Buffer, width: number, limit: { total?: number; until?: number }): Promise<Timing[]> {
  const connections = Array.from({ length: width }, () => new Connection(url));
  await Promise.all(connections.map((c) => c.ready));
  const out: Timing[] = [];
  let started = 0;
  const more = () => (limit.total !== undefined ? started < limit.total : performance.now() < limit.until!);
  try {
    await Promise.all(
      connections.map(async (connection) => {
        while (more()) {
          started++;
          const timing = await connection.send(request);
          if (timing.status !== 200) throw new Error(`answered ${timing.status}`);
          out.push(timing);
        }
      }),
    );
  } finally {
    connections.forEach((c) => c.close());
  }
  return out;
}
