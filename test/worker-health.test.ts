/**
 * The worker as Kubernetes sees it: /livez, /readyz and /metrics on its HTTP port, and a SIGTERM
 * that arrives while an activity runs lets that activity finish before the process exits.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerProcess } from '../src/devstack/local-stack';
import { getFreePort } from '../src/devstack/processes';
import { storedDecisions } from './support/decisions';
import { startDemoCorrelation } from './support/demo-correlation';
import { waitFor } from './support/e2e-stack';
import { useDevServerAndNats } from './support/servers';
import { uniqueCorrId } from './support/signals';

const servers = useDevServerAndNats();
const logDir = mkdtempSync(join(tmpdir(), 'orch-health-'));

it('serves /livez, /readyz and /metrics with the SDK’s and the orchestrator’s metrics', async () => {
  const port = await getFreePort();
  const taskQueue = uniqueCorrId('tq');
  const worker = workerProcess(
    {
      TEMPORAL_ADDRESS: servers.temporal.address,
      NATS_URL: servers.nats.server.url,
      ORCH_TASK_QUEUE: taskQueue,
      ORCH_HTTP_PORT: String(port),
    },
    join(logDir, 'metrics.log'),
  );
  await worker.start();
  const base = `http://127.0.0.1:${port}`;
  try {
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const ready = await waitFor('ready', async () => {
      const response = await fetch(`${base}/readyz`);
      return response.status === 200 ? response.json() : undefined;
    });
    expect(ready).toEqual({ ready: true, checks: { temporal: true, nats: true, polling: true } });

    await (await startDemoCorrelation(servers.client, taskQueue, uniqueCorrId('metrics'))).result();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // The demo: BTC/USD with medium risk, which no route of the default policy takes.
    expect(metrics).toMatch(/orchestrator_decisions_total\{action="trade",route="standard"\} 1/);
    expect(metrics).toMatch(/orchestrator_decision_latency_seconds_count 1/);
    expect(metrics).toMatch(/orchestrator_agent_arrival_seconds_count\{agent="risk"\} 1/);
    // The SDK's own, counting this worker's part: the correlation completed, its one local activity.
    const sdkLabels = `namespace="default",service_name="temporal-core-sdk",task_queue="${taskQueue}"`;
    expect(metrics).toContain(`temporal_workflow_completed{${sdkLabels},workflow_type="correlationWorkflowV5"} 1\n`);
    expect(metrics).toContain(
      `temporal_local_activity_total{activity_type="decideAndPublish",${sdkLabels},workflow_type="correlationWorkflowV5"} 1\n`,
    );

    // NATS gone: not ready, still alive.
    await servers.nats.server.stop();
    const notReady = await waitFor('not ready', async () => {
      const response = await fetch(`${base}/readyz`);
      return response.status === 503 ? response.json() : undefined;
    });
    // Only NATS fails: Temporal still answers and the worker still polls.
    expect(notReady).toEqual({ ready: false, checks: { temporal: true, nats: false, polling: true } });
    expect((await fetch(`${base}/livez`)).status).toBe(200);
  } finally {
    await worker.stop();
    // Whatever happened above, the next test finds NATS up.
    if (!servers.nats.server.running) await servers.nats.server.start();
  }
});

it('lets an activity that is running when SIGTERM arrives finish before exiting', async () => {
  const taskQueue = uniqueCorrId('tq');
  const logFile = join(logDir, 'sigterm.log');
  const port = await getFreePort();
  const worker = workerProcess(
    {
      TEMPORAL_ADDRESS: servers.temporal.address,
      NATS_URL: servers.nats.server.url,
      ORCH_TASK_QUEUE: taskQueue,
      ORCH_LOG_LEVEL: 'debug',
      ORCH_HTTP_PORT: String(port),
    },
    logFile,
  );
  await worker.start();
  // NATS frozen (SIGSTOP): publishing the decision waits for its ack, so the activity is in flight.
  process.kill(servers.nats.server.pid!, 'SIGSTOP');
  let stopping: unknown;
  let handle: Awaited<ReturnType<typeof startDemoCorrelation>>;
  const corrId = uniqueCorrId('inflight');
  try {
    handle = await startDemoCorrelation(servers.client, taskQueue, corrId);
    // A local activity is not listed among the workflow's pending activities; its own log says it runs.
    await waitFor('publishDecision to be running', async () =>
      readFileSync(logFile, 'utf8').includes('"publishing decision"') ? true : undefined,
    );

    process.kill(worker.pid!, 'SIGTERM');
    // The worker has taken the signal once it stops polling, which /readyz shows (or it is gone).
    stopping = await waitFor('the worker to stop polling after SIGTERM, or to exit', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      if (!response) return { exited: !worker.running };
      const body = (await response.json()) as { checks: { polling: boolean } };
      return body.checks.polling ? undefined : { status: response.status, body, running: worker.running };
    });
  } finally {
    process.kill(servers.nats.server.pid!, 'SIGCONT');
  }
  // Stopping, but still running: the activity holds it, NATS still frozen until the SIGCONT above.
  expect(stopping).toEqual({
    status: 503,
    body: { ready: false, checks: { temporal: true, nats: true, polling: false } },
    running: true,
  });

  expect(await worker.exited).toBe(0);
  const messages = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
  // The activity started, then published (NATS back), then the worker stopped: in that order, once each.
  expect(messages.filter((m) => ['publishing decision', 'decision published', 'worker stopped'].includes(m))).toEqual([
    'publishing decision',
    'decision published',
    'worker stopped',
  ]);
  const [stored, ...extra] = await storedDecisions(servers.nats.jsm, corrId);
  expect(extra).toEqual([]);

  // The workflow records the activity's result once a worker polls again, as a replacement pod would.
  const successor = workerProcess(
    { TEMPORAL_ADDRESS: servers.temporal.address, NATS_URL: servers.nats.server.url, ORCH_TASK_QUEUE: taskQueue },
    join(logDir, 'successor.log'),
  );
  await successor.start();
  try {
    expect(await handle.result()).toEqual(stored.decision);
    expect(await storedDecisions(servers.nats.jsm, corrId)).toHaveLength(1);
  } finally {
    await successor.stop();
  }
});
