/**
 * The whole orchestrator for end-to-end tests: an engine (the dev server and one nats-server, or the
 * cluster engine: PostgreSQL, two Temporal server nodes, three NATS nodes), worker and bridge processes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { StoredMsg } from 'nats';
import type { PolicyInput } from '../../src/contract/policy';
import { type ClusterEngine, startClusterEngine } from '../../src/devstack/cluster-engine';
import { bridgeProcess, type EngineKind, workerProcess } from '../../src/devstack/local-stack';
import { NATS_CLUSTER_SIZE } from '../../src/devstack/nats-cluster';
import type { ManagedProcess, TemporalDevServer } from '../../src/devstack/processes';
import { startTemporalDevServer } from '../../src/devstack/processes';
import { DLQ_STREAM, SIGNALS_STREAM, signalSubject } from '../../src/nats/streams';
import { workflowIdFor } from '../../src/shared/correlation-api';
import { storedDecisions, type StoredDecision } from './decisions';
import { WORKFLOW_BUNDLE_PATH } from './paths';
import { connectTestNats, startTestNats, type TestNats } from './servers';

const { WorkflowExecutionStatus } = temporal.api.enums.v1;
const GRPC_NOT_FOUND = 5;

export interface E2EStack {
  engineKind: EngineKind;
  /** What clients dial: the dev server, or the cluster's frontend balancer. */
  temporalAddress: string;
  /** NATS_URL for the orchestrator's processes and the CLI (every node of a cluster). */
  natsUrl: string;
  /** The test's NATS connection; `nats.server` is the lone server, or the cluster's first node. */
  nats: TestNats;
  /** The dev server (dev engine) or the cluster engine. */
  engine: { kind: 'dev'; temporal: TemporalDevServer; temporalAddress: string; natsUrl: string } | ClusterEngine;
  worker: ManagedProcess;
  bridge: ManagedProcess;
  client: Client;
  logDir: string;
  /** Publishes raw bytes (or a signal as JSON) as an agent would. */
  publish(agent: string, payload: unknown, msgID?: string): Promise<number>;
  /**
   * Waits until `count` decisions for the correlation are stored, then until no other can come
   * (see settled), and returns every decision stored for it then: the stream's final state for
   * it, on which a test judges exactly once.
   */
  decisionsFor(corrId: string, count?: number): Promise<StoredDecision[]>;
  /**
   * True once nothing already published can still lead to a decision for the correlation: the
   * bridge's consumer has handed every message over (none pending, none awaiting its ack: a new
   * run of the correlation could only be started by one) and the correlation's run is closed (a
   * run publishes its decision before it completes), with no delivery in between.
   */
  settled(corrId: string): Promise<boolean>;
  dlqEntries(): Promise<StoredMsg[]>;
  stop(): Promise<void>;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface E2EServerOptions {
  /** `dev` (default) or `cluster`, the production shape. */
  engine?: EngineKind;
  /** Keep Temporal's state in a SQLite file, so the server can be restarted (dev engine). */
  persistent?: boolean;
  /** Dynamic configuration of the dev server, e.g. a lower payload size limit (dev engine). */
  dynamicConfig?: Record<string, string>;
  /** The Node.js binary of the worker and bridge (this process's by default). */
  node?: string;
  /**
   * The worker bundles the workflow code itself at start, as it does without ORCH_WORKFLOW_BUNDLE;
   * by default it loads the bundle the test run built once (test/support/global-setup.ts), as the
   * image's worker loads its prebuilt one.
   */
  bundleAtStart?: boolean;
}

/** The dev engine's Temporal server, for tests that restart or configure it. */
export function devServerOf(stack: E2EStack): TemporalDevServer {
  if (stack.engine.kind !== 'dev') throw new Error('this test needs the dev engine');
  return stack.engine.temporal;
}

