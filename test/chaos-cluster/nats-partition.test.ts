/**
 * Chaos on the cluster engine (d): one NATS node is cut off from the other two (a real TCP cut of
 * every route to and from it, through the harness's proxies) under load, and keeps running alone:
 * its clients stay connected to it, but it has no quorum, so what they ask of JetStream waits or
 * fails until the partition heals. The node cut off is the one leading SIGNALS: the majority
 * elects another leader meanwhile. Nothing is lost or decided twice.
 */
import { SIGNALS_STREAM } from '../../src/nats/streams';
import {
  clusterEngineOf,
  expectNothingLostNothingDuplicated,
  healNatsPartition,
  partitionNatsNode,
  randomBetween,
  runScenario,
  scaled,
  sleep,
  streamLeader,
  waitDrained,
} from '../support/chaos';

const PARTITIONS = scaled(1, 2);
const CUT_MS = scaled(5_000, 15_000);
const POLICY_TIMEOUT_MS = scaled(30_000, 60_000);

it(
  `decides every correlation exactly once through ${PARTITIONS} network partition(s) of the NATS node leading SIGNALS`,
  async () => {
    const report = await runScenario({
      scenario: 'cluster-nats-partition',
      engine: 'cluster',
      policy: { version: 'chaos-cluster-nats-partition', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      rate: scaled(10, 20),
      minCorrelations: scaled(150, 1000),
      async chaos({ stack, load, ledger, faults }) {
        const engine = clusterEngineOf(stack);
        for (let i = 0; i < PARTITIONS; i++) {
          await sleep(randomBetween(500, 3_000));
          const leader = await streamLeader(stack.jsm, SIGNALS_STREAM);
          const dropped = (): number => engine.routes.flat().reduce((sum, p) => sum + p.stats().dropped, 0);
          const before = dropped();
          const fault = await faults.inject(
            'NATS node partitioned',
            () => partitionNatsNode(engine, leader),
            `nats-${leader + 1} (SIGNALS leader), ${CUT_MS / 1000}s`,
          );
          expect(dropped()).toBeGreaterThan(before);
          await sleep(CUT_MS);
          await faults.heal(fault, () => healNatsPartition(engine));
          await waitDrained(load, ledger, fault, 240_000);
        }
        // Every node ran throughout: a partition, not a crash.
        expect(engine.nats.nodes.every((n) => n.running)).toBe(true);
        expect(stack.worker.running && stack.bridge.running).toBe(true);
      },
    });
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(PARTITIONS);
  },
  scaled(300_000, 900_000),
);
