/**
 * Chaos on the cluster engine (c): the NATS node that leads the SIGNALS stream is killed with
 * SIGKILL under load, then, once it is back, the one that leads DECISIONS. The R3 streams elect a
 * new leader among the two others; clients on the dead node reconnect to another; the bridge's
 * durable consumer and JetStream's duplicate window survive the leader change; the node comes back
 * and catches up.
 */
import { SIGNALS_STREAM, DECISIONS_STREAM } from '../../src/nats/streams';
import {
  clusterEngineOf,
  expectNothingLostNothingDuplicated,
  pollUntil,
  randomBetween,
  runScenario,
  scaled,
  sleep,
  streamLeader,
  waitDrained,
} from '../support/chaos';

const DOWN_MS = scaled(3_000, 10_000);
const POLICY_TIMEOUT_MS = scaled(30_000, 60_000);

it(
  'decides every correlation exactly once when the NATS node leading SIGNALS, then the one leading DECISIONS, is killed -9',
  async () => {
    const report = await runScenario({
      scenario: 'cluster-nats-leader-kill',
      engine: 'cluster',
      policy: { version: 'chaos-cluster-nats-leader-kill', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      rate: scaled(10, 20),
      minCorrelations: scaled(150, 1000),
      async chaos({ stack, load, ledger, faults }) {
        const { nats } = clusterEngineOf(stack);
        for (const stream of [SIGNALS_STREAM, DECISIONS_STREAM]) {
          await sleep(randomBetween(500, 3_000));
          const leader = await streamLeader(stack.jsm, stream);
          const node = nats.nodes[leader]!;
          const fault = await faults.inject(`NATS ${stream} leader kill -9`, () => node.kill9(), `nats-${leader + 1}`);
          // A new leader among the two others.
          const next = await pollUntil(
            `a new ${stream} leader`,
            () =>
              streamLeader(stack.jsm, stream).then(
                (i) => (i !== leader ? i : undefined),
                () => undefined,
              ),
            60_000,
          );
          fault.note = `nats-${leader + 1}; new leader nats-${next + 1} after ${Math.round((Date.now() - fault.injectedAt) / 100) / 10}s`;
          await sleep(DOWN_MS);
          await faults.heal(fault, () => node.start());
          await waitDrained(load, ledger, fault, 240_000);
        }
        expect(nats.nodes.every((n) => n.running)).toBe(true);
        expect(stack.worker.running && stack.bridge.running).toBe(true);
      },
    });
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(2);
  },
  scaled(300_000, 900_000),
);
