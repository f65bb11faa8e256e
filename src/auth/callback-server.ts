import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../errors.js";
import { CallbackPortBusyError, LoginFailedError } from "./errors.js";
import { CALLBACK_PATH } from "./oauth.js";
import { describePortOwner } from "./port-owner.js";
import { errorPage, successPage } from "./pages.js";

export interface CallbackServerOptions {
  port: number;
  /** @default "127.0.0.1" */
  host?: string;
  expectedState: string;
  /** exchanges the code and stores the tokens; its error is shown in the browser and ends the login */
  onCode: (code: string) => Promise<void>;
}

export interface CallbackServer {
  /** settles when the login has finished (tokens stored) or failed */
  done: Promise<void>;
  close(): Promise<void>;
}

/**
 * The Codex CLI's local callback server: `/auth/callback` (state checked; a mismatch is a 400 and the login
 * keeps waiting), `/success`, and `/cancel` (which a later login uses to stop this one).
 */
export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  const host = options.host ?? "127.0.0.1";
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {}); // observed by the caller; avoid an unhandled rejection while nobody awaits yet
  let finished = false;
  const finish = (error?: Error) => {
    if (finished) return;
    finished = true;
    if (error) settle.reject(error);
    else settle.resolve();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, "text/plain", "Internal error");
      finish(new LoginFailedError(`Login failed: ${errorMessage(error)}`));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://localhost:${options.port}`);
    if (url.pathname === CALLBACK_PATH) {
      const query = url.searchParams;
      if (query.get("state") !== options.expectedState) {
        send(res, 400, "text/plain", "State mismatch");
        return;
      }
      const error = query.get("error");
      if (error) {
        const message = describeAuthorizeError(error, query.get("error_description"));
        send(res, 200, "text/html", errorPage(message));
        finish(new LoginFailedError(message));
        return;
      }
      const code = query.get("code");
      if (!code) {
        const message = "Login failed: the issuer sent no authorization code (missing_authorization_code). Run `codex-proxy login` again.";
        send(res, 200, "text/html", errorPage(message));
        finish(new LoginFailedError(message));
        return;
      }
      if (finished) {
        send(res, 200, "text/html", successPage());
        return;
      }
      try {
        await options.onCode(code);
      } catch (exchangeError) {
        const message = `Login failed: ${errorMessage(exchangeError)}`;
        send(res, 200, "text/html", errorPage(message));
        finish(new LoginFailedError(message));
        return;
      }
      // tokens are stored: the login is done even if the browser never follows the redirect
      res.writeHead(302, { location: "/success", connection: "close" }).end();
      finish();
      return;
    }
    if (url.pathname === "/success") {
      send(res, 200, "text/html", successPage());
      return;
    }
    if (url.pathname === "/cancel") {
      send(res, 200, "text/plain", "Login cancelled");
      finish(new LoginFailedError("Login cancelled: another login started and asked this one to stop."));
      return;
    }
    send(res, 404, "text/plain", "Not found");
  }

  await bindWithCancel(server, options.port, host);
  return {
    done,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": `${type}; charset=utf-8`, connection: "close", "cache-control": "no-store" });
  res.end(body);
}

function describeAuthorizeError(error: string, description: string | null): string {
  if (error === "access_denied" && description?.includes("missing_codex_entitlement")) {
    return "Login failed: Codex is not enabled for your workspace. Ask your ChatGPT workspace admin to enable Codex.";
  }
  if (error === "access_denied") {
    return `Login failed: access was denied${description ? ` (${description})` : ""}. Run \`codex-proxy login\` again and approve the request.`;
  }
  return `Login failed: ${error}${description ? ` (${description})` : ""}.`;
}

/** Bind the exact port. If it is busy, ask an earlier login server there to `/cancel` (once), then retry. */
async function bindWithCancel(server: Server, port: number, host: string): Promise<void> {
  let cancelSent = false;
  for (let attempt = 0; ; attempt++) {
    try {
      await listen(server, port, host);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    }
    if (!cancelSent) {
      cancelSent = true;
      await fetch(`http://${host}:${port}/cancel`, { signal: AbortSignal.timeout(1000) }).catch(() => {});
    }
    if (attempt >= 10) {
      const owner = await describePortOwner(port);
      throw new CallbackPortBusyError(
        `Port ${port} is in use${owner ? ` by ${owner}` : ""}, and the login callback needs exactly this port. ` +
          `Stop that process (another login?), or sign in without it: \`codex-proxy login --device\`.`,
        "codex-proxy login --device",
      );
    }
    await sleep(200);
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}
