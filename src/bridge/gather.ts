/**
 * Gathers the items that share a key for a short window and hands each batch over in one call,
 * one batch per key at a time, in arrival order. The bridge keys on the correlation id: messages of
 * one correlation that arrive close together reach Temporal in one signal-with-start (one workflow
 * task instead of one per message), and two calls for one correlation never race each other to
 * create its workflow or reorder its signals.
 */
export interface GatherOptions<T> {
  /** How long a key's batch waits for more items after its first one (ms); 0 hands items over at once. */
  windowMs: number;
  /** True when a key's open batch needs nothing more: it is handed over without waiting out the window. */
  isComplete(key: string, batch: readonly T[]): boolean;
  /** Hands one batch over. Items that arrive meanwhile form the key's next batch, handed over when this one settles. */
  handOver(key: string, batch: T[]): Promise<void>;
  /**
   * The most a batch may weigh, so that it fits in one call; the items beyond go in the next batch.
   * A single item heavier than this still goes, alone.
   */
  batchLimit?: { maxWeight: number; weightOf(item: T): number };
}

interface Waiting<T> {
  item: T;
  resolve(): void;
  reject(error: unknown): void;
}

interface KeyState<T> {
  open: Array<Waiting<T>>;
  timer?: ReturnType<typeof setTimeout>;
  inFlight: boolean;
}

export class Gatherer<T> {
  private readonly keys = new Map<string, KeyState<T>>();

  constructor(private readonly options: GatherOptions<T>) {}

  /** Adds an item; resolves (or rejects) when the batch it joined has been handed over. */
  add(key: string, item: T): Promise<void> {
    let state = this.keys.get(key);
    if (!state) {
      state = { open: [], inFlight: false };
      this.keys.set(key, state);
    }
    const done = new Promise<void>((resolve, reject) => state.open.push({ item, resolve, reject }));
    if (!state.inFlight) {
      if (
        this.options.windowMs === 0 ||
        this.options.isComplete(
          key,
          state.open.map((w) => w.item),
        )
      )
        this.handOver(key, state);
      else state.timer ??= setTimeout(() => this.handOver(key, state), this.options.windowMs);
    }
    return done;
  }

  /** Hands every open batch over now, without waiting out the windows (the bridge is stopping). */
  flushAll(): void {
    for (const [key, state] of this.keys) if (!state.inFlight) this.handOver(key, state);
  }

  /** Keys with items waiting or in flight. */
  get size(): number {
    return this.keys.size;
  }

  /** How many of the first waiting items fit in one batch (at least one). */
  private fitting(open: Array<Waiting<T>>): number {
    const limit = this.options.batchLimit;
    if (!limit) return open.length;
    let weight = 0;
    for (let i = 0; i < open.length; i++) {
      weight += limit.weightOf(open[i].item);
      if (weight > limit.maxWeight) return Math.max(1, i);
    }
    return open.length;
  }

  private handOver(key: string, state: KeyState<T>): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    const batch = state.open.splice(0, this.fitting(state.open));
    if (batch.length === 0) {
      this.keys.delete(key);
      return;
    }
    state.inFlight = true;
    const settled = (): void => {
      state.inFlight = false;
      // What arrived while this batch was in flight has waited long enough: it goes next, at once.
      if (state.open.length > 0) this.handOver(key, state);
      else this.keys.delete(key);
    };
    let call: Promise<void>;
    try {
      call = this.options.handOver(
        key,
        batch.map((w) => w.item),
      );
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      () => {
        for (const w of batch) w.resolve();
        settled();
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error);
        settled();
      },
    );
  }
}
