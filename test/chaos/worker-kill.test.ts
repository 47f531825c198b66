/**
 * Chaos (a): the worker is killed with SIGKILL at random moments, several times in one run, while
 * agents keep publishing, and restarted. Temporal replays each correlation's history on the new
 * worker: nothing is lost, no decision is published twice.
 */
import {
  expectNothingLostNothingDuplicated,
  randomBetween,
  runScenario,
  scaled,
  sleep,
  waitDrained,
} from '../support/chaos';

const KILLS = scaled(3, 8);
const POLICY_TIMEOUT_MS = scaled(10_000, 20_000);

it(
  `decides every correlation exactly once while the worker is killed -9 ${KILLS} times under load`,
  async () => {
    const report = await runScenario({
      scenario: 'worker-kill',
      policy: { version: 'chaos-worker-kill', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      rate: scaled(12, 20),
      minCorrelations: scaled(200, 1500),
      async chaos({ stack, load, ledger, faults }) {
        for (let i = 0; i < KILLS; i++) {
          // A random moment: mid-signal, mid-timer or mid-publish, whatever the worker is doing.
          await sleep(randomBetween(300, 3_000));
          const fault = await faults.inject('worker kill -9', () => stack.worker.kill9());
          await sleep(randomBetween(0, 2_000));
          await faults.heal(fault, () => stack.worker.start());
          await waitDrained(load, ledger, fault, 120_000);
        }
      },
    });
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(KILLS);
  },
  scaled(240_000, 900_000),
);
