import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import { SEARCH_ATTRIBUTE_TYPES } from '../shared/search-attributes';
import { requireTool } from './tools';

const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
const STOP_GRACE_MS = 10_000;
const TAIL_LINES = 50;

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A server left running would hold its ports and store dir for the next run.
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/**
 * SIGKILLs every child still running. Under jest `process` is a sandbox copy whose 'exit' event never
 * fires, so test suites should call this in afterAll instead of relying on the hook.
 */
export async function killAllManagedProcesses(): Promise<void> {
  const exits = [...liveChildren].map((c) => new Promise((resolve) => c.once('exit', resolve)));
  for (const c of liveChildren) c.kill('SIGKILL');
  await Promise.all(exits);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

import { getFreePort } from '../process/free-port';

export { getFreePort };

export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1_000, () => done(false));
  });
}

export interface ProcessSpec {
  label: string;
  command: string;
  args: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  logFile?: string;
  /** The process is ready once a line of its output matches this (for processes without a probe). */
  readyLine?: RegExp;
  /** What `stop()` sends first (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /** How long it may take to become ready (default 30 s). */
  readyTimeoutMs?: number;
  /** Runs the process as this user (PostgreSQL refuses to run as root). */
  user?: { uid: number; gid: number };
}

/** A server child process that can be started, stopped, killed and restarted with the same arguments. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<number | null> = Promise.resolve(null);
  private readonly tailLines: string[] = [];
  private sawReadyLine = false;

  constructor(protected readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.pid !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Resolves with the exit code (null when killed by a signal) of the current run. */
  get exited(): Promise<number | null> {
    return this.exitPromise;
  }

  /** The last lines the server wrote to stdout/stderr. */
  tail(): string {
    return this.tailLines.join('\n');
  }

  /** One readiness probe; subclasses override it. */
  protected isReady(): Promise<boolean> {
    return Promise.resolve(this.spec.readyLine === undefined || this.sawReadyLine);
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.label} is already running (pid ${this.pid})`);
    const { label, command, args, env, logFile } = this.spec;
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
      ...this.spec.user,
    });
    this.sawReadyLine = false;
    this.child = child;
    const log = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
    const onOutput = (chunk: Buffer): void => {
      log?.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.tailLines.push(line);
        if (this.spec.readyLine?.test(line)) this.sawReadyLine = true;
      }
      this.tailLines.splice(0, Math.max(0, this.tailLines.length - TAIL_LINES));
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('close', () => log?.end());
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', (err) => {
        this.tailLines.push(`${label}: ${err.message}`);
        resolve(null);
      });
    });
    if (child.pid !== undefined) track(child);

    const readyTimeoutMs = this.spec.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (!this.running) {
        const code = await this.exitPromise;
        throw new Error(`${label} exited (code ${code}) before it was ready. Last output:\n${this.tail()}`);
      }
      if (await this.isReady()) return;
      if (Date.now() > deadline) {
        await this.kill9();
        throw new Error(`${label} not ready after ${readyTimeoutMs / 1000}s. Last output:\n${this.tail()}`);
      }
      await sleep(READY_POLL_MS);
    }
  }

  /**
   * SIGTERM (or the spec's stop signal), then SIGKILL if still alive after 10 s; resolves once the process has exited.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(this.spec.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** SIGKILL, as in a crash; resolves once the process has exited. */
  async kill9(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** Sends `signal` and resolves once the process has exited (for servers whose signals mean different stops). */
  async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    if (!this.child || !this.running) return;
    this.child.kill(signal);
    await this.exitPromise;
  }

  /** Stops the server if it runs, then starts it again with the same arguments and ports. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

export class NatsServer extends ManagedProcess {
  readonly url: string;
  readonly monitorUrl: string;

  constructor(
    readonly port: number,
    monitorPort: number,
    spec: ProcessSpec,
    /**
     * Ready once JetStream is on (a lone server), or once it is current with its cluster: a meta leader, streams caught
     * up.
     */
    private readonly readyWhen: 'jetstream-enabled' | 'jetstream-current' = 'jetstream-enabled',
  ) {
    super(spec);
    this.url = `nats://127.0.0.1:${port}`;
    this.monitorUrl = `http://127.0.0.1:${monitorPort}`;
  }

  protected override async isReady(): Promise<boolean> {
    if (!(await acceptsConnections(this.port))) return false;
    try {
      const res = await fetch(
        `${this.monitorUrl}/healthz${this.readyWhen === 'jetstream-enabled' ? '?js-enabled-only=true' : ''}`,
        {
          signal: AbortSignal.timeout(1_000),
        },
      );
      await res.text();
      return res.status === 200;
    } catch {
      return false;
    }
  }
}

export interface NatsServerOptions {
  port?: number;
  storeDir: string;
  configFile?: string;
  logFile?: string;
  /** The server's name (its JetStream identity in a cluster); its label in logs and errors too. */
  name?: string;
  /** More flags, e.g. a cluster's. */
  extraArgs?: string[];
  /** A cluster's node is ready once JetStream is current with the others, not merely on. */
  clustered?: boolean;
}