/** @param env extra settings for the worker and bridge */
export async function startE2EStack(
  policy: PolicyInput,
  env: Record<string, string> = {},
  server: E2EServerOptions = {},
): Promise<E2EStack> {
  const logDir = mkdtempSync(join(tmpdir(), 'orch-e2e-'));
  const policyFile = join(logDir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  const engineKind = server.engine ?? 'dev';
  let engine: E2EStack['engine'];
  let nats: TestNats;
  if (engineKind === 'cluster') {
    const cluster = await startClusterEngine(
      { dataDir: join(logDir, 'engine'), logDir, uiPort: false },
      () => undefined,
    );
    engine = cluster;
    nats = await connectTestNats(cluster.nats.nodes[0]!, cluster.nats.url, () => cluster.stop());
  } else {
    const [temporal, testNats] = await Promise.all([
      startTemporalDevServer({
        uiPort: false,
        dynamicConfig: server.dynamicConfig,
        ...(server.persistent ? { dbFile: join(logDir, 'temporal.sqlite') } : {}),
      }),
      startTestNats(),
    ]);
    engine = { kind: 'dev', temporal, temporalAddress: temporal.address, natsUrl: testNats.server.url };
    nats = testNats;
  }
  const { temporalAddress, natsUrl } = engine;
  const durable = env.ORCH_BRIDGE_DURABLE ?? 'orchestrator-bridge';
  const processEnv = {
    TEMPORAL_ADDRESS: temporalAddress,
    NATS_URL: natsUrl,
    ORCH_POLICY_FILE: policyFile,
    ORCH_LOG_LEVEL: 'debug',
    ...(server.bundleAtStart ? {} : { ORCH_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH }),
    ...(engine.kind === 'cluster' ? { ORCH_NATS_REPLICAS: String(NATS_CLUSTER_SIZE) } : {}),
    ...env,
  };
  const worker = workerProcess(processEnv, join(logDir, 'worker.log'), [], server.node);
  const bridge = bridgeProcess(processEnv, join(logDir, 'bridge.log'), [], server.node);
  await Promise.all([worker.start(), bridge.start()]);
  const client = new Client({ connection: await Connection.connect({ address: temporalAddress }) });
  // The bridge creates the streams; agents can publish once they exist.
  await waitFor('the SIGNALS stream', () =>
    nats.jsm.streams.info(SIGNALS_STREAM).then(
      () => true,
      () => undefined,
    ),
  );

  async function settled(corrId: string): Promise<boolean> {
    const delivered = async (): Promise<number | undefined> => {
      const info = await nats.jsm.consumers.info(SIGNALS_STREAM, durable).catch(() => undefined);
      return info && info.num_pending === 0 && info.num_ack_pending === 0 ? info.delivered.consumer_seq : undefined;
    };
    const before = await delivered();
    if (before === undefined) return false;
    // The raw call: the client's describe() decodes the memo, which it cannot with payload encryption on.
    const running = await client.workflowService
      .describeWorkflowExecution({
        namespace: client.options.namespace,
        execution: { workflowId: workflowIdFor(corrId) },
      })
      .then(
        (d) => d.workflowExecutionInfo?.status === WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
        (error: unknown) => {
          if ((error as { code?: number }).code === GRPC_NOT_FOUND) return false;
          throw error;
        },
      );
    return !running && (await delivered()) === before;
  }

  return {
    engineKind,
    temporalAddress,
    natsUrl,
    engine,
    nats,
    worker,
    bridge,
    client,
    logDir,
    async publish(agent, payload, msgID) {
      const data =
        payload instanceof Uint8Array
          ? payload
          : new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
      return (await nats.js.publish(signalSubject(agent), data, msgID ? { msgID } : undefined)).seq;
    },
    async decisionsFor(corrId, count = 1) {
      await waitFor(`${count} decision(s) for ${corrId}`, async () =>
        (await storedDecisions(nats.jsm, corrId)).length >= count ? true : undefined,
      );
      await waitFor(
        `the bridge to hand every message over and the run of ${corrId} to close`,
        async () => ((await settled(corrId)) ? true : undefined),
        60_000,
      );
      return storedDecisions(nats.jsm, corrId);
    },
    settled,
    async dlqEntries() {
      const info = await nats.jsm.streams.info(DLQ_STREAM);
      const entries: StoredMsg[] = [];
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++)
        entries.push(await nats.jsm.streams.getMessage(DLQ_STREAM, { seq }));
      return entries;
    },
    async stop() {
      await client.connection.close();
      await Promise.all([bridge.stop(), worker.stop()]);
      await Promise.all([engine.kind === 'dev' ? engine.temporal.stop() : undefined, nats.stop()]);
    },
  };
}
