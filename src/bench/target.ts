/**
 * What the benchmark runs against: a local stack it starts itself in a fresh temp data dir, or an
 * external Temporal and NATS (with their worker and bridge already running) from the environment.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import type { ConnectionOptions, JetStreamManager } from 'nats';
import { type Config, ConfigError, loadConfig } from '../config';
import type { PolicyInput } from '../contract/policy';
import { ENGINE_SETTINGS, type EngineSettings, type LocalStack, startLocalStack } from '../devstack/local-stack';
import { POSTGRES_MAJOR } from '../devstack/postgres';
import { BASE_SQLITE_PRAGMAS, type ManagedProcess } from '../devstack/processes';
import { getFreePort } from '../process/free-port';
import { natsConnectionOptions } from '../nats/connection';
import { type DeclaredStream, declareDecisionsStream, SIGNALS_STREAM } from '../nats/streams';
import type { BenchOptions } from './options';
import type { Tracked } from './resources';

/** What ran the workflows, as result.json records it. */
export interface EngineShape {
  kind: 'dev' | 'cluster';
  temporal: {
    nodes: number;
    /** What clients dial. */
    frontend: string;
    /** As the server reports them (GetClusterInfo); null when it did not answer. */
    serverVersion: string | null;
    historyShards: number | null;
    persistenceStore: string | null;
    visibilityStore: string | null;
  };
  /** Cluster: the server's own `postgres --version`. */
  postgres?: string;
  /** Nodes, and the replicas the orchestrator's streams are declared with. */
  nats: { nodes: number; replicas: number };
}

export interface BenchTarget {
  nats: ConnectionOptions;
  temporal: Config['temporal'];
  /** Settings for child processes the bench starts (the ceiling worker). */
  processEnv: Record<string, string>;
  /**
   * DECISIONS as the worker declares it: the bench creates it first, so its observer can start before the first signal.
   */
  decisions: DeclaredStream;
  /** The bridge's batch window, which the fan-in ceiling (C2) batches with too. */
  batchWindowMs: number;
  /**
   * Each Temporal server node's Prometheus metrics, whose database time a phase adds up; local target only (else
   * empty).
   */
  temporalMetricsUrls: string[];
  /** Which engine ran: the local dev server, the local cluster, or what an external target is. */
  engineKind: 'dev' | 'cluster' | 'external';
  /** Local target: its shape (nodes, shards, stores, versions). */
  engineShape?: EngineShape;
  /** The dev server's dynamic configuration and SQLite pragmas as run; local dev engine only. */
  engine?: EngineSettings;
  /** The policy the local stack runs with; undefined for an external target (its worker's own). */
  policy?: PolicyInput;
  /** Where process logs go. */
  logDir: string;
  dataDir?: string;
  /**
   * Processes to sample, by name; `{ tree: pid }` samples the pid with every process below it (PostgreSQL's backends).
   */
  pids(): Record<string, Tracked | undefined>;
  /**
   * Local: stops the orchestrator's bridge and worker, so work they have left (a backlog after an
   * overload) does not compete with the ceiling. External: nothing (they are not ours to stop).
   */
  quiesce(): Promise<boolean>;
  /** Stops what was started; the data dir is kept with --keep-data or after a failure. */
  stop(failed: boolean): Promise<void>;
}

