/**
 * Interrupting `npm run bench`: the first Ctrl-C ends the load and settles, a second aborts. The
 * abort writes no result, and leaves none of the servers and processes of its local stack running.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compiledEntryPoint } from '../../src/devstack/local-stack';
import { pollUntil } from '../support/poll';

let benchPid: number | undefined;

// The bench leads its own process group, so a test that fails takes its servers down with it.
afterAll(() => {
  if (benchPid === undefined) return;
  try {
    process.kill(-benchPid, 'SIGKILL');
  } catch {
    // already gone
  }
});

/** Pids of the processes whose command line names `dir` (the stack's servers, worker and bridge). */
function processesUsing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('npm run bench, interrupted twice', () => {
  it('aborts without a result and stops every process of its local stack', async () => {
    const out = mkdtempSync(join(tmpdir(), 'orch-bench-abort-'));
    const child = spawn(
      process.execPath,
      [compiledEntryPoint('bench/cli'), '--rate', '600', '--duration', '5m', '--out', out],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    benchPid = child.pid;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    const stackDir = await pollUntil(
      'the local stack and its first progress line',
      () => (/\[orchestrator +\d+s\]/.test(output) ? /local stack in (\S+)/.exec(output)?.[1] : undefined),
      90_000,
    );
    expect(processesUsing(stackDir).length).toBeGreaterThan(0);
    child.kill('SIGINT');
    await pollUntil(
      'the first interrupt taken',
      () => (output.includes('ending the load, then settling') ? true : undefined),
      10_000,
    );
    child.kill('SIGINT');

    expect(await exited).toBe(130);
    benchPid = undefined;
    expect(output).toContain('received SIGINT again: aborting without a result; stopping what the bench started');
    expect(readdirSync(out)).not.toContain('result.json');
    expect(processesUsing(stackDir)).toEqual([]);
  }, 150_000);
});
