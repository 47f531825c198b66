/** The test harness's way of running a program: a program that ignores its stdin is not a failure. */
import { runCommand } from './support/run-command';

it('runs a program that exits without reading the input it was given', async () => {
  // 8 MiB is more than a pipe holds: the write is still going when `true` exits.
  const run = await runCommand('true', [], { input: Buffer.alloc(8 * 1024 * 1024) });
  expect(run.status).toBe(0);
});
