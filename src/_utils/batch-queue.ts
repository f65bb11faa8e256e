export interface BatchQueueOptions {
  /** items waiting for the consumer at which the producer is asked to pause  @default Infinity */
  highWater?: number;
  /** the queue reached `highWater`: stop producing (called once until the next resume) */
  onPause?(): void;
  /** the consumer took the waiting items after a pause: produce again */
  onResume?(): void;
  /** the consumer stopped early (`break`, `return()`): the producer can give up */
  onReturn?(): void;
}

/**
 * A push-to-pull queue that hands the consumer everything produced since it last asked as one batch: the
 * producer's arrays are passed on as they are (no copy when the consumer keeps up), with backpressure through
 * the pause/resume callbacks. One consumer; a failure is thrown after the batches queued before it.
 */
export class BatchQueue<T> implements AsyncIterableIterator<T[]> {
  /** produced, not yet taken by the consumer */
  #pending: T[] = [];
  /** set once, by {@link fail}; boxed so that any value can be thrown */
  #failure: { error: unknown } | undefined;
  /** no batch will follow the queued ones */
  #ended = false;
  #paused = false;
  #wake: (() => void) | undefined;
  readonly #options: BatchQueueOptions;

  constructor(options: BatchQueueOptions = {}) {
    this.#options = options;
  }

  // ---------- the producer's side ----------

  /** Queues `batch` (taken as it is, not copied); ignored once the queue has ended or failed. */
  push(batch: T[]): void {
    if (this.closed || !batch.length) return;
    if (this.#pending.length) for (const item of batch) this.#pending.push(item);
    else this.#pending = batch;
    if (!this.#paused && this.#pending.length >= (this.#options.highWater ?? Infinity)) {
      this.#paused = true;
      this.#options.onPause?.();
    }
    this.#notify();
  }

  /** No batch will follow: the consumer gets the queued ones, then the end. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** The consumer gets the queued batches, then `error`. False when the queue had already ended or failed. */
  fail(error: unknown): boolean {
    if (this.#ended || this.#failure) return false;
    this.#failure = { error };
    this.#notify();
    return true;
  }

  /** Ended (by the producer or a consumer that left) or failed: nothing more will be queued. */
  get closed(): boolean {
    return this.#ended || this.#failure !== undefined;
  }

  // ---------- the consumer's side ----------

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Resolves once a batch waits or the queue ended; rejects when it failed with nothing queued. Takes nothing. */
  async ready(): Promise<void> {
    while (!this.#pending.length && !this.#failure && !this.#ended) await this.#changed();
    if (!this.#pending.length && this.#failure) throw this.#failure.error;
  }

  async next(): Promise<IteratorResult<T[]>> {
    for (;;) {
      if (this.#pending.length) {
        const batch = this.#pending;
        this.#pending = [];
        if (this.#paused) {
          this.#paused = false;
          this.#options.onResume?.();
        }
        return { value: batch, done: false };
      }
      if (this.#failure) {
        const { error } = this.#failure;
        this.#failure = undefined;
        this.#ended = true;
        throw error;
      }
      if (this.#ended) return { value: undefined, done: true };
      await this.#changed();
    }
  }

  /** The consumer is done or gone: what waits is dropped, later pushes are ignored, the producer is told. */
  async return(): Promise<IteratorResult<T[]>> {
    const early = !this.#ended;
    this.#pending = [];
    this.#ended = true;
    this.#failure = undefined;
    if (early) this.#options.onReturn?.();
    return { value: undefined, done: true };
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