/** nats-server with JetStream on file storage in storeDir, ready once clients and /healthz are served. */
export async function startNatsServer(opts: NatsServerOptions): Promise<NatsServer> {
  const command = requireTool('nats-server');
  const port = opts.port ?? (await getFreePort());
  const monitorPort = await getFreePort();
  const args = ['-js', '-sd', opts.storeDir, '-a', '127.0.0.1', '-p', String(port), '--http_port', String(monitorPort)];
  if (opts.configFile) args.push('-c', opts.configFile);
  if (opts.name) args.push('-n', opts.name);
  args.push(...(opts.extraArgs ?? []));
  const spec = {
    label: opts.name ? `nats-server ${opts.name}` : 'nats-server',
    command,
    args,
    logFile: opts.logFile,
    ...(opts.clustered ? { readyTimeoutMs: 120_000 } : {}),
  };
  const server = new NatsServer(port, monitorPort, spec, opts.clustered ? 'jetstream-current' : 'jetstream-enabled');
  await server.start();
  return server;
}

export class TemporalDevServer extends ManagedProcess {
  readonly address: string;
  readonly uiUrl: string | undefined;
  /** The server's own Prometheus metrics (its persistence latencies among them), when asked for. */
  readonly metricsUrl: string | undefined;

  constructor(
    readonly port: number,
    uiPort: number | false,
    metricsPort: number | undefined,
    spec: ProcessSpec,
  ) {
    super(spec);
    this.address = `127.0.0.1:${port}`;
    this.uiUrl = uiPort === false ? undefined : `http://127.0.0.1:${uiPort}`;
    this.metricsUrl = metricsPort === undefined ? undefined : `http://127.0.0.1:${metricsPort}/metrics`;
  }

  protected override isReady(): Promise<boolean> {
    return temporalServing(this.address);
  }
}

/** One readiness probe of a Temporal frontend: `temporal operator cluster health` says SERVING. */
export function temporalServing(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      requireTool('temporal'),
      ['operator', 'cluster', 'health', '--address', address],
      { timeout: 5_000 },
      (err, stdout) => resolve(!err && stdout.includes('SERVING')),
    );
  });
}

export interface TemporalDevServerOptions {
  port?: number;
  /** false runs headless; undefined picks a free port. */
  uiPort?: number | false;
  /** SQLite file for persistence across restarts; in-memory when omitted. */
  dbFile?: string;
  /** Serves the server's Prometheus metrics on this port. */
  metricsPort?: number;
  /** Dynamic configuration, key → JSON value (`--dynamic-config-value key=value`). */
  dynamicConfig?: Record<string, string>;
  /** SQLite pragmas for the database file, on top of WAL and synchronous=OFF (a key given here wins). */
  sqlitePragmas?: Record<string, string>;
  /** Added to the server's environment, e.g. GOGC for its Go garbage collector. */
  env?: Record<string, string>;
  namespace?: string;
  /** name -> type (Text, Keyword, Int, Double, Bool, Datetime, KeywordList); the orchestrator's by default. */
  searchAttributes?: Record<string, string>;
  logFile?: string;
  extraArgs?: string[];
}

/** With SQLite's default rollback journal and full sync every write waits on the disk: far too slow. */
export const BASE_SQLITE_PRAGMAS: Readonly<Record<string, string>> = { journal_mode: 'WAL', synchronous: 'OFF' };

/** `temporal server start-dev`, ready once `temporal operator cluster health` reports SERVING. */
export async function startTemporalDevServer(opts: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const command = requireTool('temporal');
  const port = opts.port ?? (await getFreePort());
  const uiPort = opts.uiPort === false ? false : (opts.uiPort ?? (await getFreePort()));
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  args.push(...(uiPort === false ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (opts.dbFile) {
    const pragmas = { ...BASE_SQLITE_PRAGMAS, ...opts.sqlitePragmas };
    args.push(
      '--db-filename',
      opts.dbFile,
      ...Object.entries(pragmas).flatMap(([k, v]) => ['--sqlite-pragma', `${k}=${v}`]),
    );
  }
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? {}))
    args.push('--dynamic-config-value', `${key}=${value}`);
  args.push('--log-level', 'warn');
  if (opts.metricsPort !== undefined) args.push('--metrics-port', String(opts.metricsPort));
  if (opts.namespace) args.push('--namespace', opts.namespace);
  for (const [name, type] of Object.entries(opts.searchAttributes ?? SEARCH_ATTRIBUTE_TYPES))
    args.push('--search-attribute', `${name}=${type}`);
  args.push(...(opts.extraArgs ?? []));
  const server = new TemporalDevServer(port, uiPort, opts.metricsPort, {
    label: 'temporal dev server',
    command,
    args,
    logFile: opts.logFile,
    env: opts.env,
  });
  await server.start();
  return server;
}
