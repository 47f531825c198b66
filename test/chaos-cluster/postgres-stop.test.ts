/**
 * Chaos on the cluster engine (b): PostgreSQL, which both Temporal nodes share, stops under load:
 * once with a fast shutdown (SIGINT: transactions rolled back, a checkpoint), once with an immediate
 * one (SIGQUIT: no checkpoint, crash recovery from the WAL at the restart). While it is down the
 * Temporal nodes fail their calls; the bridge naks and the signals wait in JetStream; after the
 * restart everything carries on from what the database holds.
 */
import {
  clusterEngineOf,
  expectNothingLostNothingDuplicated,
  randomBetween,
  runScenario,
  scaled,
  sleep,
  waitDrained,
} from '../support/chaos';

const DOWN_MS = scaled(3_000, 10_000);
const POLICY_TIMEOUT_MS = scaled(30_000, 60_000);

it(
  'decides every correlation exactly once through a fast and an immediate PostgreSQL shutdown and restart',
  async () => {
    const report = await runScenario({
      scenario: 'cluster-postgres-stop',
      engine: 'cluster',
      policy: { version: 'chaos-cluster-postgres-stop', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      rate: scaled(10, 20),
      minCorrelations: scaled(150, 1000),
      async chaos({ stack, load, ledger, faults }) {
        const { postgres, temporalNodes } = clusterEngineOf(stack);
        for (const [mode, stop] of [
          ['fast', () => postgres.stopFast()],
          ['immediate', () => postgres.stopImmediate()],
        ] as const) {
          await sleep(randomBetween(500, 3_000));
          const fault = await faults.inject(`PostgreSQL ${mode} shutdown`, stop, `${DOWN_MS / 1000}s down`);
          await sleep(DOWN_MS);
          await faults.heal(fault, () => postgres.start());
          await waitDrained(load, ledger, fault, 240_000);
        }
        // The Temporal nodes rode it out: nobody restarted them.
        expect(temporalNodes.every((n) => n.running)).toBe(true);
        expect(stack.worker.running && stack.bridge.running).toBe(true);
      },
    });
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(2);
  },
  scaled(300_000, 900_000),
);
