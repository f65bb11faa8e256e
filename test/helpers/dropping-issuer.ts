import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeBackend } from "../fake-backend/index.js";

export interface DroppingIssuer {
  url: string;
  close(): void;
}

/**
 * An issuer in front of the fake that hands the first `drops` token requests to it (a refresh there rotates the
 * token) and then closes the connection instead of answering: the answer is lost on the wire. `onDrop` runs
 * just before.
 */
export async function startDroppingIssuer(fake: FakeBackend, drops: number, onDrop: () => void = () => {}): Promise<DroppingIssuer> {
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const answer = await fetch(`${fake.issuerUrl}${req.url}`, { method: req.method, headers: { "content-type": req.headers["content-type"] ?? "" }, body: body || undefined });
    const text = await answer.text();
    if (req.url === "/oauth/token" && drops-- > 0) {
      onDrop();
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
