/**
 * `npm start -- --engine cluster`, as a user runs it (on free ports and a throwaway data folder), twice on the same
 * data.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runUp } from '../support/run-command';
import { getFreePort } from '../../src/devstack/processes';

/** Processes whose command line names `dir`: the servers the stack started on it. */
function processesOn(dir: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        return '';
      }
    })
    .filter((cmdline) => cmdline.includes(dir) && !cmdline.includes('devstack/up'));
}

describe('npm start -- --engine cluster', () => {
  it('brings PostgreSQL, two Temporal nodes, the UI and three NATS nodes up, decides a correlation, stops cleanly, and resumes from disk', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orch-up-cluster-'));
    const [temporalPort, uiPort, natsPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
    const args = [
      '--engine',
      'cluster',
      '--once',
      '--data-dir',
      dataDir,
      '--temporal-port',
      String(temporalPort),
      '--ui-port',
      String(uiPort),
      '--nats-port',
      String(natsPort),
    ];

    const first = await runUp(args);
    // With the output, so that a start that failed says why.
    expect({ code: first.code, output: first.output }).toEqual({ code: 0, output: expect.any(String) });
    expect(first.output).toContain('starting PostgreSQL and a three-node NATS cluster');
    expect(first.output).toMatch(/^starting Temporal node-1 \(frontend 127\.0\.0\.1:\d+\)$/m);
    expect(first.output).toMatch(/^starting Temporal node-2 \(frontend 127\.0\.0\.1:\d+\)$/m);
    expect(first.output).toContain('namespace default created, retention 24h');
    expect(first.output).toContain(`Temporal UI   http://127.0.0.1:${uiPort}`);
    expect(first.output).toMatch(
      new RegExp(
        `^  Temporal      127\\.0\\.0\\.1:${temporalPort} \\(frontends of node-1 127\\.0\\.0\\.1:\\d+, node-2 127\\.0\\.0\\.1:\\d+\\)$`,
        'm',
      ),
    );
    expect(first.output).toMatch(/^ {2}PostgreSQL {4}127\.0\.0\.1:\d+$/m);
    expect(first.output).toContain(
      `  NATS          ${[0, 1, 2].map((i) => `nats://127.0.0.1:${natsPort + i}`).join(',')} (streams at R3)`,
    );
    expect(first.output).toMatch(/"action": "trade"/);
    expect(first.output.trim().endsWith('stopped')).toBe(true);
    expect(processesOn(dataDir)).toEqual([]);

    // The second start finds the namespace in PostgreSQL and the streams on disk; two workers and a bridge of its own
    // this time.
    const second = await runUp([...args, '--workers', '2', '--bridges', '1']);
    expect({ code: second.code, output: second.output }).toEqual({ code: 0, output: expect.any(String) });
    expect(second.output).toContain('namespace default exists');
    expect(second.output).toContain(
      'starting 2 orchestrator workers, each with the bridge in its process, and a bridge of its own',
    );
    expect(second.output).toMatch(/"action": "trade"/);
    expect(second.output.trim().endsWith('stopped')).toBe(true);
    expect(processesOn(dataDir)).toEqual([]);
  }, 240_000);
});
