/**
 * The stack a chaos scenario runs: the engine (on the dev engine, the Temporal dev server on a
 * SQLite file and nats-server with file storage; on the cluster engine, PostgreSQL, two Temporal
 * server nodes and three NATS nodes with a TCP proxy on every route between them), the compiled
 * worker and bridge processes, optional TCP proxies between them and the servers, and the test's
 * own connections to it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import type { PolicyInput } from '../../../src/contract/policy';
import { type ClusterEngine, startClusterEngine } from '../../../src/devstack/cluster-engine';
import { bridgeProcess, type EngineKind, workerProcess } from '../../../src/devstack/local-stack';
import { NATS_CLUSTER_SIZE } from '../../../src/devstack/nats-cluster';
import {
  type ManagedProcess,
  type NatsServer,
  startNatsServer,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../../../src/devstack/processes';
import { TcpProxy } from '../../../src/devstack/tcp-proxy';
import { DECISIONS_STREAM, SIGNALS_STREAM } from '../../../src/nats/streams';
import { WORKFLOW_BUNDLE_PATH } from '../paths';
import { pollUntil } from '../poll';
import { runOrch, type CommandRun } from '../run-command';

export interface ChaosStackOptions {
  scenario: string;
  policy: PolicyInput;
  /** `dev` (default) or `cluster`, the production shape. */
  engine?: EngineKind;
  /** Extra settings for the worker and the bridge. */
  env?: Record<string, string>;
  /** Put a TCP proxy between the bridge and nats-server (dev engine). */
  bridgeNatsProxy?: boolean;
  /** Put a TCP proxy between the worker and nats-server. */
  workerNatsProxy?: boolean;
  /** Put a TCP proxy between the bridge and Temporal. */
  bridgeTemporalProxy?: boolean;
  /** Runs once nats-server is up, before the worker and the bridge start (an operator's own streams). */
  prepareNats?: (jsm: JetStreamManager) => Promise<void>;
}

/** The dev engine's two servers. */
interface DevChaosEngine {
  kind: 'dev';
  temporal: TemporalDevServer;
  nats: NatsServer;
  temporalAddress: string;
  natsUrl: string;
}

/**
 * The cluster engine, with the proxy on each NATS route: `routes[from][to]` carries node `from`'s route to node `to`.
 */
export interface ClusterChaosEngine extends ClusterEngine {
  routes: TcpProxy[][];
}

export interface ChaosStack {
  scenario: string;
  dir: string;
  engine: DevChaosEngine | ClusterChaosEngine;
  worker: ManagedProcess;
  bridge: ManagedProcess;
  proxies: { bridgeNats?: TcpProxy; workerNats?: TcpProxy; bridgeTemporal?: TcpProxy };
  /** The test's own connections, straight to the servers. */
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  client: Client;
  /** Settings for the `orch` CLI against this stack. */
  cliEnv: Record<string, string>;
  /** Stops everything; removes the data folder unless `keep`. */
  stop(keep?: boolean): Promise<void>;
}

export const BRIDGE_DURABLE = 'orchestrator-bridge';

/**
 * The verification expects every published signal in its decision. Decisive signals and the agent
 * breaker legitimately decide without some (the signal that comes after is late), so the fault
 * scenarios run without them unless their policy turns them on (agent-dark does the breaker).
 */
const FAULT_SCENARIO_POLICY: PolicyInput = { version: 'chaos', decisive_signals: [], breaker: { enabled: false } };

/** The dev engine of a scenario that needs it (to kill or restart its servers). */
export function devEngineOf(stack: ChaosStack): DevChaosEngine {
  if (stack.engine.kind !== 'dev') throw new Error(`scenario ${stack.scenario} needs the dev engine`);
  return stack.engine;
}

/** The cluster engine of a scenario that needs it. */
export function clusterEngineOf(stack: ChaosStack): ClusterChaosEngine {
  if (stack.engine.kind !== 'cluster') throw new Error(`scenario ${stack.scenario} needs the cluster engine`);
  return stack.engine;
}

async function startDevChaosEngine(dir: string): Promise<DevChaosEngine> {
  mkdirSync(join(dir, 'nats'), { recursive: true });
  const [temporal, nats] = await Promise.all([
    startTemporalDevServer({ uiPort: false, dbFile: join(dir, 'temporal.sqlite'), logFile: join(dir, 'temporal.log') }),
    startNatsServer({ storeDir: join(dir, 'nats'), logFile: join(dir, 'nats.log') }),
  ]);
  return { kind: 'dev', temporal, nats, temporalAddress: temporal.address, natsUrl: nats.url };
}

