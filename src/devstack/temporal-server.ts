/**
 * The real Temporal server for the cluster engine: nodes of `temporal-server`, each running the four
 * services on its own ports, sharing one PostgreSQL; the schema and namespace steps before and after
 * they start. Every node reads deploy/temporal/config/cluster.yaml and its dynamic configuration, the
 * files docker-compose.yml mounts, so what runs here is what the deployment describes.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { getFreePort, ManagedProcess, type ProcessSpec, temporalServing } from './processes';
import { repoRoot, requireTool, toolsDir } from './tools';

export const TEMPORAL_DEPLOY_DIR = join(repoRoot(), 'deploy', 'temporal');
export const TEMPORAL_CONFIG_DIR = join(TEMPORAL_DEPLOY_DIR, 'config');
export const TEMPORAL_DYNAMIC_CONFIG_FILE = join(TEMPORAL_DEPLOY_DIR, 'dynamicconfig', 'cluster.yaml');
/** The retention of the namespace the cluster engine creates (deploy/temporal/setup-namespace.sh). */
export const NAMESPACE_RETENTION = '24h';

/** How the server reaches PostgreSQL: the TEMPORAL_SQL_* settings of cluster.yaml and setup-schema.sh. */
export interface SqlSettings {
  host: string;
  port: number;
  user: string;
  password: string;
}

function sqlEnv(sql: SqlSettings): Record<string, string> {
  return {
    TEMPORAL_SQL_HOST: sql.host,
    TEMPORAL_SQL_PORT: String(sql.port),
    TEMPORAL_SQL_USER: sql.user,
    TEMPORAL_SQL_PASSWORD: sql.password,
  };
}

/** Runs a bash script of deploy/temporal with `env`; rejects with its output when it fails. */
function runScript(script: string, env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'bash',
      [join(TEMPORAL_DEPLOY_DIR, script)],
      { env: { ...process.env, ...env }, timeout: timeoutMs },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`deploy/temporal/${script} failed: ${(stderr || stdout || err.message).trim()}`))
          : resolve(stdout),
    ),
  );
}

/** Creates the persistence and visibility databases, or brings their schema up to date (idempotent). */
export function setupSchema(sql: SqlSettings): Promise<string> {
  return runScript(
    'setup-schema.sh',
    {
      ...sqlEnv(sql),
      TEMPORAL_SQL_TOOL: requireTool('temporal-sql-tool'),
      TEMPORAL_SCHEMA_DIR: join(toolsDir(), 'temporal-server', 'schema'),
    },
    120_000,
  );
}

/** Creates the namespace (when missing) and registers the search attributes, through `address`. */
export function setupNamespace(address: string, namespace = 'default'): Promise<string> {
  const cliDir = join(requireTool('temporal'), '..');
  return runScript(
    'setup-namespace.sh',
    {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_NAMESPACE_RETENTION: NAMESPACE_RETENTION,
      PATH: `${cliDir}:${process.env.PATH ?? ''}`,
    },
    180_000,
  );
}

const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;

/** One node: its four services' gRPC and membership ports, the frontend's HTTP port, its metrics. */
export interface TemporalNodePorts {
  grpc: Record<(typeof SERVICES)[number], number>;
  membership: Record<(typeof SERVICES)[number], number>;
  http: number;
  metrics: number;
}

async function freeNodePorts(): Promise<TemporalNodePorts> {
  const ports = async (): Promise<Record<(typeof SERVICES)[number], number>> =>
    Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await getFreePort()] as const))) as Record<
      (typeof SERVICES)[number],
      number
    >;
  return { grpc: await ports(), membership: await ports(), http: await getFreePort(), metrics: await getFreePort() };
}

export class TemporalNode extends ManagedProcess {
  readonly frontendAddress: string;
  readonly metricsUrl: string;

  constructor(
    readonly name: string,
    readonly ports: TemporalNodePorts,
    spec: ProcessSpec,
  ) {
    super(spec);
    this.frontendAddress = `127.0.0.1:${ports.grpc.frontend}`;
    this.metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
  }

  /** Ready once its own frontend reports SERVING (it has joined the ring and owns or reaches every shard). */
  protected override isReady(): Promise<boolean> {
    return temporalServing(this.frontendAddress);
  }
}

export interface TemporalNodeOptions {
  name: string;
  sql: SqlSettings;
  /** What clients dial (the frontends' balancer), recorded as the cluster's rpc address. */
  frontendAddress: string;
  logFile?: string;
}

/** A node of the real server, not yet started; its ports are free ones, kept across restarts. */
export async function temporalNode(opts: TemporalNodeOptions): Promise<TemporalNode> {
  const ports = await freeNodePorts();
  const env: Record<string, string> = {
    ...sqlEnv(opts.sql),
    TEMPORAL_FRONTEND_ADDRESS: opts.frontendAddress,
    TEMPORAL_DYNAMIC_CONFIG_FILE: TEMPORAL_DYNAMIC_CONFIG_FILE,
    TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${ports.metrics}`,
    TEMPORAL_FRONTEND_HTTP_PORT: String(ports.http),
  };
  for (const service of SERVICES) {
    env[`TEMPORAL_${service.toUpperCase()}_GRPC_PORT`] = String(ports.grpc[service]);
    env[`TEMPORAL_${service.toUpperCase()}_MEMBERSHIP_PORT`] = String(ports.membership[service]);
  }
  const args = ['--root', '/', '--config', TEMPORAL_CONFIG_DIR, '--env', 'cluster', '--allow-no-auth', 'start'];
  // A node restarted after a crash first waits out its dead self's membership record.
  return new TemporalNode(opts.name, ports, {
    label: `temporal-server ${opts.name}`,
    command: requireTool('temporal-server'),
    args,
    env,
    logFile: opts.logFile,
    readyTimeoutMs: 120_000,
  });
}
