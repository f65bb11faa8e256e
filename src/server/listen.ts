import { STATUS_CODES, ServerResponse, type IncomingMessage, type Server } from "node:http";
import { createServer } from "node:net";
import { networkInterfaces } from "node:os";
import { toNodeHandler } from "h3/node";
import { isLoopbackAddress as isLoopback } from "./guard.js";
import { listen, type Listener } from "listhen";
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
 * (`HTTP/1.1 429 `): every status line gets the standard phrase instead.
 */
const writeHead = ServerResponse.prototype.writeHead;
function writeHeadWithReason(this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
  const [reason, headers] = typeof rest[0] === "string" ? rest : [undefined, rest[0]];
  return Reflect.apply(writeHead, this, [status, (reason as string) || STATUS_CODES[status] || "Unknown", headers]) as ServerResponse;
}

/** Listen on exactly `host:port` (a busy port is an error, never a silent move to another port). */
export async function startServer(app: H3, host: string, port: number): Promise<RunningServer> {
  await assertBindableHost(host);
  let listener: Listener;
  const handle = toNodeHandler(app);
  try {
    listener = await listen(
      (req: IncomingMessage, res: ServerResponse) => {
        res.writeHead = writeHeadWithReason as ServerResponse["writeHead"];
        return handle(req, res);
      },
      {
      // an empty range turns off get-port-please's silent fallback to another port
      port: port === 0 ? 0 : { port, alternativePortRange: [] as unknown as [number, number], random: false },
      hostname: host,
      public: !isLoopback(host),
      showURL: false,
      open: false,
      qr: false,
      tunnel: false,
      clipboard: false,
      autoClose: false,
      },
    );
  } catch (error) {
    if (/available port|EADDRINUSE/i.test(String((error as Error).message ?? error))) {
      const owner = await describePortOwner(port);
      throw new CliError(
        `Port ${port} on ${host} is in use${owner ? ` by ${owner}` : ""}. ` +
          `If codex-proxy already runs there, \`curl http://${host}:${port}/health\` answers; otherwise pick another port with --port.`,
      );
    }
    throw error;
  }
  const server = listener.server as Server;
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    server,
    async close(graceMs, abortInFlight) {
      const closing = listener.close();
      const timer = setTimeout(() => {
        abortInFlight();
        // the aborted streams end with an error frame; then nothing may hold the process
        setTimeout(() => server.closeAllConnections(), 250).unref();
      }, graceMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * A host this machine cannot bind is a usage error that says so: listhen reports every bind failure as
 * "no available port". A bind to port 0 asks the OS itself, which also resolves a host name.
 */
async function assertBindableHost(host: string): Promise<void> {
  const code = await new Promise<string | undefined>((resolve) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "unknown"));
    probe.listen(0, host, () => probe.close(() => resolve(undefined)));
  });
  if (!code || code === "EADDRINUSE" || code === "EACCES") return;
  const local = Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address)
    .filter((a): a is string => Boolean(a));
  const hint = `Use 127.0.0.1 (this machine only), 0.0.0.0 (every interface, with an API key) or an address of this machine: ${local.join(", ")}.`;
  if (code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT") throw new CliError(`Cannot listen on ${host}: it is not an address of this machine. ${hint}`, 2);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") throw new CliError(`Cannot listen on ${host}: it is not an IP address, nor a host name this machine can resolve. ${hint}`, 2);
  throw new CliError(`Cannot listen on ${host} (${code}). ${hint}`, 2);
}
