/** The README's main command, as a new user runs it (on free ports and a throwaway data folder). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runUp } from './support/run-command';
import { getFreePort } from '../src/devstack/processes';

describe('npm start (local stack)', () => {
  it('starts Temporal with its UI, NATS, the worker and the bridge, decides a correlation published on NATS, and stops cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orch-up-'));
    const [temporalPort, uiPort, natsPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
    const ports = [
      '--temporal-port',
      String(temporalPort),
      '--ui-port',
      String(uiPort),
      '--nats-port',
      String(natsPort),
    ];
    const { code, output } = await runUp(['--once', '--data-dir', dataDir, ...ports]);
    expect(code).toBe(0);
    expect(output).toContain(`Temporal UI   http://127.0.0.1:${uiPort}`);
    expect(output).toMatch(/publishing demo correlation demo-\d+ on NATS/);
    expect(output).toMatch(/"action": "trade"/);
    expect(output).toMatch(
      /see it in the UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/corr-demo-\d+/,
    );
    expect(output.trim().endsWith('stopped')).toBe(true);
  }, 120_000);

  it.each([
    [['--engine', 'k8s'], '--engine: expected dev or cluster, got "k8s"'],
    [['--workers', '0'], '--workers: expected a whole number from 1 to 16, got "0"'],
    [['--bridges', 'two'], '--bridges: expected a whole number from 0 to 16, got "two"'],
  ])('refuses %j with exit code 2, naming the option, before starting anything', async (args, message) => {
    const { code, output } = await runUp(args);
    expect(code).toBe(2);
    expect(output).toContain(message);
  });
});
