import { STATUS_CODES, ServerResponse, createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server } from "node:http";
import { networkInterfaces } from "node:os";
import { toNodeHandler } from "h3/node";
import type { H3 } from "h3";
import { CliError } from "../errors.js";
import { describePortOwner } from "../auth/port-owner.js";

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  /**
   * Stop accepting connections, let open responses finish for up to `graceMs`, then call `abortInFlight`
   * and drop whatever connections remain.
   */
  close(graceMs: number, abortInFlight: () => void): Promise<void>;
}

export { isLoopbackAddress as isLoopback } from "./guard.js";

/**
 * h3 answers with a web Response whose statusText is "", and srvx passes that on as the reason phrase
 * (`HTTP/1.1 429 `): every status line gets the standard phrase instead. A subclass, given to the server, rather than
 * a method set on each response (which would give every response object a shape of its own).
 */
class ReasonedResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  override writeHead(status: number, ...rest: unknown[]): this {
    const [reason, headers] = typeof rest[0] === "string" ? rest : [undefined, rest[0]];
    return super.writeHead(status, (reason as string) || STATUS_CODES[status] || "Unknown", headers as OutgoingHttpHeaders);
  }
}

/** Listen on exactly `host:port` (a busy port is an error, never a silent move to another port). */
export async function startServer(app: H3, host: string, port: number): Promise<RunningServer> {
  const handle = toNodeHandler(app);
  // plain node:http (no listhen, whose port finder, URL printer and per-request shutdown tracking cost start time)
  const server = createServer({ ServerResponse: ReasonedResponse }, (req, res) => handle(req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      const owner = await describePortOwner(port);
      throw new CliError(
        `Port ${port} on ${host} is in use${owner ? ` by ${owner}` : ""}. ` +
          `If codex-proxy already runs there, \`curl http://${host}:${port}/health\` answers; otherwise pick another port with --port.`,
      );
    }
    throw bindError(host, code) ?? error;
  }
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    server,
    async close(graceMs, abortInFlight) {
      // Node's close() drops idle kept-alive connections, and each busy one once its answer ends
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const timer = setTimeout(() => {
        abortInFlight();
        // the aborted streams end with an error frame; then nothing may hold the process
        setTimeout(() => server.closeAllConnections(), 250).unref();
      }, graceMs);
      try {
        await closed;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A host this machine cannot bind is a usage error that says so (not "port in use"). */
function bindError(host: string, code: string | undefined): CliError | undefined {
  const local = Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address)
    .filter((a): a is string => Boolean(a));
  const hint = `Use 127.0.0.1 (this machine only), 0.0.0.0 (every interface, with an API key) or an address of this machine: ${local.join(", ")}.`;
  if (code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT") return new CliError(`Cannot listen on ${host}: it is not an address of this machine. ${hint}`, 2);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return new CliError(`Cannot listen on ${host}: it is not an IP address, nor a host name this machine can resolve. ${hint}`, 2);
  return undefined;
}
