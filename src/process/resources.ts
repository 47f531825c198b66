/** What a process opened, closed in reverse order on the way out, whether it stopped or failed. */
export class Resources {
  private readonly closers: Array<() => Promise<unknown>> = [];

  /** Registers `value` to be closed with `close`, and returns it. */
  add<T>(value: T, close: (value: T) => Promise<unknown>): T {
    this.closers.push(() => close(value));
    return value;
  }

  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) {
      await close().catch(() => undefined);
    }
  }
}
