/**
 * The chaos suite's harness: the real local stack (on the dev engine, the Temporal dev server on a
 * SQLite file and nats-server with file storage; on the cluster engine, PostgreSQL, two Temporal
 * server nodes and three NATS nodes with a TCP proxy on every route between them; the compiled
 * worker and bridge processes, optional TCP proxies between them and the servers),
 * a steady load of agent signals, a ledger of every decision, the fault log, the end-of-run
 * verification (every correlation decided exactly once, on exactly the signals published for it)
 * and the figures each scenario writes to .cache/chaos/<scenario>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection, type StoredMsg } from 'nats';
import type { AgentSignal } from '../../src/contract/agent-signal';
import type { OrchestrationDecision } from '../../src/contract/decision';
import type { PolicyInput } from '../../src/contract/policy';
import { randomCorrelation } from '../../src/devstack/demo-feed';
import { type ClusterEngine, startClusterEngine } from '../../src/devstack/cluster-engine';
import { bridgeProcess, type EngineKind, workerProcess } from '../../src/devstack/local-stack';
import { NATS_CLUSTER_SIZE, natsNodeName } from '../../src/devstack/nats-cluster';
import {
  type ManagedProcess,
  type NatsServer,
  startNatsServer,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../../src/devstack/processes';
import { DECISION_SUBJECT, DECISIONS_STREAM, DLQ_STREAM, SIGNALS_STREAM, signalSubject } from '../../src/nats/streams';
import { REPO_ROOT, WORKFLOW_BUNDLE_PATH } from './paths';
import { TcpProxy } from '../../src/devstack/tcp-proxy';
import { runOrch, type CommandRun } from './run-command';
import { chaosSeed, seededRandom } from './seeded-random';

// ---------------------------------------------------------------------------------------------
// Scale

export type ChaosScale = 'ci' | 'full';

/** ORCH_CHAOS_SCALE: `ci` (the default: short, for every `jest` run) or `full` (npm run test:chaos). */
export function chaosScale(): ChaosScale {
  const value = process.env.ORCH_CHAOS_SCALE ?? 'ci';
  if (value !== 'ci' && value !== 'full') throw new Error(`ORCH_CHAOS_SCALE must be "ci" or "full", not "${value}"`);
  return value;
}

export const SCALE = chaosScale();

/** The CI figure or the full one, by ORCH_CHAOS_SCALE. */
export function scaled<T>(ci: T, full: T): T {
  return SCALE === 'full' ? full : ci;
}

export const CHAOS_REPORT_DIR = join(REPO_ROOT, '.cache', 'chaos');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The scenario's seed (ORCH_CHAOS_SEED replays a run): logged at its start and kept in its report. */
export const SEED = chaosSeed();

/** Every random choice of a scenario comes from here, so the seed replays them. */
export const random = seededRandom(SEED);

export function randomBetween(low: number, high: number): number {
  return low + random() * (high - low);
}

/** Polls `probe` until it returns a value (not undefined); throws after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${cause}`);
    }
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// The stack

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
export interface DevChaosEngine {
  kind: 'dev';
  temporal: TemporalDevServer;
  nats: NatsServer;
  temporalAddress: string;
  natsUrl: string;
}

/** The cluster engine, with the proxy on each NATS route: `routes[from][to]` carries node `from`'s route to node `to`. */
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

/** Cuts every route between NATS node `i` and the others (both directions): it runs on, alone. */
export async function partitionNatsNode(engine: ClusterChaosEngine, i: number): Promise<void> {
  await Promise.all(
    engine.routes.flatMap((row, from) => row.filter((_, to) => from === i || to === i).map((p) => p.cut())),
  );
}

export async function healNatsPartition(engine: ClusterChaosEngine): Promise<void> {
  await Promise.all(engine.routes.flat().map((p) => p.heal()));
}

