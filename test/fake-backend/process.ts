import { fork, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = resolve(import.meta.dirname, "main.ts");

/** A message to the fake's process: read, write or call whatever `path` names on the FakeBackend there. */
export type ControlRequest = { id: number; op: "get" | "set" | "call"; path: string; args: unknown[] };
export type ControlReply = { id: number; value?: unknown; error?: string };

/**
 * The fake backend in a process of its own, driven over IPC. Load tests use it so that the fake does not
 * compete with the test's clients for the same event loop: on a busy or single-core machine an in-process
 * fake that writes long answers starves everything else in the test process, and timings stop meaning
 * anything. `path` names a property of the remote FakeBackend, e.g. `codex.calls` or `issuer.refreshCount`.
 */
export class FakeBackendProcess {
  issuerUrl = "";
  upstreamUrl = "";
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextId = 0;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", (message: ControlReply) => {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.error !== undefined) pending.reject(new Error(`fake backend: ${message.error}`));
      else pending.resolve(message.value);
    });
    this.#exited = new Promise((resolveExit) =>
      child.once("exit", () => {
        for (const pending of this.#pending.values()) pending.reject(new Error("fake backend process exited"));
        this.#pending.clear();
        resolveExit();
      }),
    );
  }

  static async start(): Promise<FakeBackendProcess> {
    const child = fork(MAIN, ["--control"], { cwd: ROOT, execArgv: ["--import", "tsx"], serialization: "advanced", stdio: ["ignore", "pipe", "inherit", "ipc"] });
    const fake = new FakeBackendProcess(child);
    const urls = await new Promise<{ issuerUrl: string; upstreamUrl: string }>((resolveUrls, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n")[0];
        if (out.includes("\n")) resolveUrls(JSON.parse(line!));
      });
      child.once("exit", (code) => reject(new Error(`fake backend process exited (${code}) before it listened`)));
    });
    fake.issuerUrl = urls.issuerUrl;
    fake.upstreamUrl = urls.upstreamUrl;
    return fake;
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.#send("get", path, []) as Promise<T>;
  }

  set(path: string, value: unknown): Promise<void> {
    return this.#send("set", path, [value]) as Promise<void>;
  }

  /** Call the method at `path` with `this` bound to its owner, e.g. `call("codex.calls.slice", 10)`. */
  call<T = unknown>(path: string, ...args: unknown[]): Promise<T> {
    return this.#send("call", path, args) as Promise<T>;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGTERM");
    await this.#exited;
  }

  #send(op: ControlRequest["op"], path: string, args: unknown[]): Promise<unknown> {
    const id = ++this.#nextId;
    return new Promise((resolveValue, reject) => {
      this.#pending.set(id, { resolve: resolveValue, reject });
      this.#child.send({ id, op, path, args } satisfies ControlRequest);
    });
  }
}

/** Carry out one control request against `root` (runs in the fake's process). */
export async function answerControl(root: object, request: ControlRequest): Promise<ControlReply> {
  try {
    const keys = request.path.split(".");
    const last = keys.pop()!;
    let owner: Record<string, unknown> = root as Record<string, unknown>;
    for (const key of keys) owner = owner[key] as Record<string, unknown>;
    if (request.op === "get") return { id: request.id, value: owner[last] };
    if (request.op === "set") {
      owner[last] = request.args[0];
      return { id: request.id };
    }
    const method = owner[last] as (...args: unknown[]) => unknown;
    return { id: request.id, value: await method.apply(owner, request.args) };
  } catch (error) {
    return { id: request.id, error: String(error) };
  }
}
