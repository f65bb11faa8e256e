import type { H3Event } from "h3";
import { isAuthorized } from "./api-key.js";
import type { ErrorInfo } from "./errors.js";
import { nodeOf } from "./node.js";

/** What the guard needs from the server's settings. */
export interface GuardOptions {
  /** the address `serve` listens on */
  host: string;
  /** the configured port (the real one is read from each request's socket, so `--port 0` works) */
  port: number;
  /** extra Host names: `name`, `name:port`, `.example.com` for its subdomains, or `*` for any */
  allowedHosts: string[];
  /** `--cors` origins, `*` for any */
  corsOrigins: string[];
  apiKeys: string[];
}

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\b/i;

/**
 * Every web page the user opens can send requests to a server on loopback. Two checks keep pages from using
 * the ChatGPT account behind it (the fixes Ollama, Jupyter and Vite shipped for the same class of attack):
 * - DNS rebinding: a page whose own name re-resolves to 127.0.0.1 can read the answers, but its requests carry
 *   its own name in `Host`. Only names of this server pass (loopback names, the `--host` address,
 *   `--allowed-host` names), or a request with a valid API key, which no page has.
 * - Cross-site requests: a page can POST a "simple" request (text/plain, a form) without a preflight and spend
 *   the plan even though it cannot read the answer. A request from a foreign `Origin` is refused, and a request
 *   from a browser (one with an `Origin`) must declare its body JSON.
 * Returns the refusal, or undefined to let the request through. Runs before any body is read.
 */
export function createRequestGuard(options: GuardOptions): (event: H3Event) => ErrorInfo | undefined {
  const anyHost = options.allowedHosts.includes("*");
  const anyOrigin = options.corsOrigins.includes("*");
  const listenName = hostName(bracketed(options.host));
  const corsOrigins = new Set(options.corsOrigins);

  // A loopback name passes on any port: a browser always names the port it talks to, and a page cannot make
  // it send a loopback name for its own server, so only a local forwarder (a dev proxy, a logging tap) sends
  // `localhost:<its port>`, and that is the user's own.
  // Every request names the same few hosts: the verdicts are remembered (a bounded few, so that made-up names
  // cannot grow the map).
  const verdicts = new Map<string, boolean>();
  const hostAllowed = (host: string, port: string): boolean => {
    const key = `${port} ${host}`;
    let allowed = verdicts.get(key);
    if (allowed === undefined) {
      const { name, port: named } = splitHost(host.toLowerCase());
      allowed = isLoopbackName(name) || (name === listenName && (named === undefined || named === port)) || allowedByUser(options.allowedHosts, name, named);
      if (verdicts.size >= 64) verdicts.clear();
      verdicts.set(key, allowed);
    }
    return allowed;
  };
  const originAllowed = (origin: string, port: string): boolean => {
    if (anyOrigin || corsOrigins.has(origin)) return true;
    const match = /^https?:\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?$/i.exec(origin);
    return !!match && match[2] === port && (isLoopbackName(match[1]!.toLowerCase()) || match[1]!.toLowerCase() === listenName);
  };

  return (event) => {
    const headers = event.req.headers;
    const port = localPort(event) ?? String(options.port);
    const host = headers.get("host");
    if (host && !anyHost && !hostAllowed(host, port) && !(options.apiKeys.length && isAuthorized(headers, options.apiKeys))) {
      return {
        status: 403,
        code: "host_not_allowed",
        message:
          `Host "${host}" does not name this server, so the request was refused (a web page may be trying DNS rebinding). ` +
          `If you reach codex-proxy under that name, allow it with --allowed-host ${splitHost(host.toLowerCase()).name} (or CODEX_PROXY_ALLOWED_HOSTS), or send the API key.`,
      };
    }
    const origin = headers.get("origin");
    if (origin === null) return undefined; // not a browser: curl, the SDKs and agents send none
    if (!originAllowed(origin, port)) {
      return {
        status: 403,
        code: "origin_not_allowed",
        message: `Requests from the web page at ${origin} are not allowed. To let a web app use codex-proxy, start it with --cors ${origin}.`,
      };
    }
    if (event.req.method === "POST" && !JSON_TYPE.test(headers.get("content-type") ?? "")) {
      return { status: 415, code: "unsupported_media_type", message: "Send the request body as JSON with `Content-Type: application/json`." };
    }
    return undefined;
  };
}

/** The port the request arrived on; undefined in-process (`app.request()`). */
function localPort(event: H3Event): string | undefined {
  const port = nodeOf(event)?.req.socket.localPort;
  return port === undefined ? undefined : String(port);
}

/** A bind address as a Host names it: a bare IPv6 address in brackets. */
const bracketed = (host: string) => (host.indexOf(":") !== host.lastIndexOf(":") && !host.startsWith("[") ? `[${host}]` : host);

/**
 * `name[:port]` or `[v6][:port]`. The name as a browser writes it: an IPv6 address in its canonical form
 * (`[0:0:0:0:0:0:0:1]` is `[::1]`), without the root's trailing dot (`localhost.`).
 */
function splitHost(host: string): { name: string; port?: string } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host);
  if (!match) return { name: host };
  let name = match[1]!.replace(/\.$/, "");
  if (name.startsWith("[")) {
    try {
      name = new URL(`http://${name}`).hostname;
    } catch {
      // not an address: compared as written
    }
  }
  return { name, port: match[2] || undefined };
}

function hostName(host: string): string {
  return splitHost(host.toLowerCase()).name;
}

/** Names that can only reach this machine: a rebinding page cannot make a browser send them. */
export function isLoopbackName(name: string): boolean {
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) ||
    name === "[::1]" ||
    /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(name) // IPv4-mapped 127.x.x.x, canonical form
  );
}

/** Whether a bind address (`--host`) is this machine's loopback. */
export function isLoopbackAddress(host: string): boolean {
  return isLoopbackName(hostName(bracketed(host)));
}

function allowedByUser(allowed: string[], name: string, port: string | undefined): boolean {
  for (const entry of allowed) {
    const { name: allowedName, port: allowedPort } = splitHost(bracketed(entry.toLowerCase()));
    if (allowedPort !== undefined && allowedPort !== port) continue;
    if (allowedName === name || (allowedName.startsWith(".") && (name.endsWith(allowedName) || name === allowedName.slice(1)))) return true;
  }
  return false;
}