/** The index of the NATS node that leads `stream` now. */
export async function streamLeader(jsm: JetStreamManager, stream: string): Promise<number> {
  const leader = (await jsm.streams.info(stream)).cluster?.leader;
  const index = Array.from({ length: NATS_CLUSTER_SIZE }, (_, i) => natsNodeName(i)).indexOf(leader ?? '');
  if (index < 0)
    throw new Error(`stream ${stream} has no leader among the cluster's nodes (leader: ${leader ?? 'none'})`);
  return index;
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

// ---------------------------------------------------------------------------------------------
// The load

export interface PublishedCorrelation {
  corrId: string;
  n: number;
  /** Only momentum is published: the partial-data timer decides it. */
  partial: boolean;
  /** Agent -> stream sequence of its stored signal (the decision's provenance message id). */
  seqs: Record<string, number>;
  /** Agent -> the signal it published (a scenario may publish it again). */
  sent: Record<string, AgentSignal>;
  /** When its first signal went out (ms since the epoch). */
  firstSentAt: number;
  /** When every signal of it was acknowledged by JetStream. */
  publishedAt?: number;
}

export interface LoadOptions {
  /** Correlation ids are `<prefix><n>`. */
  prefix: string;
  correlationsPerSecond: number;
  /** Share of correlations that leave out the risk agent. */
  partialShare: number;
  /** Correlations being published at once (a NATS outage shows as lag, not unbounded memory). */
  maxInFlight?: number;
  /**
   * How far apart a correlation's two agents publish: the second waits a delay drawn from 0 to
   * this (default 0). Either agent may go first, so agents arrive out of order and late.
   */
  agentSpreadMs?: number;
  /** Risk publishes before momentum (default: either first, at random). */
  riskFirst?: boolean;
}

/**
 * A steady publisher of momentum and risk signals, as agents publish them: one correlation after
 * another at a fixed rate, the two agents in random order, a share of correlations partial. Every
 * publish carries a Nats-Msg-Id and is retried until JetStream acknowledges it, so a publish whose
 * ack was lost in an outage is stored once, and its stream sequence is known.
 */
export class ChaosLoad {
  readonly correlations: PublishedCorrelation[] = [];
  /** While risk is in here, correlations start without it (an agent gone dark): they are partial. */
  readonly darkAgents = new Set<string>();
  readonly byId = new Map<string, PublishedCorrelation>();
  publishRetries = 0;
  /** Retries that JetStream recognised as already stored. */
  duplicateAcks = 0;
  private stopping = false;
  private aborted = false;
  private inFlight = 0;
  private loop?: Promise<void>;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly js: JetStreamClient,
    readonly options: LoadOptions,
  ) {}

  get prefix(): string {
    return this.options.prefix;
  }

  /** Correlations whose publishing has begun. */
  get started(): number {
    return this.correlations.length;
  }

  get signalsPublished(): number {
    return this.correlations.reduce((sum, c) => sum + Object.keys(c.seqs).length, 0);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops starting correlations and waits until those begun are fully published. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Gives up: publishes in flight stop retrying (the run failed and its stack is going away). */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.stop().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const { correlationsPerSecond, maxInFlight = 64 } = this.options;
    const t0 = Date.now();
    let n = 0;
    while (!this.stopping) {
      const due = Math.floor(((Date.now() - t0) * correlationsPerSecond) / 1000) + 1;
      while (!this.stopping && n < due && this.inFlight < maxInFlight) this.launch(n++);
      await sleep(10);
    }
  }

  private launch(n: number): void {
    const corrId = `${this.options.prefix}${n}`;
    const partial = this.darkAgents.has('risk') || isPartial(n, this.options.partialShare);
    const record: PublishedCorrelation = { corrId, n, partial, seqs: {}, sent: {}, firstSentAt: Date.now() };
    this.correlations.push(record);
    this.byId.set(corrId, record);
    this.inFlight++;
    const [momentum, risk] = randomCorrelation(corrId, false, new Date(), random);
    const signals: AgentSignal[] = partial
      ? [momentum]
      : this.options.riskFirst || random() < 0.5
        ? [risk, momentum]
        : [momentum, risk];
    const spread = randomBetween(0, this.options.agentSpreadMs ?? 0);
    const work = (async () => {
      for (const [i, signal] of signals.entries()) {
        if (i > 0 && spread > 0) await sleep(spread);
        record.seqs[signal.agent_name] = await this.publish(signal);
        record.sent[signal.agent_name] = signal;
      }
      record.publishedAt = Date.now();
    })().finally(() => {
      this.inFlight--;
      this.pending.delete(work);
    });
    this.pending.add(work);
  }

  /**
   * Publishes a signal as an agent does, retried under its message id until JetStream has it;
   * returns its stream sequence. `msgID` defaults to `<corr_id>:<agent>`: an agent republishing the
   * same content under a new id (a restarted agent) passes its own.
   */
  async publish(signal: AgentSignal, msgID = `${signal.corr_id}:${signal.agent_name}`): Promise<number> {
    const data = JSON.stringify(signal);
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      try {
        const ack = await this.js.publish(signalSubject(signal.agent_name), data, { msgID, timeout: 5_000 });
        if (ack.duplicate) this.duplicateAcks++;
        return ack.seq;
      } catch (error) {
        if (this.aborted || Date.now() > deadline) throw error;
        this.publishRetries++;
        await sleep(250);
      }
    }
  }
}

