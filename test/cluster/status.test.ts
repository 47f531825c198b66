/**
 * `orch status` against the cluster engine, as an operator runs it: both Temporal nodes in the
 * membership rings with the cluster's shards and stores; the NATS cluster, and each stream R3 with
 * a leader and two current replicas. Then a NATS node dies (kill -9): the streams it led elect
 * another leader, and each stream's row shows the dead replica, as a warning (exit 0).
 */
import { WORKFLOW_BUNDLE_PATH } from '../support/paths';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { type ClusterEngine, startClusterEngine } from '../../src/devstack/cluster-engine';
import { workerProcess } from '../../src/devstack/local-stack';
import { NATS_CLUSTER_SIZE, natsNodeName } from '../../src/devstack/nats-cluster';
import type { ManagedProcess } from '../../src/devstack/processes';
import { DECISIONS_STREAM, DLQ_STREAM, SIGNALS_STREAM } from '../../src/nats/streams';
import type { StatusReport } from '../../src/client/commands/status';
import { waitFor } from '../support/e2e-stack';
import { type CommandRun, runOrch } from '../support/run-command';

const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
/** The stream rows, by the name `orch status` gives them. */
const STREAM_ROWS = {
  [SIGNALS_STREAM]: 'SIGNALS stream',
  [DECISIONS_STREAM]: 'DECISIONS stream',
  [DLQ_STREAM]: 'DLQ',
} as const;

let dir: string;
let engine: ClusterEngine;
let worker: ManagedProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orch-cluster-status-'));
  engine = await startClusterEngine({ dataDir: join(dir, 'engine'), logDir: dir, uiPort: false }, () => undefined);
  worker = workerProcess(
    {
      TEMPORAL_ADDRESS: engine.temporalAddress,
      NATS_URL: engine.natsUrl,
      ORCH_NATS_REPLICAS: String(NATS_CLUSTER_SIZE),
      ORCH_WORKER_RUNS_BRIDGE: 'true',
      ORCH_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH,
    },
    join(dir, 'worker.log'),
  );
  await worker.start();
  // The worker (and the bridge in it) creates the streams.
  const nc = await connect({ servers: engine.natsUrl.split(',') });
  try {
    const jsm = await nc.jetstreamManager();
    await waitFor(
      'the three streams',
      async () =>
        (
          await Promise.all(
            Object.keys(STREAM_ROWS).map((s) =>
              jsm.streams.info(s).then(
                () => true,
                () => false,
              ),
            ),
          )
        ).every(Boolean)
          ? true
          : undefined,
      30_000,
    );
  } finally {
    await nc.close();
  }
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await engine?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function status(args: string[], natsUrl = engine.natsUrl): Promise<CommandRun> {
  return runOrch(
    ['status', ...args],
    { TEMPORAL_ADDRESS: engine.temporalAddress, NATS_URL: natsUrl },
    { timeoutMs: 30_000 },
  );
}

/** The DETAIL of the row named `name`, and its level. */
function rowOf(stdout: string, name: string): { level: string; detail: string } {
  const match = new RegExp(`^${name} +(ok|warn|FAIL) +(.*)$`, 'm').exec(stdout);
  if (!match) throw new Error(`no ${name} row in:\n${stdout}`);
  return { level: match[1]!, detail: match[2]! };
}

/** A stream row's replication: `R3, leader nats-2, replicas nats-1 current, nats-3 current`. */
function replicationOf(detail: string): { leader: string; replicas: Record<string, string> } | undefined {
  const match = /; R3, leader (nats-\d), replicas (.*)$/.exec(detail);
  if (!match) return undefined;
  const replicas = Object.fromEntries(
    match[2]!.split(/, (?=nats-\d)/).map((r) => [r.split(' ')[0]!, r.slice(r.indexOf(' ') + 1)]),
  );
  return { leader: match[1]!, replicas };
}

