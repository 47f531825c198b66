/**
 * The whole orchestrator on one machine, for trying it out: an engine (the Temporal dev server with
 * its web UI and a SQLite file, and nats-server with JetStream on disk; or the production shape of
 * cluster-engine.ts), the worker and the bridge, all under one data folder so a second start
 * resumes where the first stopped.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { type ClusterEngine, startClusterEngine } from './cluster-engine';
import { NATS_CLUSTER_SIZE } from './nats-cluster';
import {
  getFreePort,
  ManagedProcess,
  type NatsServer,
  startNatsServer,
  startTemporalDevServer,
  type TemporalDevServer,
} from './processes';
import { repoRoot } from './tools';

export type EngineKind = 'dev' | 'cluster';

/** The most workers, or bridges, one local stack runs (`npm start`, the bench): more only share the same cores. */
export const MAX_COPIES = 16;

export interface LocalStackOptions {
  /** `dev` (default): the Temporal CLI's dev server and one nats-server; `cluster`: the production shape. */
  engine?: EngineKind;
  /** Holds the engine's data (temporal.sqlite or postgres/, the NATS stores) and the process logs. */
  dataDir: string;
  /** The Temporal address clients dial (the dev server, or the cluster's frontend balancer). */
  temporalPort: number;
  uiPort: number;
  /** The first NATS node's client port; a cluster's others take the next ones. */
  natsPort: number;
  /** Extra settings for the orchestrator's own processes (see `--help` of the worker). */
  env?: Record<string, string>;
  /**
   * Workers on the task queue (default 1), each running the bridge in its process so that it starts
   * correlations eagerly, unless `env` sets ORCH_WORKER_RUNS_BRIDGE=false; and bridges of their own
   * on the same durable consumer (default 0), to scale bridges apart from workers.
   */
  workers?: number;
  bridges?: number;
  /** Options for node itself in the worker and bridge processes, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Dev server settings on top of ENGINE_SETTINGS (a key given here wins): for measuring one at a time. */
  devServer?: EngineSettings;
}

export interface EngineSettings {
  dynamicConfig?: Record<string, string>;
  sqlitePragmas?: Record<string, string>;
  /** The dev server's environment, e.g. GOGC. */
  env?: Record<string, string>;
}

/**
 * How the dev server is set up for the orchestrator's load, each setting measured on its own
 * (docs/BENCHMARKS.md, "The engine set up for this load").
 */
export const ENGINE_SETTINGS: Required<EngineSettings> = {
  dynamicConfig: {
    // The CLI forces a database read of the search attributes on every use, so that ones created
    // at run time show at once; ours are registered at start. Off, it halved the database
    // operations per correlation (21.6 to 10.3).
    'system.forceSearchAttributesCacheRefreshOnRead': 'false',
    // One partition per task queue: on one node, four only make a task look for a poller in more
    // places (forwarding, or a database write) before it is matched.
    'matching.numTaskqueueReadPartitions': '1',
    'matching.numTaskqueueWritePartitions': '1',
  },
  sqlitePragmas: {},
  env: {},
};

/** The dev engine: one process of each server. Its addresses are named as the cluster engine's are. */
export interface DevEngine {
  kind: 'dev';
  temporal: TemporalDevServer;
  nats: NatsServer;
  temporalAddress: string;
  natsUrl: string;
  uiUrl: string | undefined;
  stop(): Promise<void>;
}

export interface LocalStack {
  engine: DevEngine | ClusterEngine;
  /** What the orchestrator's processes dial. */
  temporalAddress: string;
  natsUrl: string;
  uiUrl: string | undefined;
  /**
   * The workers share the task queue, the bridges the durable consumer; the first of each logs to worker.log,
   * bridge.log.
   */
  workers: ManagedProcess[];
  bridges: ManagedProcess[];
  /** The codec server the UI decrypts payloads with, when payload encryption is configured (ORCH_CODEC_KEYS). */
  codecServer?: ManagedProcess;
  /** The settings the orchestrator's processes were started with. */
  env: Record<string, string>;
  logDir: string;
  /** Stops the bridge and the worker first (they drain), then NATS and Temporal. */
  stop(): Promise<void>;
}

