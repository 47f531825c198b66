/**
 * A NATS cluster with JetStream on one machine: three nats-server nodes, each with its own store,
 * client port and cluster port, sharing deploy/nats/cluster.conf. The orchestrator's streams are
 * replicated on all three (R3), as in production.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { getFreePort, type NatsServer, startNatsServer } from './processes';
import { repoRoot } from './tools';

export const NATS_CLUSTER_CONFIG = join(repoRoot(), 'deploy', 'nats', 'cluster.conf');
export const NATS_CLUSTER_SIZE = 3;

export interface NatsClusterOptions {
  /** Holds one store folder per node. */
  dataDir: string;
  /** Client ports, one per node (free ones by default). */
  clientPorts?: number[];
  logDir?: string;
  /**
   * The port node `from` dials to reach node `to`'s cluster port, for putting a proxy on each route
   * (the chaos tests' network partitions). Routes then go only where this says: each node
   * advertises a cluster address nothing listens on, so none learns a way around the proxies.
   */
  routePort?: (from: number, to: number, clusterPort: number) => Promise<number>;
}

export interface NatsCluster {
  nodes: NatsServer[];
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  url: string;
  /** Stops every node (nodes already stopped are skipped). */
  stop(): Promise<void>;
}

export const natsNodeName = (i: number): string => `nats-${i + 1}`;

export async function startNatsCluster(opts: NatsClusterOptions): Promise<NatsCluster> {
  const indexes = [...Array(NATS_CLUSTER_SIZE).keys()];
  const clusterPorts = await Promise.all(indexes.map(() => getFreePort()));
  const clientPorts = opts.clientPorts ?? (await Promise.all(indexes.map(() => getFreePort())));
  const routesOf = async (from: number): Promise<string> => {
    const ports = await Promise.all(
      indexes
        .filter((to) => to !== from || !opts.routePort)
        .map((to) => (opts.routePort ? opts.routePort(from, to, clusterPorts[to]!) : clusterPorts[to]!)),
    );
    return ports.map((port) => `nats://127.0.0.1:${port}`).join(',');
  };
  const nodes = await Promise.all(
    indexes.map(async (i) => {
      const storeDir = join(opts.dataDir, natsNodeName(i));
      mkdirSync(storeDir, { recursive: true });
      const extraArgs = ['--cluster', `nats://127.0.0.1:${clusterPorts[i]}`, '--routes', await routesOf(i)];
      if (opts.routePort) extraArgs.push('--cluster_advertise', '127.0.0.1:1');
      return startNatsServer({
        name: natsNodeName(i),
        port: clientPorts[i],
        storeDir,
        configFile: NATS_CLUSTER_CONFIG,
        extraArgs,
        clustered: true,
        ...(opts.logDir ? { logFile: join(opts.logDir, `${natsNodeName(i)}.log`) } : {}),
      });
    }),
  );
  return {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