it('shows both Temporal nodes in the membership, 4 history shards on postgres12, and each stream R3 with a leader and two current replicas', async () => {
  const run = await status([]);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const out = run.stdout;
  expect(out).toMatch(
    /^temporal cluster +ok +2 nodes on 127\.0\.0\.1 \(frontend 2, history 2, matching 2, worker 2\); 4 history shards; persistence postgres12, visibility postgres12; cluster active$/m,
  );
  // One line per ring under the row, with each node's own gRPC address of that service.
  for (const service of SERVICES) {
    const line = new RegExp(`^ +${service} +(.*)$`, 'm').exec(out)?.[1];
    expect(
      line
        ?.split(', ')
        .map((m) => m.replace(/ \(answered\)$/, ''))
        .sort(),
    ).toEqual(engine.temporalNodes.map((n) => `127.0.0.1:${n.ports.grpc[service]}`).sort());
  }
  expect(out).toMatch(/^ +frontend +.*\(answered\)/m);

  const urls = engine.nats.nodes.map((n) => n.url.replace('nats://', ''));
  const natsCluster = rowOf(out, 'nats cluster');
  expect(natsCluster.level).toBe('ok');
  expect(natsCluster.detail).toMatch(/^orchestrator, connected to nats-[123]; 3 servers advertised: /);
  for (const url of urls) expect(natsCluster.detail).toContain(url);

  const names = engine.nats.nodes.map((_, i) => natsNodeName(i)).sort();
  for (const rowName of Object.values(STREAM_ROWS)) {
    const row = rowOf(out, rowName);
    expect(row.level).toBe('ok');
    const placed = replicationOf(row.detail);
    expect(placed).toBeDefined();
    expect(Object.values(placed!.replicas)).toEqual(['current', 'current']);
    expect([placed!.leader, ...Object.keys(placed!.replicas)].sort()).toEqual(names);
  }
  expect(out.trim().split('\n').at(-1)).toBe('status: OK');

  const json = await status(['--json']);
  expect(json.status).toBe(0);
  const report = JSON.parse(json.stdout) as StatusReport;
  expect(report.temporal.cluster).toMatchObject({
    visible: true,
    history_shard_count: 4,
    persistence_store: 'postgres12',
    visibility_store: 'postgres12',
  });
  expect(report.temporal.cluster!.rings!.find((r) => r.role === 'frontend')!.members.sort()).toEqual(
    engine.temporalNodes.map((n) => n.frontendAddress).sort(),
  );
  expect(report.temporal.cluster!.reachable_members).toHaveLength(2 * SERVICES.length);
  expect(report.nats.cluster).toEqual({ name: 'orchestrator', connect_urls: [...urls].sort() });
  for (const stream of Object.keys(STREAM_ROWS)) {
    const info = report.nats.streams![stream]!;
    expect(info.num_replicas).toBe(3);
    expect(info.cluster!.leader).toMatch(/^nats-[123]$/);
    expect(info.cluster!.replicas.map((r) => r.current)).toEqual([true, true]);
  }
});

it('a NATS node killed: the streams it led elect another leader, and every stream row shows it not current, a warning (exit 0)', async () => {
  const before = JSON.parse((await status(['--json'])).stdout) as StatusReport;
  // The node that leads SIGNALS, so that at least that stream must elect another.
  const killed = before.nats.streams![SIGNALS_STREAM]!.cluster!.leader!;
  const ledBefore = Object.keys(STREAM_ROWS).filter((s) => before.nats.streams![s]!.cluster!.leader === killed);
  const index = engine.nats.nodes.findIndex((_, i) => natsNodeName(i) === killed);
  await engine.nats.nodes[index]!.kill9();
  try {
    // The CLI dials the survivors only: the row must come from the cluster, not from the dead node's absence in
    // NATS_URL.
    const survivors = engine.nats.nodes.filter((_, i) => i !== index);
    const survivorUrl = survivors.map((n) => n.url).join(',');

    // Until each stream has a leader again and its leader has noticed the dead replica (about 10 s for a follower it
    // had heard from).
    const run = await waitFor(
      'every stream row showing the dead replica',
      async () => {
        const attempt = await status([], survivorUrl);
        if (attempt.status !== 0) return undefined;
        const settled = Object.values(STREAM_ROWS).every((name) => {
          const placed = replicationOf(rowOf(attempt.stdout, name).detail);
          return placed && placed.leader !== killed && /^(not current|offline)/.test(placed.replicas[killed] ?? '');
        });
        return settled ? attempt : undefined;
      },
      40_000,
    );

    const out = run.stdout;
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(ledBefore).toContain(SIGNALS_STREAM);
    const survivorNames = engine.nats.nodes.map((_, i) => natsNodeName(i)).filter((n) => n !== killed);
    for (const rowName of Object.values(STREAM_ROWS)) {
      const row = rowOf(out, rowName);
      expect(row.level).toBe('warn');
      const placed = replicationOf(row.detail)!;
      expect(survivorNames).toContain(placed.leader);
      expect(placed.replicas[killed]).toMatch(/^(not current|offline)/);
      const otherSurvivor = survivorNames.find((n) => n !== placed.leader)!;
      expect(placed.replicas[otherSurvivor]).toBe('current');
    }
    // The cluster row names the survivors only.
    const natsCluster = rowOf(out, 'nats cluster').detail;
    expect(natsCluster).toMatch(/^orchestrator, connected to nats-[123]; 2 servers advertised: /);
    expect(natsCluster).not.toContain(engine.nats.nodes[index]!.url.replace('nats://', ''));
    expect(out).toMatch(/^temporal cluster +ok +2 nodes on 127\.0\.0\.1 /m);
    expect(out.trim().split('\n').at(-1)).toBe('status: OK (3 warnings)');
  } finally {
    // Whole again for whatever runs next: the node back, and every stream R3 with both replicas current.
    await engine.nats.nodes[index]!.start();
    await waitFor(
      'every stream to have both replicas current again',
      async () => {
        const attempt = await status(['--json']);
        if (attempt.status !== 0) return undefined;
        const report = JSON.parse(attempt.stdout) as StatusReport;
        const whole = Object.keys(STREAM_ROWS).every((stream) => {
          const replicas = report.nats.streams?.[stream]?.cluster?.replicas ?? [];
          return replicas.length === 2 && replicas.every((r) => r.current);
        });
        return whole ? true : undefined;
      },
      60_000,
    );
  }
}, 150_000);