/** A compiled entry point of this project (`npm run build` makes them). */
export function compiledEntryPoint(relative: string): string {
  const path = join(repoRoot(), 'dist', 'src', `${relative}.js`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  return path;
}

/**
 * One of the orchestrator's processes, ready once it logs `readyMessage`, logging to `logFile`.
 * Its HTTP endpoint gets a port of the system's choosing unless `env` names one, so several run
 * side by side.
 */
function orchestratorProcess(
  entryPoint: string,
  label: string,
  readyMessage: string,
  env: Record<string, string>,
  logFile?: string,
  nodeArgs: string[] = [],
  node = process.execPath,
): ManagedProcess {
  return new ManagedProcess({
    label,
    command: node,
    args: [...nodeArgs, compiledEntryPoint(entryPoint)],
    env: { ORCH_HTTP_PORT: '0', ...env },
    logFile,
    readyLine: new RegExp(`"msg":"${readyMessage}"`),
  });
}

/**
 * The orchestrator worker as a child process; `nodeArgs` go to node itself (e.g. --cpu-prof), and
 * `node` is the Node.js binary (this process's by default).
 */
export function workerProcess(
  env: Record<string, string>,
  logFile?: string,
  nodeArgs?: string[],
  node?: string,
): ManagedProcess {
  return orchestratorProcess('workers/worker', 'orchestrator worker', 'worker polling', env, logFile, nodeArgs, node);
}

/** The NATS → Temporal bridge as a child process. */
export function bridgeProcess(
  env: Record<string, string>,
  logFile?: string,
  nodeArgs?: string[],
  node?: string,
): ManagedProcess {
  return orchestratorProcess('workers/bridge', 'orchestrator bridge', 'bridge consuming', env, logFile, nodeArgs, node);
}

/**
 * The payload encryption codec server as a child process (it needs ORCH_CODEC_KEYS and ORCH_CODEC_SERVER_PORT in
 * `env`).
 */
export function codecServerProcess(env: Record<string, string>, logFile?: string): ManagedProcess {
  return orchestratorProcess(
    'workers/codec-server',
    'orchestrator codec server',
    'codec server listening',
    env,
    logFile,
  );
}

/**
 * `the orchestrator worker, with the bridge in its process`, `2 orchestrator workers, each with the bridge in its
 * process, and 1 bridge of its own`, …
 */
function describeProcesses(workers: number, bridgeInWorkers: boolean, bridges: number): string {
  const withBridge = bridgeInWorkers
    ? workers === 1
      ? ', with the bridge in its process'
      : ', each with the bridge in its process'
    : '';
  const ownBridges =
    bridges === 0
      ? ''
      : `${withBridge ? ',' : ''} and ${bridges === 1 ? 'a bridge' : `${bridges} bridges`} of ${bridges === 1 ? 'its' : 'their'} own`;
  return `${workers === 1 ? 'the orchestrator worker' : `${workers} orchestrator workers`}${withBridge}${ownBridges}`;
}

export async function startLocalStack(
  options: LocalStackOptions,
  progress: (line: string) => void,
): Promise<LocalStack> {
  const logDir = join(options.dataDir, 'logs');
  mkdirSync(join(options.dataDir, 'nats'), { recursive: true });
  mkdirSync(logDir, { recursive: true });

  // With payload encryption configured, a codec server (no token: it listens on 127.0.0.1 only)
  // lets the UI show the payloads decrypted.
  const encrypted = loadConfig({ ...process.env, ...options.env }).codec !== undefined;
  const codecPort = encrypted ? await getFreePort() : undefined;
  const uiOrigins = [`http://127.0.0.1:${options.uiPort}`, `http://localhost:${options.uiPort}`].join(',');

  const engine: DevEngine | ClusterEngine =
    options.engine === 'cluster'
      ? await startClusterEngine(
          {
            dataDir: options.dataDir,
            logDir,
            temporalPort: options.temporalPort,
            uiPort: options.uiPort,
            natsPorts: Array.from({ length: NATS_CLUSTER_SIZE }, (_, i) => options.natsPort + i),
            ...(codecPort ? { codecEndpoint: `http://127.0.0.1:${codecPort}` } : {}),
          },
          progress,
        )
      : await startDevEngine(options, logDir, codecPort, progress);
  const { temporalAddress, natsUrl, uiUrl } = engine;
  const env = {
    TEMPORAL_ADDRESS: temporalAddress,
    NATS_URL: natsUrl,
    ORCH_WORKER_RUNS_BRIDGE: 'true',
    // The streams replicated on every node of the cluster.
    ...(engine.kind === 'cluster' ? { ORCH_NATS_REPLICAS: String(NATS_CLUSTER_SIZE) } : {}),
    ...options.env,
  };

  const [workerCount, bridgeCount] = [options.workers ?? 1, options.bridges ?? 0];
  const bridgeInWorkers = env.ORCH_WORKER_RUNS_BRIDGE === 'true';
  if (!bridgeInWorkers && bridgeCount === 0)
    throw new Error(
      'nothing would consume SIGNALS: with ORCH_WORKER_RUNS_BRIDGE=false, start at least one bridge of its own',
    );
  progress(`starting ${describeProcesses(workerCount, bridgeInWorkers, bridgeCount)}`);
  const logFile = (name: string, i: number): string => join(logDir, i === 0 ? `${name}.log` : `${name}-${i + 1}.log`);
  const workers = Array.from({ length: workerCount }, (_, i) =>
    workerProcess(env, logFile('worker', i), options.nodeArgs),
  );
  const bridges = Array.from({ length: bridgeCount }, (_, i) =>
    bridgeProcess(env, logFile('bridge', i), options.nodeArgs),
  );
  const codecServer = codecPort
    ? codecServerProcess(
        {
          ...env,
          ORCH_CODEC_SERVER_HOST: '127.0.0.1',
          ORCH_CODEC_SERVER_PORT: String(codecPort),
          ORCH_CODEC_CORS_ORIGINS: uiOrigins,
        },
        join(logDir, 'codec-server.log'),
      )
    : undefined;
  const processes = [...workers, ...bridges, ...(codecServer ? [codecServer] : [])];
  try {
    await Promise.all(processes.map((p) => p.start()));
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop()));
    await engine.stop();
    throw error;
  }

  return {
    engine,
    temporalAddress,
    natsUrl,
    uiUrl,
    workers,
    bridges,
    ...(codecServer ? { codecServer } : {}),
    env,
    logDir,
    async stop() {
      await Promise.all(processes.map((p) => p.stop()));
      await engine.stop();
    },
  };
}

