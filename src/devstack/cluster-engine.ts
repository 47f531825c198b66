/**
 * The production shape on one machine: PostgreSQL; two Temporal server nodes sharing it, each
 * running the four services, behind one frontend address (a TCP balancer, as a Kubernetes Service
 * is); the standalone Temporal UI; a three-node NATS cluster. Everything under one data folder, so a
 * second start resumes from disk.
 */
import { join } from 'node:path';
import { acceptsConnections, getFreePort, ManagedProcess, type ProcessSpec } from './processes';
import { type NatsCluster, startNatsCluster } from './nats-cluster';
import { type PostgresServer, startPostgres } from './postgres';
import { TcpProxy } from './tcp-proxy';
import { setupNamespace, setupSchema, type SqlSettings, type TemporalNode, temporalNode } from './temporal-server';
import { requireTool, toolsDir } from './tools';

export const TEMPORAL_NODE_COUNT = 2;
/** Loopback only; the server authenticates with it (scram-sha-256). */
const SQL_USER = 'temporal';
const SQL_PASSWORD = 'temporal';

export interface ClusterEngineOptions {
  dataDir: string;
  logDir: string;
  /** The frontends' shared address (the balancer). */
  temporalPort?: number;
  /** The UI's port; false runs none. */
  uiPort?: number | false;
  /** The UI decrypts payloads through this codec server. */
  codecEndpoint?: string;
  /** Client ports of the NATS nodes. */
  natsPorts?: number[];
  /** See NatsClusterOptions.routePort (network partitions in the chaos tests). */
  natsRoutePort?: (from: number, to: number, clusterPort: number) => Promise<number>;
}

export interface ClusterEngine {
  kind: 'cluster';
  postgres: PostgresServer;
  temporalNodes: TemporalNode[];
  /** The balancer in front of the frontends: what clients dial. */
  frontend: TcpProxy;
  ui: ManagedProcess | undefined;
  nats: NatsCluster;
  temporalAddress: string;
  uiUrl: string | undefined;
  natsUrl: string;
  /** Stops the UI, the Temporal nodes, the balancer, then NATS and PostgreSQL. */
  stop(): Promise<void>;
}

class HttpServerProcess extends ManagedProcess {
  constructor(
    readonly port: number,
    spec: ProcessSpec,
  ) {
    super(spec);
  }

  protected override isReady(): Promise<boolean> {
    return acceptsConnections(this.port);
  }
}

/** The standalone UI with its image's own configuration template (config/docker.yaml). */
function uiServer(
  port: number,
  temporalAddress: string,
  codecEndpoint: string | undefined,
  logFile: string,
): HttpServerProcess {
  return new HttpServerProcess(port, {
    label: 'temporal-ui-server',
    command: requireTool('temporal-ui-server'),
    args: ['--root', join(toolsDir(), 'temporal-ui-server'), '--config', 'config', '--env', 'docker', 'start'],
    env: {
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_UI_PORT: String(port),
      ...(codecEndpoint ? { TEMPORAL_CODEC_ENDPOINT: codecEndpoint } : {}),
    },
    logFile,
  });
}

export async function startClusterEngine(
  opts: ClusterEngineOptions,
  progress: (line: string) => void,
): Promise<ClusterEngine> {
  const logFile = (name: string): string => join(opts.logDir, `${name}.log`);
  progress('starting PostgreSQL and a three-node NATS cluster');
  const [postgres, nats] = await Promise.all([
    startPostgres({
      dataDir: join(opts.dataDir, 'postgres'),
      user: SQL_USER,
      password: SQL_PASSWORD,
      logFile: logFile('postgres'),
    }),
    startNatsCluster({
      dataDir: join(opts.dataDir, 'nats'),
      logDir: opts.logDir,
      ...(opts.natsPorts ? { clientPorts: opts.natsPorts } : {}),
      ...(opts.natsRoutePort ? { routePort: opts.natsRoutePort } : {}),
    }),
  ]);
  const sql: SqlSettings = { host: postgres.host, port: postgres.port, user: SQL_USER, password: SQL_PASSWORD };
  const frontendPort = opts.temporalPort ?? (await getFreePort());
  const temporalAddress = `127.0.0.1:${frontendPort}`;
  const temporalNodes = await Promise.all(
    Array.from({ length: TEMPORAL_NODE_COUNT }, (_, i) =>
      temporalNode({
        name: `node-${i + 1}`,
        sql,
        frontendAddress: temporalAddress,
        logFile: logFile(`temporal-node-${i + 1}`),
      }),
    ),
  );
  const uiPort = opts.uiPort === false ? undefined : (opts.uiPort ?? (await getFreePort()));
  const ui =
    uiPort === undefined ? undefined : uiServer(uiPort, temporalAddress, opts.codecEndpoint, logFile('temporal-ui'));
  let frontend: TcpProxy | undefined;
  const stop = async (): Promise<void> => {
    await ui?.stop();
    await Promise.all(temporalNodes.map((n) => n.stop()));
    await frontend?.stop();
    await Promise.all([nats.stop(), postgres.stop()]);
  };
  try {
    progress('setting up the Temporal schema (deploy/temporal/setup-schema.sh)');
    await setupSchema(sql);
    frontend = await TcpProxy.start(
      temporalNodes.map((n) => ({ host: '127.0.0.1', port: n.ports.grpc.frontend })),
      { port: frontendPort },
    );
    // One at a time: nodes starting together race to write the cluster's metadata on a new database.
    for (const node of temporalNodes) {
      progress(`starting Temporal ${node.name} (frontend ${node.frontendAddress})`);
      await node.start();
    }
    progress('creating the namespace and its search attributes (deploy/temporal/setup-namespace.sh)');
    const namespaceOutput = await setupNamespace(temporalAddress);
    progress(namespaceOutput.split('\n').find((line) => line.startsWith('namespace ')) ?? 'namespace ready');
    await ui?.start();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    kind: 'cluster',
    postgres,
    temporalNodes,
    frontend,
    ui,
    nats,
    temporalAddress,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    natsUrl: nats.url,
    stop,
  };
}
