/**
 * What the benchmark runs against: a local stack it starts itself in a fresh temp data dir, or an
 * external Temporal and NATS (with their worker and bridge already running) from the environment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions, JetStreamManager } from 'nats';
import { type Config, ConfigError, loadConfig } from '../config';
import type { PolicyInput } from '../contract/policy';
import { ENGINE_SETTINGS, type EngineSettings, type LocalStack, startLocalStack } from '../devstack/local-stack';
import { BASE_SQLITE_PRAGMAS, type ManagedProcess } from '../devstack/processes';
import { getFreePort } from '../process/free-port';
import { natsConnectionOptions } from '../nats/connection';
import { type DeclaredStream, declareDecisionsStream, SIGNALS_STREAM } from '../nats/streams';
import type { BenchOptions } from './options';

export interface BenchTarget {
  nats: ConnectionOptions;
  temporal: Config['temporal'];
  /** Settings for child processes the bench starts (the ceiling worker). */
  processEnv: Record<string, string>;
  /** DECISIONS as the worker declares it: the bench creates it first, so its observer can start before the first signal. */
  decisions: DeclaredStream;
  /** The bridge's batch window, which the fan-in ceiling (C2) batches with too. */
  batchWindowMs: number;
  /** The Temporal server's Prometheus metrics, for its database time; local target only. */
  temporalMetricsUrl?: string;
  /** The dev server's dynamic configuration and SQLite pragmas as run; local target only. */
  engine?: EngineSettings;
  /** The policy the local stack runs with; undefined for an external target (its worker's own). */
  policy?: PolicyInput;
  /** Where process logs go. */
  logDir: string;
  dataDir?: string;
  /** Processes to sample, by name. */
  pids(): Record<string, number | undefined>;
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
  while (!(await jsm.streams.info(SIGNALS_STREAM).then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error(`no ${SIGNALS_STREAM} stream on NATS after ${timeoutMs / 1000} s: is the bridge running?`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sampling names of running processes: worker, worker-2, … */
function runningPids(name: string, processes: ManagedProcess[]): Record<string, number | undefined> {
  return Object.fromEntries(processes.flatMap((p, i) => (p.running ? [[i === 0 ? name : `${name}-${i + 1}`, p.pid]] : [])));
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
      logDir: options.outDir,
      pids: () => ({ ...options.pids }),
      quiesce: async () => false,
      stop: async () => undefined,
    };
  }

  // The stack's settings are validated before anything starts.
  let settings: Config;
  try {
    settings = loadConfig({ ...options.stackEnv });
  } catch (error) {
    throw new ConfigError(`--stack-env: ${(error as Error).message}`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'orch-bench-'));
  const policy: PolicyInput = { version: `bench-${options.timeoutMs}ms`, expected_agents: options.agents, timeout_ms: options.timeoutMs };
  const policyFile = join(dataDir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy, null, 2));
  const [temporalPort, uiPort, natsPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
  say(`local stack in ${dataDir}`);
  let stack: LocalStack;
  try {
    stack = await startLocalStack(
      { dataDir, temporalPort, uiPort, natsPort, env: { ...options.stackEnv, ORCH_POLICY_FILE: policyFile }, workers: options.workers, bridges: options.bridges, engine: options.engine, devServer: options.devServer,
        ...(options.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(options.outDir, 'profiles')}`] } : {}) },
      say,
    );
  } catch (error) {
    say(`the local stack did not start; its logs are in ${join(dataDir, 'logs')}`);
    throw error;
  }
  return {
    nats: { servers: stack.natsUrl.split(',') },
    temporal: { connectionOptions: { address: stack.temporalAddress }, namespace: 'default' },
    processEnv: { TEMPORAL_ADDRESS: stack.temporalAddress, NATS_URL: stack.natsUrl },
    decisions: declareDecisionsStream(settings.streams),
    batchWindowMs: settings.bridge.batchWindowMs,
    ...(stack.engine.kind === 'dev' && stack.engine.temporal.metricsUrl ? { temporalMetricsUrl: stack.engine.temporal.metricsUrl } : {}),
    engine: {
      dynamicConfig: { ...ENGINE_SETTINGS.dynamicConfig, ...options.devServer.dynamicConfig },
      sqlitePragmas: { ...BASE_SQLITE_PRAGMAS, ...ENGINE_SETTINGS.sqlitePragmas, ...options.devServer.sqlitePragmas },
      env: { ...ENGINE_SETTINGS.env, ...options.devServer.env },
    },
    policy,
    logDir: stack.logDir,
    dataDir,
    pids: () => ({
      ...runningPids('worker', stack.workers),
      ...runningPids('bridge', stack.bridges),
      ...(stack.engine.kind === 'dev'
        ? { temporal: stack.engine.temporal.pid, nats: stack.engine.nats.pid }
        : {
            ...Object.fromEntries(stack.engine.temporalNodes.map((n) => [`temporal-${n.name}`, n.pid])),
            ...Object.fromEntries(stack.engine.nats.nodes.map((n, i) => [`nats-${i + 1}`, n.pid])),
            postgres: stack.engine.postgres.pid,
          }),
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