async function startDevEngine(
  options: LocalStackOptions,
  logDir: string,
  codecPort: number | undefined,
  progress: (line: string) => void,
): Promise<DevEngine> {
  progress('starting the Temporal dev server and nats-server');
  const metricsPort = await getFreePort();
  const [temporal, nats] = await Promise.all([
    startTemporalDevServer({
      port: options.temporalPort,
      uiPort: options.uiPort,
      metricsPort,
      dynamicConfig: { ...ENGINE_SETTINGS.dynamicConfig, ...options.devServer?.dynamicConfig },
      sqlitePragmas: { ...ENGINE_SETTINGS.sqlitePragmas, ...options.devServer?.sqlitePragmas },
      env: { ...ENGINE_SETTINGS.env, ...options.devServer?.env },
      dbFile: join(options.dataDir, 'temporal.sqlite'),
      logFile: join(logDir, 'temporal.log'),
      ...(codecPort ? { extraArgs: ['--ui-codec-endpoint', `http://127.0.0.1:${codecPort}`] } : {}),
    }),
    startNatsServer({
      port: options.natsPort,
      storeDir: join(options.dataDir, 'nats'),
      logFile: join(logDir, 'nats.log'),
    }),
  ]);
  return {
    kind: 'dev',
    temporal,
    nats,
    temporalAddress: temporal.address,
    natsUrl: nats.url,
    uiUrl: temporal.uiUrl,
    async stop() {
      await Promise.all([nats.stop(), temporal.stop()]);
    },
  };
}
