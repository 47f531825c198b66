/**
 * Chaos on the cluster engine (a): one of the two Temporal server nodes is killed with SIGKILL under
 * load. The other node takes over its history shards (membership through the shared PostgreSQL),
 * the frontend balancer sends new connections to the live node, and correlations keep being decided
 * while the dead node is down; then it comes back and takes its share again.
 */
import {
  clusterEngineOf,
  decidedWhileDown,
  expectNothingLostNothingDuplicated,
  random,
  randomBetween,
  runScenario,
  scaled,
  sleep,
  waitDrained,
} from '../support/chaos';

const KILLS = scaled(1, 2);
const POLICY_TIMEOUT_MS = scaled(30_000, 60_000);

it(
  `decides every correlation exactly once while a Temporal node is killed -9 ${KILLS} time(s): the other node carries on, then it rejoins`,
  async () => {
    const report = await runScenario({
      scenario: 'cluster-temporal-node-kill',
      engine: 'cluster',
      policy: { version: 'chaos-cluster-temporal-node-kill', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      rate: scaled(10, 20),
      minCorrelations: scaled(150, 1000),
      async chaos({ stack, load, ledger, faults }) {
        const { temporalNodes } = clusterEngineOf(stack);
        for (let i = 0; i < KILLS; i++) {
          const node = temporalNodes[Math.floor(random() * temporalNodes.length)]!;
          await sleep(randomBetween(500, 3_000));
          const fault = await faults.inject(`Temporal node kill -9`, () => node.kill9(), node.name);
          const carriedOnAfter = await decidedWhileDown(load, ledger, fault.injectedAt, scaled(10, 50), 120_000);
          fault.note = `${node.name}; decisions with one node after ${carriedOnAfter}s`;
          await faults.heal(fault, () => node.start());
          await waitDrained(load, ledger, fault, 180_000);
        }
        expect(temporalNodes.every((n) => n.running)).toBe(true);
        expect(stack.worker.running && stack.bridge.running).toBe(true);
      },
    });
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(KILLS);
  },
  scaled(300_000, 900_000),
);
