import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import { errorMessage } from "../errors.js";
import { BatchQueue } from "../_utils/batch-queue.js";
import type { CancelSignal } from "../_utils/cancel.js";
import { formatDuration } from "../_utils/format.js";
import { UpstreamError } from "./errors.js";
import { UpstreamEventParser, type UpstreamEvent } from "./sse.js";
import type { ResponsesUsage } from "../translate/responses/types.js";

export interface ResponseHead {
  status: number;
  headers: IncomingHttpHeaders;
  /** the body of a non-200 answer (its first 64 KB), for the error message */
  text: string;
}

export interface ResponseEventStreamOptions {
  signal?: CancelSignal;
  /** give up when the backend sends nothing for this long */
  idleTimeoutMs: number;
  /** event types not to parse (an answer built whole: `PARTIAL_EVENTS`) */
  skip?: ReadonlySet<string>;
}

/** events waiting for a slow consumer before the socket is paused */
const HIGH_WATER = 512;
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * One streamed `POST /responses`, as an undici dispatch handler: its {@link head}, then its {@link events} in
 * batches. Bytes are parsed as they arrive, once per network read (a read carries many body chunks), and no
 * stream objects, async generators or per-read timers sit between the socket and the translators. The events
 * end right at the terminal event, while undici reads the rest of the body on its own, so the keep-alive
 * connection stays reusable.
 */
export class ResponseEventStream implements Dispatcher.DispatchHandler {
  /** the status and headers; for a non-200 answer, once its body is in. Rejects when no answer came. */
  readonly head: Promise<ResponseHead>;
  /** the events of a 200 answer, one batch per network read; a broken or stalled stream throws */
  readonly events: BatchQueue<UpstreamEvent>;
  #resolveHead!: (head: ResponseHead) => void;
  #rejectHead!: (error: unknown) => void;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  /** a non-200 answer's body, whole chunks (a character can span two), decoded once it is in */
  #errorBody: Buffer[] = [];
  #errorBodySize = 0;
  /** body chunks of the network read being processed */
  #chunks: Buffer[] = [];
  #controller: Dispatcher.DispatchController | undefined;
  #responseEnded = false;
  readonly #parser: UpstreamEventParser;
  #idle: NodeJS.Timeout | undefined;
  readonly #options: ResponseEventStreamOptions;
  readonly #onAbort = () => this.#abort(this.#options.signal?.reason);

  constructor(options: ResponseEventStreamOptions) {
    this.#options = options;
    this.#parser = new UpstreamEventParser(options.skip);
    this.head = new Promise((resolve, reject) => {
      this.#resolveHead = resolve;
      this.#rejectHead = reject;
    });
    this.head.catch(() => {}); // read by the client; never an unhandled rejection when it gave up first
    this.events = new BatchQueue<UpstreamEvent>({
      highWater: HIGH_WATER,
      onPause: () => this.#controller?.pause(),
      onResume: () => this.#controller?.resume(),
      // the consumer left before the terminal event: the rest of the answer is not wanted
      onReturn: () => this.#abort(new DOMException("The answer is no longer wanted", "AbortError")),
    });
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The token counts of the terminal event, once it has arrived. */
  get usage(): ResponsesUsage | undefined {
    return (this.#parser.terminal as { response?: { usage?: ResponsesUsage } } | undefined)?.response?.usage ?? undefined;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // the idle limit covers the wait for the headers too: a backend that never answers is a stall as well
    this.#idle ??= setTimeout(() => this.#onIdle(), this.#options.idleTimeoutMs);
    if (this.#options.signal?.aborted) this.#abort(this.#options.signal.reason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.#status = status;
    this.#headers = headers;
    if (status !== 200) return; // the head waits for the error body
    this.#idle?.refresh();
    this.#resolveHead({ status, headers, text: "" });
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#status !== 200) {
      if (this.#errorBodySize < ERROR_BODY_LIMIT) {
        this.#errorBody.push(chunk);
        this.#errorBodySize += chunk.length;
      }
      return;
    }
    // a network read holds many body chunks (often one per event): parse them together once it is done
    this.#chunks.push(chunk);
    if (this.#chunks.length === 1) queueMicrotask(this.#flush);
  }

  onResponseEnd(): void {
    this.#responseEnded = true;
    clearTimeout(this.#idle);
    this.#unlisten();
    if (this.#status !== 200) return this.#resolveErrorHead();
    this.#flush();
    if (!this.events.closed) this.#deliver(this.#parser.end());
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#responseEnded = true;
    clearTimeout(this.#idle);
    this.#unlisten();
    if (!this.#status) return this.#rejectHead(error);
    if (this.#status !== 200) return this.#resolveErrorHead();
    this.#flush(); // what arrived before the failure still goes out
    const aborted = this.#options.signal?.aborted;
    this.#fail(aborted ? this.#options.signal!.reason : error instanceof UpstreamError ? error : new UpstreamError("bad_gateway", `The Codex backend stream broke: ${errorMessage(error)}`));
  }

  readonly #flush = () => {
    if (!this.#chunks.length) return;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#idle?.refresh();
    if (this.events.closed) return; // after the terminal event: let undici read on to the end
    this.#deliver(this.#parser.feed(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
  };

  #deliver(batch: UpstreamEvent[]): void {
    this.events.push(batch);
    if (this.#parser.failure) this.#fail(this.#parser.failure);
    else if (this.#parser.completed) this.events.end();
  }

  #resolveErrorHead(): void {
    this.#resolveHead({ status: this.#status, headers: this.#headers, text: Buffer.concat(this.#errorBody).toString("utf8") });
  }

  #fail(failure: unknown): void {
    if (!this.events.fail(failure)) return;
    clearTimeout(this.#idle);
    if (!this.#responseEnded) this.#controller?.abort(failure instanceof Error ? failure : new Error(String(failure)));
  }

  #onIdle(): void {
    // after the terminal event the timer only guards against a body that never ends
    if (this.events.closed) return this.#abort(new Error("The Codex backend did not end the finished answer"));
    this.#fail(new UpstreamError("timeout", `The Codex backend sent nothing for ${formatDuration(this.#options.idleTimeoutMs)}; the answer was abandoned`));
  }

  #abort(reason: unknown): void {
    clearTimeout(this.#idle);
    this.#unlisten();
    if (this.#responseEnded) return;
    const error = reason instanceof Error ? reason : new DOMException("The operation was aborted", "AbortError");
    this.#controller?.abort(error);
  }

  #unlisten(): void {
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
  }
}