/** Correlation n is partial: spread evenly, ⌊n·share⌋ of the first n. */
function isPartial(n: number, share: number): boolean {
  return Math.floor((n + 1) * share) > Math.floor(n * share);
}

// ---------------------------------------------------------------------------------------------
// Decisions as they arrive

export interface SeenDecision {
  corrId: string;
  msgId: string | undefined;
  streamSeq: number;
  /** When the ledger saw it (ms since the epoch). */
  at: number;
  decision: OrchestrationDecision;
}

/**
 * Every decision stored on DECISIONS, as it arrives (an ordered consumer: what JetStream stored, so
 * a retried publish it dropped is not mistaken for a second decision), and, for information, every
 * publish on `orchestrated.decision` seen by a plain subscriber (retries included).
 */
export class DecisionLedger {
  readonly firstArrival = new Map<string, number>();
  /** When the workflow made each decision (its `orchestrated_at`), which can be well before it was published. */
  readonly decidedAt = new Map<string, number>();
  /** The first decision stored for each correlation. */
  readonly decisions = new Map<string, OrchestrationDecision>();
  readonly arrivals: number[] = [];
  /** Publishes seen on the subject per correlation, including those JetStream then dropped as duplicates. */
  readonly rawPublishes = new Map<string, number>();
  private readonly seenSeqs = new Set<number>();
  private stopFns: Array<() => Promise<void>> = [];

  static async start(nc: NatsConnection, js: JetStreamClient): Promise<DecisionLedger> {
    const ledger = new DecisionLedger();
    // From the start of the stream (the default: spelling out DeliverPolicy.All makes nats.js 2.29's consume() hang).
    const consumer = await js.consumers.get(DECISIONS_STREAM, { filterSubjects: [DECISION_SUBJECT] });
    const messages = await consumer.consume();
    const loop = (async () => {
      for await (const message of messages) {
        if (ledger.seenSeqs.has(message.seq)) continue;
        ledger.seenSeqs.add(message.seq);
        const at = Date.now();
        try {
          const decision = message.json<OrchestrationDecision>();
          if (!ledger.firstArrival.has(decision.corr_id)) {
            ledger.firstArrival.set(decision.corr_id, at);
            ledger.decisions.set(decision.corr_id, decision);
            ledger.decidedAt.set(decision.corr_id, Date.parse(decision.orchestrated_at));
          }
          ledger.arrivals.push(at);
        } catch {
          // not a decision: the verification reports it
        }
      }
    })();
    const decoder = new TextDecoder();
    const subscription = nc.subscribe(DECISION_SUBJECT, {
      callback: (_, message) => {
        try {
          const corrId = (JSON.parse(decoder.decode(message.data)) as { corr_id: string }).corr_id;
          ledger.rawPublishes.set(corrId, (ledger.rawPublishes.get(corrId) ?? 0) + 1);
        } catch {
          // counted by the verification
        }
      },
    });
    ledger.stopFns = [
      async () => subscription.unsubscribe(),
      async () => {
        await messages.close();
        await loop;
      },
    ];
    return ledger;
  }

  decided(corrId: string): boolean {
    return this.firstArrival.has(corrId);
  }

