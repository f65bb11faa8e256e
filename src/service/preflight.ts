import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { CliError } from "../errors.js";
import { describePortOwner } from "../auth/port-owner.js";

/** Whether `host:port` can be listened on now; an address that is not this machine's is an error of its own. */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve(false);
      else reject(new CliError(`Cannot listen on ${host}:${port} (${error.code ?? error.message}): is ${host} an address of this machine? The service was not changed.`, 2));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Refuses a port someone else holds before anything is written (our own running service may hold it: it restarts). */
export async function assertPortAvailable(host: string, port: number, heldByOurService: () => Promise<boolean>): Promise<void> {
  if (port === 0 || (await portIsFree(host, port)) || (await heldByOurService())) return;
  const owner = await describePortOwner(port);
  throw new CliError(`Port ${port} on ${host} is in use${owner ? ` by ${owner}` : ""}: the service was not changed. Pick another port with --port.`);
}

/** The files an install overwrites, as they were, to put back if the new service does not come up. */
export class FileSnapshot {
  private readonly saved = new Map<string, string | undefined>();
  constructor(paths: string[]) {
    for (const path of paths) this.saved.set(path, existsSync(path) ? readFileSync(path, "utf8") : undefined);
  }
  existed(path: string): boolean {
    return this.saved.get(path) !== undefined;
  }
  restore(): void {
    for (const [path, text] of this.saved) {
      if (text === undefined) rmSync(path, { force: true });
      else writeFileSync(path, text, { mode: 0o600 });
    }
  }
}
