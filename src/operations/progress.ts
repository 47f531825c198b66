/**
 * A progress bar for batches, on stderr so stdout stays the report: `[#####.....] 120/500`, redrawn
 * in place on a terminal, and a line at every 10% otherwise (a CI log, a file).
 */

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Progress {
  /** One more item done. */
  tick(): void;
  /** Ends the bar (a newline after the last redraw on a terminal). */
  done(): void;
}

const WIDTH = 30;

/** `re-driving [#########.....................] 120/500` */
export function progressLine(label: string, done: number, total: number, width = WIDTH): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** A bar for `total` items, or a no-op when the batch is smaller than `minimum`. */
export function progressBar(label: string, total: number, stream: ProgressStream, minimum = 20): Progress {
  if (total < minimum) return { tick: () => undefined, done: () => undefined };
  let count = 0;
  let lastTenth = 0;
  let lastDraw = 0;
  const tty = stream.isTTY === true;
  const draw = (): void =>
    void stream.write(tty ? `\r${progressLine(label, count, total)}` : `${progressLine(label, count, total)}\n`);
  if (tty) draw();
  return {
    tick() {
      count = Math.min(total, count + 1);
      if (tty) {
        // At most ~20 redraws a second: a terminal is slower than a fast batch.
        const now = Date.now();
        if (now - lastDraw >= 50 || count === total) {
          lastDraw = now;
          draw();
        }
        return;
      }
      const tenth = Math.floor((count * 10) / total);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        draw();
      }
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

/** Runs `fn` over `items` with at most `concurrency` at once; results in the items' order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  });
  await Promise.all(lanes);
  return results;
}
