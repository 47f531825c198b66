/**
 * Chaos (b): the Temporal dev server is killed with SIGKILL under load and restarted on its SQLite
 * database. While it is down the bridge naks with backoff (the signals wait in JetStream) and the
 * worker's polls fail; after the restart both carry on by themselves from what the database holds.
 */
import {
  devEngineOf,
  expectNothingLostNothingDuplicated,
  randomBetween,
  runScenario,
  scaled,
  sleep,
  waitDrained,
} from '../support/chaos';

const KILLS = scaled(1, 3);
const POLICY_TIMEOUT_MS = scaled(20_000, 45_000);

it(
  `decides every correlation exactly once while the Temporal server is killed -9 ${KILLS} time(s) and restarted on its database`,
  async () => {
    const report = await runScenario({
      scenario: 'temporal-kill',
      policy: { version: 'chaos-temporal-kill', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      rate: scaled(12, 20),
      minCorrelations: scaled(200, 1000),
      async chaos({ stack, load, ledger, faults }) {
        for (let i = 0; i < KILLS; i++) {
          await sleep(randomBetween(500, 3_000));
          const fault = await faults.inject('Temporal server kill -9', () => devEngineOf(stack).temporal.kill9());
          await sleep(randomBetween(1_000, scaled(3_000, 8_000)));
          await faults.heal(fault, () => devEngineOf(stack).temporal.start());
          await waitDrained(load, ledger, fault, 180_000);
        }
        expect(stack.worker.running && stack.bridge.running).toBe(true);
      },
    });
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(KILLS);
  },
  scaled(240_000, 900_000),
);
