/**
 * A rollout under Worker Versioning, on the real Temporal dev server, driven with the operator's own
 * commands (`temporal worker deployment ...`, docs/PRODUCTION.md): build A is current and holds open
 * correlations; build B starts, is ramped, then made current; A's correlations finish on A, new ones
 * run on B, each correlation is decided exactly once, and A drains. Both builds run the bridge in
 * their process (the shape npm start runs), so eager starts are part of the picture.
 */
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { decodeVersioningBehavior } from '@temporalio/common';
import { workerProcess } from '../../src/devstack/local-stack';
import {
  getFreePort,
  type ManagedProcess,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../../src/devstack/processes';
import { requireTool } from '../../src/devstack/tools';
import { signalSubject } from '../../src/nats/streams';
import { breakerWorkflowIdFor } from '../../src/shared/agent-breaker-api';
import { workflowIdFor } from '../../src/shared/correlation-api';
import { storedDecisions } from '../support/decisions';
import { waitFor } from '../support/e2e-stack';
import { WORKFLOW_BUNDLE_PATH } from '../support/paths';
import { runCommand } from '../support/run-command';
import { startTestNats, type TestNats } from '../support/servers';
import { momentum, risk, uniqueCorrId } from '../support/signals';
import type { AgentSignal } from '../../src/contract/agent-signal';

const DEPLOYMENT = 'orchestrator';

let temporal: TemporalDevServer;
let nats: TestNats;
let client: Client;
/** Each build's worker process and its /metrics port. */
const workers = new Map<string, { process: ManagedProcess; httpPort: number }>();
const logDir = mkdtempSync(join(tmpdir(), 'orch-rollout-'));

beforeAll(async () => {
  [temporal, nats] = await Promise.all([
    startTemporalDevServer({
      uiPort: false,
      // A version that is no longer current or ramping counts as drained once visibility shows no
      // open pinned workflow on it; the server's 3-minute defaults are for production.
      dynamicConfig: {
        'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '"1s"',
        'matching.wv.VersionDrainageStatusRefreshInterval': '"1s"',
      },
    }),
    startTestNats(),
  ]);
  client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
}, 90_000);

afterAll(async () => {
  await Promise.all([...workers.values()].map((w) => w.process.stop()));
  await client?.connection.close();
  await Promise.all([temporal?.stop(), nats?.stop()]);
});

async function startBuild(buildId: string): Promise<void> {
  const httpPort = await getFreePort();
  const worker = workerProcess(
    {
      TEMPORAL_ADDRESS: temporal.address,
      NATS_URL: nats.server.url,
      ORCH_WORKER_RUNS_BRIDGE: 'true',
      ORCH_HTTP_PORT: String(httpPort),
      ORCH_LOG_LEVEL: 'debug',
      ORCH_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH,
      TEMPORAL_DEPLOYMENT_NAME: DEPLOYMENT,
      TEMPORAL_WORKER_BUILD_ID: buildId,
    },
    join(logDir, `worker-${buildId}.log`),
  );
  workers.set(buildId, { process: worker, httpPort });
  await worker.start();
}

/** The build's orchestrator_eager_start gauge: 1 while its bridge starts correlations eagerly. */
async function eagerStart(buildId: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${workers.get(buildId)!.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('orchestrator_eager_start '));
  if (!line) throw new Error(`build ${buildId} exports no orchestrator_eager_start`);
  return Number(line.split(' ')[1]);
}

/** Waits until each build's bridge has read the deployment's routing: `{ A: 0, B: 1 }`. */
async function eagerStartsBecome(expected: Record<string, number>): Promise<void> {
  const read = async () =>
    Object.fromEntries(await Promise.all(Object.keys(expected).map(async (b) => [b, await eagerStart(b)] as const)));
  await waitFor(`eager starts ${JSON.stringify(expected)}`, async () =>
    JSON.stringify(await read()) === JSON.stringify(expected) ? true : undefined,
  );
}

/** `temporal worker deployment <args>` against the dev server, as an operator runs it. */
async function deployment(...args: string[]): Promise<string> {
  const run = await runCommand(requireTool('temporal'), [
    'worker',
    'deployment',
    ...args,
    '--address',
    temporal.address,
  ]);
  if (run.status !== 0)
    throw new Error(`temporal worker deployment ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

async function publish(s: AgentSignal): Promise<void> {
  await nats.js.publish(signalSubject(s.agent_name), new TextEncoder().encode(JSON.stringify(s)));
}

/** How a correlation's run is versioned, once its first workflow task has completed. */
async function pinnedBuild(corrId: string): Promise<string | undefined> {
  return versionOf(workflowIdFor(corrId));
}

/** `PINNED on A`, `AUTO_UPGRADE on B`: how a workflow is versioned and the build it last ran on. */
async function versionOf(workflowId: string): Promise<string | undefined> {
  const info = await client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      (d) => d.raw.workflowExecutionInfo?.versioningInfo,
      () => undefined,
    );
  if (!info?.deploymentVersion?.buildId) return undefined;
  return `${decodeVersioningBehavior(info.behavior)} on ${info.deploymentVersion.buildId}`;
}

/**
 * The version's drainage status; undefined while Temporal does not answer, as it sometimes does not
 * under load ("Worker Deployment Version not found" from a version that exists), so that a wait
 * for a status polls again.
 */
async function drainageOf(buildId: string): Promise<string | undefined> {
  const out = await deployment(
    'describe-version',
    '--deployment-name',
    DEPLOYMENT,
    '--build-id',
    buildId,
    '--output',
    'json',
  ).catch(() => undefined);
  return out === undefined ? undefined : JSON.parse(out).drainageInfo?.drainageStatus;
}

describe('a versioned rollout from build A to build B', () => {
  it('keeps open correlations on A, ramps and then moves new ones to B, decides each once, and drains A', async () => {
    await startBuild('A');
    await waitFor('build A to register', async () =>
      (await deployment('list')).includes(DEPLOYMENT) ? true : undefined,
    );
    await deployment('set-current-version', '--deployment-name', DEPLOYMENT, '--build-id', 'A', '--yes');
    await eagerStartsBecome({ A: 1 });

    const onA = Array.from({ length: 4 }, () => uniqueCorrId('rollout-a'));
    for (const id of onA) await publish(momentum(id));
    for (const id of onA) expect(await waitFor(`${id} to start`, () => pinnedBuild(id))).toBe('PINNED on A');
    // A decision on A reports its outcome to each agent's circuit breaker, which then starts on A.
    const decidedOnA = uniqueCorrId('rollout-a-decided');
    await publish(momentum(decidedOnA));
    await publish(risk(decidedOnA));
    expect(
      await waitFor("momentum's circuit breaker to start", () => versionOf(breakerWorkflowIdFor('momentum'))),
    ).toBe('AUTO_UPGRADE on A');

    await startBuild('B');
    await waitFor('build B to register', async () =>
      /\bB\b/.test(await deployment('describe', '--name', DEPLOYMENT)) ? true : undefined,
    );
    await deployment(
      'set-ramping-version',
      '--deployment-name',
      DEPLOYMENT,
      '--build-id',
      'B',
      '--percentage',
      '50',
      '--yes',
    );
    await eagerStartsBecome({ A: 0, B: 0 });
    // Temporal splits new workflows by a hash of their id: with 16, both builds get some (all on
    // one side has odds of 2 in 65,536).
    const ramped = Array.from({ length: 16 }, () => uniqueCorrId('rollout-ramp'));
    for (const id of ramped) await publish(momentum(id));
    const rampedBuilds = await Promise.all(ramped.map((id) => waitFor(`${id} to start`, () => pinnedBuild(id))));
    expect(new Set(rampedBuilds)).toEqual(new Set(['PINNED on A', 'PINNED on B']));

    await deployment('set-current-version', '--deployment-name', DEPLOYMENT, '--build-id', 'B', '--yes');
    await eagerStartsBecome({ A: 0, B: 1 });
    // A still has open pinned correlations: it drains, it is not drained.
    await waitFor('build A to be draining', async () => ((await drainageOf('A')) === 'draining' ? true : undefined));
    const onB = Array.from({ length: 4 }, () => uniqueCorrId('rollout-b'));
    for (const id of onB) await publish(momentum(id));
    for (const id of onB) expect(await waitFor(`${id} to start`, () => pinnedBuild(id))).toBe('PINNED on B');

    // Every open correlation completes on the build it started on.
    const all = [...onA, ...ramped, ...onB];
    const startedOn = new Map(await Promise.all(all.map(async (id) => [id, await pinnedBuild(id)] as const)));
    for (const id of all) await publish(risk(id));
    for (const id of all)
      await waitFor(`the decision of ${id}`, async () =>
        (await storedDecisions(nats.jsm, id)).length > 0 ? true : undefined,
      );
    for (const id of all) expect(await pinnedBuild(id)).toBe(startedOn.get(id));

    await waitFor('build A to drain', async () => ((await drainageOf('A')) === 'drained' ? true : undefined));
    await workers.get('A')!.process.stop();

    const afterA = uniqueCorrId('rollout-after');
    await publish(momentum(afterA));
    await publish(risk(afterA));
    await waitFor(`the decision of ${afterA}`, async () =>
      (await storedDecisions(nats.jsm, afterA)).length > 0 ? true : undefined,
    );
    expect(await pinnedBuild(afterA)).toBe('PINNED on B');
    for (const id of [...all, decidedOnA, afterA]) expect(await storedDecisions(nats.jsm, id)).toHaveLength(1);
    // The agents' circuit breakers never end: they moved to B with their next outcomes (pinned, they would keep A from
    // draining).
    expect(await versionOf(breakerWorkflowIdFor('momentum'))).toBe('AUTO_UPGRADE on B');
  }, 180_000);
});
