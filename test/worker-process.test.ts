/**
 * The worker as users run it: the compiled entry point as a child process, against a real Temporal
 * dev server and nats-server.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compiledEntryPoint, workerProcess } from '../src/devstack/local-stack';
import { runDemoCorrelation } from './support/demo-correlation';
import { getFreePort } from '../src/devstack/processes';
import { storedDecisions } from './support/decisions';
import { useDevServerAndNats } from './support/servers';
import { uniqueCorrId } from './support/signals';

const servers = useDevServerAndNats();
const logDir = mkdtempSync(join(tmpdir(), 'orch-worker-'));

function runWorkerCommand(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [compiledEntryPoint('workers/worker'), ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('orchestrator worker process', () => {
  it('explains itself and every setting with --help', () => {
    const run = runWorkerCommand(['--help']);
    expect(run.status).toBe(0);
    for (const text of ['Usage: orchestrator-worker', 'ORCH_TASK_QUEUE', 'TEMPORAL_ADDRESS', 'NATS_URL'])
      expect(run.stdout).toContain(text);
  });

  it('refuses a bad setting at start-up, naming it', () => {
    const run = runWorkerCommand([], { ORCH_LOG_LEVEL: 'loud' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('ORCH_LOG_LEVEL');
    expect(run.stderr).toContain('--help');
  });

  it('exits non-zero when it cannot reach Temporal at start-up, so its supervisor restarts it', async () => {
    const unreachable = `127.0.0.1:${await getFreePort()}`;
    const worker = workerProcess(
      { TEMPORAL_ADDRESS: unreachable, NATS_URL: servers.nats.server.url },
      join(logDir, 'unreachable.log'),
    );
    await worker.start().catch(() => undefined);
    expect(await worker.exited).toBe(1);
    expect(readFileSync(join(logDir, 'unreachable.log'), 'utf8')).toContain('worker failed');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('decides a correlation, then shuts down cleanly on %s', async (signal) => {
    const taskQueue = uniqueCorrId('tq');
    const logFile = join(logDir, `${signal}.log`);
    const tuning = { ORCH_MAX_CACHED_WORKFLOWS: '50', ORCH_MAX_CONCURRENT_WORKFLOW_TASKS: '20' };
    const worker = workerProcess(
      {
        TEMPORAL_ADDRESS: servers.temporal.address,
        NATS_URL: servers.nats.server.url,
        ORCH_TASK_QUEUE: taskQueue,
        ...tuning,
      },
      logFile,
    );
    await worker.start();
    const corrId = uniqueCorrId('proc');
    const decision = await runDemoCorrelation(servers.client, taskQueue, corrId);
    expect(decision.decision.action).toBe('trade');
    expect(await storedDecisions(servers.nats.jsm, corrId)).toHaveLength(1);

    process.kill(worker.pid!, signal);
    expect(await worker.exited).toBe(0);
    const log = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; task_queue?: string });
    expect(log.map((entry) => entry.msg)).toEqual(
      expect.arrayContaining(['connected to NATS', 'worker polling', 'decision published', 'worker stopped']),
    );
    expect(log.find((entry) => entry.msg === 'worker polling')).toMatchObject({
      max_cached_workflows: 50,
      workflow_task_slots: 20,
    });
  });
});