/** Waits until the bridge has created the SIGNALS stream, so agents can publish. */
export async function waitForSignalsStream(jsm: JetStreamManager, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await jsm.streams.info(SIGNALS_STREAM).then(
      () => true,
      () => false,
    ))
  ) {
    if (Date.now() > deadline)
      throw new Error(`no ${SIGNALS_STREAM} stream on NATS after ${timeoutMs / 1000} s: is the bridge running?`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What of the local stack's engine the samples and scrapes need (a test gives a stand-in). */
export type EngineProcesses =
  | { kind: 'dev'; temporal: { pid: number | undefined; metricsUrl?: string }; nats: { pid: number | undefined } }
  | {
      kind: 'cluster';
      temporalNodes: Array<{ name: string; pid: number | undefined; metricsUrl: string }>;
      postgres: { pid: number | undefined };
      nats: { nodes: Array<{ pid: number | undefined }> };
      ui: { pid: number | undefined } | undefined;
    };

/**
 * The engine's processes to sample: the dev server and nats-server; or each Temporal node, each
 * NATS node, the UI, and PostgreSQL as a tree (the postmaster and its backends, which come and go
 * with the nodes' connections). The frontend balancer runs in the bench's own process.
 */
export function enginePids(engine: EngineProcesses): Record<string, Tracked | undefined> {
  if (engine.kind === 'dev') return { temporal: engine.temporal.pid, nats: engine.nats.pid };
  return {
    ...Object.fromEntries(engine.temporalNodes.map((n) => [`temporal-${n.name}`, n.pid])),
    ...Object.fromEntries(engine.nats.nodes.map((n, i) => [`nats-${i + 1}`, n.pid])),
    postgres: engine.postgres.pid === undefined ? undefined : { tree: engine.postgres.pid },
    ui: engine.ui?.pid,
  };
}

/** Every Temporal server's Prometheus endpoint: the dev server's, or each node's. */
export function engineMetricsUrls(engine: EngineProcesses): string[] {
  if (engine.kind === 'cluster') return engine.temporalNodes.map((n) => n.metricsUrl);
  return engine.temporal.metricsUrl ? [engine.temporal.metricsUrl] : [];
}

/** Sampling names of running processes: worker, worker-2, … */
function runningPids(name: string, processes: ManagedProcess[]): Record<string, number | undefined> {
  return Object.fromEntries(
    processes.flatMap((p, i) => (p.running ? [[i === 0 ? name : `${name}-${i + 1}`, p.pid]] : [])),
  );
}

export async function openTarget(options: BenchOptions, say: (line: string) => void): Promise<BenchTarget> {
  if (options.target === 'external') {
    const config = loadConfig(process.env);
    return {
      nats: natsConnectionOptions(config.nats),
      temporal: config.temporal,
      processEnv: {},
      decisions: declareDecisionsStream(config.streams),
      batchWindowMs: config.bridge.batchWindowMs,
      temporalMetricsUrls: [],
      engineKind: 'external',
      logDir: options.outDir,
      pids: () => ({ ...options.pids }),
      quiesce: async () => false,
      stop: async () => undefined,
    };
  }

  // The stack's settings are validated before anything starts.
  try {
    loadConfig({ ...options.stackEnv });
  } catch (error) {
    throw new ConfigError(`--stack-env: ${(error as Error).message}`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'orch-bench-'));
  const policy: PolicyInput = {
    version: `bench-${options.timeoutMs}ms`,
    expected_agents: options.agents,
    timeout_ms: options.timeoutMs,
  };
  const policyFile = join(dataDir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy, null, 2));
  const [temporalPort, uiPort, natsPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
  say(`local stack in ${dataDir}`);
  let stack: LocalStack;
  try {
    stack = await startLocalStack(
      {
        dataDir,
        temporalPort,
        uiPort,
        natsPort,
        env: { ...options.stackEnv, ORCH_POLICY_FILE: policyFile },
        workers: options.workers,
        bridges: options.bridges,
        engine: options.engine,
        devServer: options.devServer,
        ...(options.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(options.outDir, 'profiles')}`] } : {}),
      },
      say,
    );
  } catch (error) {
    say(`the local stack did not start; its logs are in ${join(dataDir, 'logs')}`);
    throw error;
  }
  // The settings the stack's worker and bridge run with (on the cluster, R3 streams): DECISIONS as they declare it.
  let stackSettings: Config;
  let shape: EngineShape;
  try {
    stackSettings = loadConfig({ ...stack.env });
    shape = await engineShape(stack, stackSettings.streams.signals.replicas);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const engine = stack.engine;
  return {
    nats: { servers: stack.natsUrl.split(',') },
    temporal: { connectionOptions: { address: stack.temporalAddress }, namespace: 'default' },
    processEnv: { TEMPORAL_ADDRESS: stack.temporalAddress, NATS_URL: stack.natsUrl },
    decisions: declareDecisionsStream(stackSettings.streams),
    batchWindowMs: stackSettings.bridge.batchWindowMs,
    temporalMetricsUrls: engineMetricsUrls(engine),
    engineKind: engine.kind,
    engineShape: shape,
    ...(engine.kind === 'dev'
      ? {
          engine: {
            dynamicConfig: { ...ENGINE_SETTINGS.dynamicConfig, ...options.devServer.dynamicConfig },
            sqlitePragmas: {
              ...BASE_SQLITE_PRAGMAS,
              ...ENGINE_SETTINGS.sqlitePragmas,
              ...options.devServer.sqlitePragmas,
            },
            env: { ...ENGINE_SETTINGS.env, ...options.devServer.env },
          },
        }
      : {}),
    policy,
    logDir: stack.logDir,
    dataDir,
    pids: () => ({
      ...runningPids('worker', stack.workers),
      ...runningPids('bridge', stack.bridges),
      ...enginePids(engine),
    }),
    async quiesce() {
      await Promise.all(stack.bridges.map((b) => b.stop()));
      await Promise.all(stack.workers.map((w) => w.stop()));
      return true;
    },
    async stop(failed) {
      await stack.stop();
      if (options.keepData || failed) say(`kept the data dir ${dataDir} (logs in ${stack.logDir})`);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What the server says of itself; nulls when it does not answer. */
async function clusterInfo(
  address: string,
): Promise<Pick<EngineShape['temporal'], 'serverVersion' | 'historyShards' | 'persistenceStore' | 'visibilityStore'>> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 5_000 });
    try {
      const info = await connection.workflowService.getClusterInfo({});
      return {
        serverVersion: info.serverVersion || null,
        historyShards: info.historyShardCount || null,
        persistenceStore: info.persistenceStore || null,
        visibilityStore: info.visibilityStore || null,
      };
    } finally {
      await connection.close();
    }
  } catch {
    return { serverVersion: null, historyShards: null, persistenceStore: null, visibilityStore: null };
  }
}

/**
 * `postgres (PostgreSQL) 15.18 (…)` from the binary the server runs (its command line's first word), else the major
 * version the stack pins.
 */
async function postgresVersion(pid: number | undefined): Promise<string> {
  try {
    const binary = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return (await promisify(execFile)(binary, ['--version'], { timeout: 5_000 })).stdout.trim();
  } catch {
    return `PostgreSQL ${POSTGRES_MAJOR}`;
  }
}

async function engineShape(stack: LocalStack, replicas: number): Promise<EngineShape> {
  const temporal = await clusterInfo(stack.temporalAddress);
  const engine = stack.engine;
  if (engine.kind === 'dev') {
    return {
      kind: 'dev',
      temporal: { nodes: 1, frontend: `the dev server, ${stack.temporalAddress}`, ...temporal },
      nats: { nodes: 1, replicas },
    };
  }
  return {
    kind: 'cluster',
    temporal: {
      nodes: engine.temporalNodes.length,
      frontend: `a TCP balancer over the nodes' frontends, in the bench's own process, ${stack.temporalAddress}`,
      ...temporal,
    },
    postgres: await postgresVersion(engine.postgres.pid),
    nats: { nodes: engine.nats.nodes.length, replicas },
  };
}