async function startClusterChaosEngine(dir: string): Promise<ClusterChaosEngine> {
  const routes: TcpProxy[][] = Array.from({ length: NATS_CLUSTER_SIZE }, () => []);
  const engine = await startClusterEngine(
    {
      dataDir: join(dir, 'engine'),
      logDir: dir,
      uiPort: false,
      async natsRoutePort(from, to, clusterPort) {
        const proxy = await TcpProxy.start(clusterPort);
        routes[from]![to] = proxy;
        return proxy.port;
      },
    },
    () => undefined,
  );
  return Object.assign(engine, { routes });
}

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const dir = mkdtempSync(join(tmpdir(), `orch-chaos-${options.scenario}-`));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ ...FAULT_SCENARIO_POLICY, ...options.policy }));
  const engine = options.engine === 'cluster' ? await startClusterChaosEngine(dir) : await startDevChaosEngine(dir);
  const { temporalAddress, natsUrl } = engine;
  if (options.prepareNats) {
    const operator = await connect({ servers: natsUrl.split(','), name: `chaos-${options.scenario}-operator` });
    await options.prepareNats(await operator.jetstreamManager());
    await operator.close();
  }
  const proxies: ChaosStack['proxies'] = {};
  if (options.bridgeNatsProxy || options.workerNatsProxy || options.bridgeTemporalProxy) {
    const dev = engine.kind === 'dev' ? engine : undefined;
    if (!dev) throw new Error('the proxies between the processes and the servers are for the dev engine');
    if (options.bridgeNatsProxy) proxies.bridgeNats = await TcpProxy.start(dev.nats.port);
    if (options.workerNatsProxy) proxies.workerNats = await TcpProxy.start(dev.nats.port);
    if (options.bridgeTemporalProxy) proxies.bridgeTemporal = await TcpProxy.start(dev.temporal.port);
  }

  const common = {
    ORCH_POLICY_FILE: policyFile,
    ORCH_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH,
    ORCH_LOG_LEVEL: 'info',
    ORCH_BRIDGE_ACK_WAIT_MS: '5000',
    ORCH_SHUTDOWN_GRACE_MS: '5000',
    ...(engine.kind === 'cluster' ? { ORCH_NATS_REPLICAS: String(NATS_CLUSTER_SIZE) } : {}),
    ...options.env,
  };
  const worker = workerProcess(
    { ...common, TEMPORAL_ADDRESS: temporalAddress, NATS_URL: proxies.workerNats?.natsUrl ?? natsUrl },
    join(dir, 'worker.log'),
  );
  const bridge = bridgeProcess(
    {
      ...common,
      TEMPORAL_ADDRESS: proxies.bridgeTemporal?.address ?? temporalAddress,
      NATS_URL: proxies.bridgeNats?.natsUrl ?? natsUrl,
    },
    join(dir, 'bridge.log'),
  );
  await Promise.all([worker.start(), bridge.start()]);

  const nc = await connect({
    servers: natsUrl.split(','),
    name: `chaos-${options.scenario}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  // The worker declares DECISIONS and the bridge SIGNALS at start; the ledger reads DECISIONS from its start.
  await pollUntil('the DECISIONS stream', () => jsm.streams.info(DECISIONS_STREAM).then(() => true), 30_000);
  await pollUntil('the SIGNALS stream', () => jsm.streams.info(SIGNALS_STREAM).then(() => true), 30_000);
  const client = new Client({ connection: await Connection.connect({ address: temporalAddress }) });

  return {
    scenario: options.scenario,
    dir,
    engine,
    worker,
    bridge,
    proxies,
    nc,
    js,
    jsm,
    client,
    cliEnv: { TEMPORAL_ADDRESS: temporalAddress, NATS_URL: natsUrl },
    async stop(keep = false) {
      // A frozen server cannot stop: wake it first.
      if (engine.kind === 'dev' && engine.temporal.pid !== undefined && engine.temporal.running)
        process.kill(engine.temporal.pid, 'SIGCONT');
      await client.connection.close().catch(() => undefined);
      await nc.close().catch(() => undefined);
      await Promise.all([bridge.stop(), worker.stop()]);
      await Promise.all(Object.values(proxies).map((p) => p?.stop()));
      if (engine.kind === 'dev') await Promise.all([engine.temporal.stop(), engine.nats.stop()]);
      else {
        await engine.stop();
        await Promise.all(engine.routes.flat().map((p) => p.stop()));
      }
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the bridge's durable consumer has taken and acknowledged every message. */
export async function bridgeConsumerIdle(jsm: JetStreamManager): Promise<boolean> {
  const info = await jsm.consumers.info(SIGNALS_STREAM, BRIDGE_DURABLE);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

/**
 * Deliveries by the bridge's consumer beyond the first of each message so far (after a crash, a
 * nak, an outage): every delivery takes a consumer sequence, and SIGNALS holds only agent messages.
 */
export async function redeliveries(jsm: JetStreamManager): Promise<number> {
  const info = await jsm.consumers.info(SIGNALS_STREAM, BRIDGE_DURABLE);
  return info.delivered.consumer_seq - info.delivered.stream_seq;
}

/** Runs the compiled `orch` CLI against the stack. */
export function runOrchCli(stack: ChaosStack, args: string[]): Promise<CommandRun> {
  return runOrch(args, stack.cliEnv, { timeoutMs: 120_000 });
}
