/**
 * Runs tasks that share a key one after another, in the order they were given, while tasks with
 * different keys run side by side. The bridge keys on the correlation id: two signals of one
 * correlation handed to Temporal at once would both try to create its workflow (one create fails
 * and is retried as a signal, a wasted database write), and could be delivered out of order.
 */
export class OneAtATime {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    // A failed task does not hold up the next one with the same key.
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