  async stop(): Promise<void> {
    for (const stop of this.stopFns) await stop().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Faults

export interface FaultRecord {
  /** The fault class: `worker kill -9`, `nats-server restart`, … */
  kind: string;
  injectedAt: number;
  /** When the fault was removed (the process restarted and ready, the network healed). */
  healedAt?: number;
  note?: string;
}

export class FaultLog {
  readonly faults: FaultRecord[] = [];

  /** Records the fault, runs `inject`, and returns the record to heal later. */
  async inject(kind: string, inject: () => Promise<unknown> | unknown, note?: string): Promise<FaultRecord> {
    const record: FaultRecord = { kind, injectedAt: Date.now(), ...(note ? { note } : {}) };
    this.faults.push(record);
    await inject();
    return record;
  }

  async heal(record: FaultRecord, heal: () => Promise<unknown> | unknown): Promise<void> {
    await heal();
    record.healedAt = Date.now();
  }
}

/**
 * Waits until every complete correlation that had begun by the time the fault was healed is
 * decided: the backlog the fault built up has drained.
 */
export function waitDrained(
  load: ChaosLoad,
  ledger: DecisionLedger,
  fault: FaultRecord,
  timeoutMs: number,
): Promise<true> {
  const healedAt = fault.healedAt ?? Date.now();
  return pollUntil(
    `the backlog of "${fault.kind}" to drain`,
    () =>
      load.correlations.every((c) => c.partial || c.firstSentAt > healedAt || ledger.decided(c.corrId))
        ? true
        : undefined,
    timeoutMs,
    100,
  );
}

export interface FaultFigures {
  kind: string;
  note?: string;
  injected_at: string;
  /** Fault injected -> removed (process back and ready, network healed). */
  outage_s: number;
  /** Fault injected -> the first decision after it was removed. */
  resumed_s: number | null;
  /** Fault injected -> every complete correlation begun before it was removed is decided. */
  recovery_s: number | null;
  /** Complete correlations whose decision waited on this fault (begun before the heal, decided after the injection). */
  affected_correlations: number;
}

function faultFigures(fault: FaultRecord, load: ChaosLoad, ledger: DecisionLedger): FaultFigures {
  const healedAt = fault.healedAt ?? fault.injectedAt;
  const affected = load.correlations.filter((c) => {
    const at = ledger.firstArrival.get(c.corrId);
    return !c.partial && c.firstSentAt <= healedAt && at !== undefined && at >= fault.injectedAt;
  });
  const undecided = load.correlations.some((c) => !c.partial && c.firstSentAt <= healedAt && !ledger.decided(c.corrId));
  const drainedAt =
    affected.length > 0 ? Math.max(...affected.map((c) => ledger.firstArrival.get(c.corrId) as number)) : undefined;
  const resumedAt = ledger.arrivals.filter((at) => at > healedAt).sort((a, b) => a - b)[0];
  const seconds = (ms: number): number => Math.round(ms / 100) / 10;
  return {
    kind: fault.kind,
    ...(fault.note ? { note: fault.note } : {}),
    injected_at: new Date(fault.injectedAt).toISOString(),
    outage_s: seconds(healedAt - fault.injectedAt),
    resumed_s: resumedAt === undefined ? null : seconds(resumedAt - fault.injectedAt),
    recovery_s: undecided ? null : seconds(Math.max(drainedAt ?? healedAt, healedAt) - fault.injectedAt),
    affected_correlations: affected.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Verification and the report

export interface StoredEntry {
  seq: number;
  msgId: string | undefined;
  decision: OrchestrationDecision | undefined;
}

async function readStream(jsm: JetStreamManager, stream: string): Promise<StoredMsg[]> {
  const info = await jsm.streams.info(stream);
  const messages: StoredMsg[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    messages.push(await jsm.streams.getMessage(stream, { seq }));
  }
  return messages;
}

export interface Problem {
  corrId: string;
  problem: string;
}

export interface ChaosReport {
  scenario: string;
  scale: ChaosScale;
  /** ORCH_CHAOS_SEED=<seed> replays the run's choices. */
  seed: number;
  fault_classes: string[];
  faults_injected: number;
  faults: FaultFigures[];
  correlations: number;
  partial_correlations: number;
  signals_published: number;
  decided: number;
  /** Published correlations with no decision stored. */
  lost: number;
  /** Correlations with more than one decision stored (or one under an unexpected Nats-Msg-Id). */
  duplicated: number;
  /** Decisions whose provenance, agents or partial flag differ from what was published. */
  mismatched: number;
  /** DLQ entries nobody meant to cause. */
  dlq_unexpected: number;
  dlq_deliberate: number;
  /** Publishes seen on orchestrated.decision beyond those stored: retries JetStream dropped by Nats-Msg-Id. */
  republishes_deduped: number;
  /** Deliveries by the bridge's consumer beyond the first of each message (after a crash, a nak, an outage). */
  redelivered_signals: number;
  agent_publish_retries: number;
  /** Fault injected -> backlog drained, the worst over the faults (s). */
  recovery_s: number | null;
  policy_timeout_ms: number;
  duration_s: number;
  started_at: string;
  machine: { nproc: number; cpu: string; loadavg_start: number[]; loadavg_end: number[] };
  extra: Record<string, unknown>;
  problems: Problem[];
  data_dir: string;
}

export interface VerifyOptions {
  stack: ChaosStack;
  load: ChaosLoad;
  ledger: DecisionLedger;
  faults: FaultLog;
  policyTimeoutMs: number;
  startedAt: number;
  loadavgStart: number[];
  /** DLQ entries the scenario caused on purpose (by their Orch-Original-Seq or body). */
  isDeliberateDlq?: (entry: StoredMsg) => boolean;
  /**
   * Correlations outside the load the scenario created on purpose and checks itself (the poisoned
   * ones): their stored decisions are not counted as unexpected. Returns problems found.
   */
  otherCorrelations?: (entries: StoredEntry[]) => Problem[];
  extra?: Record<string, unknown>;
}

/**
 * Stops the load, waits for every correlation to be decided and for the system to go quiet (the
 * bridge consumer has nothing pending, no correlation workflow is running), then checks everything
 * stored against what was published, writes the report and returns it. It does not assert: the
 * test does, after the report is written, so a failed run still leaves its figures.
 */
export async function finishAndVerify(options: VerifyOptions): Promise<ChaosReport> {
  const { stack, load, ledger, faults, policyTimeoutMs } = options;
  await load.stop();
  const problems: Problem[] = [];
  const waitMs = policyTimeoutMs + 180_000;
  await pollUntil(
    'a decision for every published correlation',
    () => (load.correlations.every((c) => ledger.decided(c.corrId)) ? true : undefined),
    waitMs,
    250,
  ).catch((error: Error) => problems.push({ corrId: '*', problem: error.message }));
  // Quiet: nothing left for the bridge, no correlation workflow running. Then no decision can follow.
  const prefixQuery = `WorkflowId STARTS_WITH "corr-${load.prefix}"`;
  await pollUntil(
    'the stack to go quiet',
    async () =>
      (await bridgeConsumerIdle(stack.jsm)) &&
      (await stack.client.workflow.count(`${prefixQuery} AND ExecutionStatus = "Running"`)).count === 0
        ? true
        : undefined,
    120_000,
    500,
  ).catch((error: Error) => problems.push({ corrId: '*', problem: error.message }));

  // What JetStream stored: every decision, by correlation.
  const stored: StoredEntry[] = (await readStream(stack.jsm, DECISIONS_STREAM)).map((m) => {
    let decision: OrchestrationDecision | undefined;
    try {
      decision = m.json<OrchestrationDecision>();
    } catch {
      decision = undefined;
    }
    return { seq: m.seq, msgId: m.header?.get('Nats-Msg-Id') || undefined, decision };
  });
  const byCorr = new Map<string, StoredEntry[]>();
  const others: StoredEntry[] = [];
  for (const entry of stored) {
    const corrId = entry.decision?.corr_id;
    if (corrId !== undefined && load.byId.has(corrId)) byCorr.set(corrId, [...(byCorr.get(corrId) ?? []), entry]);
    else others.push(entry);
  }
  if (options.otherCorrelations) problems.push(...options.otherCorrelations(others));
  else
    for (const entry of others)
      problems.push({
        corrId: entry.decision?.corr_id ?? `seq ${entry.seq}`,
        problem: 'a decision for a correlation nobody published',
      });

  let lost = 0;
  let duplicated = 0;
  let mismatched = 0;
  let decided = 0;
  for (const c of load.correlations) {
    const entries = byCorr.get(c.corrId) ?? [];
    if (entries.length === 0) {
      lost++;
      problems.push({ corrId: c.corrId, problem: 'no decision stored' });
      continue;
    }
    decided++;
    if (entries.length > 1 || entries.some((e) => e.msgId !== c.corrId)) {
      duplicated++;
      problems.push({
        corrId: c.corrId,
        problem: `${entries.length} decision(s) stored, Nats-Msg-Id ${entries.map((e) => e.msgId).join(', ')}`,
      });
    }
    const mismatch = decisionMismatch(c, entries[0].decision as OrchestrationDecision);
    if (mismatch) {
      mismatched++;
      problems.push({ corrId: c.corrId, problem: mismatch });
    }
  }

  // Every correlation ran as one workflow, and it completed (visibility may lag a moment behind).
  const workflowCounts = async (): Promise<{ total: number; completed: number }> => ({
    total: (await stack.client.workflow.count(prefixQuery)).count,
    completed: (await stack.client.workflow.count(`${prefixQuery} AND ExecutionStatus = "Completed"`)).count,
  });
  const counts = await pollUntil(
    'visibility to list every correlation workflow as completed',
    async () => {
      const c = await workflowCounts();
      return c.total === load.started && c.completed === load.started ? c : undefined;
    },
    30_000,
    500,
  ).catch(() => workflowCounts());
  if (counts.total !== load.started || counts.completed !== load.started) {
    problems.push({
      corrId: '*',
      problem: `Temporal has ${counts.total} correlation workflows (${counts.completed} completed) for ${load.started} correlations`,
    });
  }

  // The DLQ holds only what the scenario put there on purpose.
  const dlq = await readStream(stack.jsm, DLQ_STREAM);
  const deliberate = dlq.filter((entry) => options.isDeliberateDlq?.(entry) ?? false);
  for (const entry of dlq.filter((e) => !deliberate.includes(e))) {
    problems.push({
      corrId: tryCorrId(entry),
      problem: `unexpected DLQ entry: ${entry.header?.get('Orch-Dlq-Reason')} ${entry.header?.get('Orch-Dlq-Detail')}`,
    });
  }

  const consumer = await stack.jsm.consumers.info(SIGNALS_STREAM, BRIDGE_DURABLE);
  let rawPublishes = 0;
  for (const c of load.correlations) rawPublishes += ledger.rawPublishes.get(c.corrId) ?? 0;
  await ledger.stop();

  const faultList = faults.faults.map((f) => faultFigures(f, load, ledger));
  const recoveries = faultList.map((f) => f.recovery_s);
  const report: ChaosReport = {
    scenario: stack.scenario,
    scale: SCALE,
    seed: SEED,
    fault_classes: [...new Set(faults.faults.map((f) => f.kind))],
    faults_injected: faults.faults.length,
    faults: faultList,
    correlations: load.started,
    partial_correlations: load.correlations.filter((c) => c.partial).length,
    signals_published: load.signalsPublished,
    decided,
    lost,
    duplicated,
    mismatched,
    dlq_unexpected: dlq.length - deliberate.length,
    dlq_deliberate: deliberate.length,
    republishes_deduped: Math.max(0, rawPublishes - decided),
    // Every delivery, first or again, takes a consumer sequence; the stream holds only agent messages.
    redelivered_signals: consumer.delivered.consumer_seq - consumer.delivered.stream_seq,
    agent_publish_retries: load.publishRetries,
    recovery_s:
      recoveries.some((r) => r === null) || recoveries.length === 0 ? null : Math.max(...(recoveries as number[])),
    policy_timeout_ms: policyTimeoutMs,
    duration_s: Math.round((Date.now() - options.startedAt) / 100) / 10,
    started_at: new Date(options.startedAt).toISOString(),
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      loadavg_start: options.loadavgStart.map(round2),
      loadavg_end: loadavg().map(round2),
    },
    extra: options.extra ?? {},
    problems: problems.slice(0, 50),
    data_dir: stack.dir,
  };
  writeReport(report);
  return report;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

function tryCorrId(entry: StoredMsg): string {
  try {
    return (entry.json<{ corr_id?: string }>().corr_id ?? `dlq seq ${entry.seq}`) as string;
  } catch {
    return `dlq seq ${entry.seq}`;
  }
}

/** What is wrong with a correlation's decision given what was published for it, or undefined. */
export function decisionMismatch(c: PublishedCorrelation, decision: OrchestrationDecision): string | undefined {
  const published = Object.entries(c.seqs)
    .map(([agent, seq]) => `${agent}#${seq}`)
    .sort();
  const used = (decision.provenance ?? []).map((p) => `${p.agent}#${p.message_id}`).sort();
  if (published.join(',') !== used.join(','))
    return `provenance ${used.join(',') || 'none'} but published ${published.join(',')}`;
  const agents = Object.keys(c.seqs).sort().join(',');
  if ((decision.available_agents ?? []).join(',') !== agents)
    return `available_agents ${decision.available_agents?.join(',')} but published ${agents}`;
  if (decision.partial_data !== c.partial)
    return `partial_data ${decision.partial_data} for a ${c.partial ? 'partial' : 'complete'} correlation`;
  const expectedMissing = c.partial ? 'risk' : '';
  if ((decision.missing_agents ?? []).join(',') !== expectedMissing)
    return `missing_agents ${decision.missing_agents?.join(',')} (expected ${expectedMissing || 'none'})`;
  return undefined;
}

export function writeReport(report: ChaosReport): void {
  mkdirSync(CHAOS_REPORT_DIR, { recursive: true });
  writeFileSync(join(CHAOS_REPORT_DIR, `${report.scenario}.json`), `${JSON.stringify(report, null, 2)}\n`);
}

/** The figures in one line, for the test log. */
export function summary(report: ChaosReport): string {
  const faults = report.faults
    .map((f) => `${f.kind}: outage ${f.outage_s}s, recovery ${f.recovery_s ?? '-'}s`)
    .join('; ');
  return (
    `[chaos ${report.scenario} ${report.scale} seed ${report.seed}] ${report.correlations} correlations (${report.partial_correlations} partial), ` +
    `${report.decided} decided, ${report.lost} lost, ${report.duplicated} duplicated, ${report.mismatched} mismatched, ` +
    `DLQ ${report.dlq_unexpected} unexpected/${report.dlq_deliberate} deliberate, ${report.redelivered_signals} redelivered, ` +
    `${report.republishes_deduped} republishes deduped | ${faults} | ${report.duration_s}s`
  );
}

/** The assertions every scenario ends with. */
export function expectNothingLostNothingDuplicated(report: ChaosReport): void {
  expect(report.problems).toEqual([]);
  expect(report.lost).toBe(0);
  expect(report.duplicated).toBe(0);
  expect(report.mismatched).toBe(0);
  expect(report.dlq_unexpected).toBe(0);
  expect(report.decided).toBe(report.correlations);
  expect(report.faults_injected).toBeGreaterThan(0);
  for (const fault of report.faults) expect(fault.recovery_s).not.toBeNull();
}

// ---------------------------------------------------------------------------------------------
// Running a scenario

export interface ScenarioContext {
  stack: ChaosStack;
  load: ChaosLoad;
  ledger: DecisionLedger;
  faults: FaultLog;
}

export interface ScenarioOptions extends ChaosStackOptions {
  /** Correlations per second of the load. */
  rate: number;
  /** The load runs at least until this many correlations have begun. */
  minCorrelations: number;
  partialShare?: number;
  agentSpreadMs?: number;
  riskFirst?: boolean;
  /** Injects the faults while the load runs. */
  chaos: (ctx: ScenarioContext) => Promise<void>;
  /** Decisions that must be flowing before the first fault. */
  warmupDecisions?: number;
  verify?:
    | Partial<Pick<VerifyOptions, 'isDeliberateDlq' | 'otherCorrelations' | 'extra'>>
    | ((ctx: ScenarioContext) => Partial<Pick<VerifyOptions, 'isDeliberateDlq' | 'otherCorrelations' | 'extra'>>);
}

/**
 * Starts the stack, the ledger and the load; lets decisions flow; runs `chaos`; keeps the load on
 * until `minCorrelations` have begun and for a moment after the last fault; verifies; stops the
 * stack (keeping its data folder when something is wrong) and returns the report.
 */
export async function runScenario(options: ScenarioOptions): Promise<ChaosReport> {
  console.log(`[chaos ${options.scenario}] seed ${SEED}; replay its choices with ORCH_CHAOS_SEED=${SEED}`);
  const startedAt = Date.now();
  const loadavgStart = loadavg();
  const stack = await startChaosStack(options);
  let report: ChaosReport | undefined;
  let running: ChaosLoad | undefined;
  try {
    const ledger = await DecisionLedger.start(stack.nc, stack.js);
    const prefix = `${options.scenario}-${Date.now().toString(36)}-`;
    const load = new ChaosLoad(stack.js, {
      prefix,
      correlationsPerSecond: options.rate,
      partialShare: options.partialShare ?? 0.2,
      agentSpreadMs: options.agentSpreadMs,
      riskFirst: options.riskFirst,
    });
    running = load;
    const faults = new FaultLog();
    const ctx = { stack, load, ledger, faults };
    load.start();
    const warmup = options.warmupDecisions ?? 10;
    await pollUntil(
      `${warmup} decisions before the first fault`,
      () => (ledger.arrivals.length >= warmup ? true : undefined),
      60_000,
    );
    await options.chaos(ctx);
    const tailUntil = Date.now() + 2_000;
    await pollUntil(
      `${options.minCorrelations} correlations published`,
      () => (load.started >= options.minCorrelations && Date.now() >= tailUntil ? true : undefined),
      300_000,
      50,
    );
    const verify = typeof options.verify === 'function' ? options.verify(ctx) : (options.verify ?? {});
    report = await finishAndVerify({
      ...ctx,
      ...verify,
      policyTimeoutMs: Number(options.policy.timeout_ms),
      startedAt,
      loadavgStart,
    });
    console.log(summary(report));
    return report;
  } finally {
    await running?.abort();
    const healthy = report !== undefined && report.problems.length === 0;
    // ORCH_CHAOS_KEEP=1 keeps the logs and data of a passing run too.
    await stack.stop(!healthy || process.env.ORCH_CHAOS_KEEP === '1');
    if (!healthy || process.env.ORCH_CHAOS_KEEP === '1')
      console.log(`[chaos ${options.scenario}] data and logs kept in ${stack.dir}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The operator CLI

/** Runs the compiled `orch` CLI against the stack. */
export function runOrchCli(stack: ChaosStack, args: string[]): Promise<CommandRun> {
  return runOrch(args, stack.cliEnv, { timeoutMs: 120_000 });
}

// ---------------------------------------------------------------------------------------------
// The cluster's own faults

/**
 * Waits until `count` complete correlations begun after `since` are decided, with the fault still
 * in place: the cluster carries on without the failed part. Returns the seconds from `since` to the
 * first of them decided.
 */
export async function decidedWhileDown(
  load: ChaosLoad,
  ledger: DecisionLedger,
  since: number,
  count: number,
  timeoutMs: number,
): Promise<number> {
  const begunSince = (): PublishedCorrelation[] => load.correlations.filter((c) => !c.partial && c.firstSentAt > since);
  const decided = await pollUntil(
    `${count} correlations begun after the fault decided while it lasts`,
    () => {
      const done = begunSince().filter((c) => ledger.decided(c.corrId));
      return done.length >= count ? done : undefined;
    },
    timeoutMs,
    100,
  );
  const first = Math.min(...decided.map((c) => ledger.firstArrival.get(c.corrId) as number));
  return Math.round((first - since) / 100) / 10;
}
