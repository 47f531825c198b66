/**
 * The cluster engine's own faults and what they show: a NATS node cut off from the others through
 * the proxies on its routes, the node that leads a stream, and how soon decisions carry on while
 * part of the cluster is down.
 */
import type { JetStreamManager } from 'nats';
import { NATS_CLUSTER_SIZE, natsNodeName } from '../../../src/devstack/nats-cluster';
import { pollUntil } from '../poll';
import type { DecisionLedger } from './ledger';
import type { ChaosLoad, PublishedCorrelation } from './load';
import { seconds } from './report';
import type { ClusterChaosEngine } from './stack';

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
  return seconds(first - since);
}
