/**
 * Chaos (c): NATS goes away under load, two ways.
 * - nats-server restarts (JetStream on file storage): every client is disconnected; the streams,
 *   the bridge's durable consumer and the dedupe state come back from disk.
 * - The network between the bridge and NATS is cut (a TCP proxy drops every connection and refuses
 *   new ones for a while): the bridge must reconnect by itself; what it had taken but not
 *   acknowledged is redelivered.
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

const RESTARTS = scaled(1, 2);
const CUTS = scaled(1, 3);
const CUT_MS = scaled(4_000, 10_000);
const POLICY_TIMEOUT_MS = scaled(20_000, 45_000);

it(
  `decides every correlation exactly once through ${RESTARTS} nats-server restart(s) and ${CUTS} bridge-NATS network cut(s)`,
  async () => {
    const report = await runScenario({
      scenario: 'nats-outage',
      policy: { version: 'chaos-nats-outage', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      bridgeNatsProxy: true,
      rate: scaled(12, 20),
      minCorrelations: scaled(200, 1000),
      async chaos({ stack, load, ledger, faults }) {
        const proxy = stack.proxies.bridgeNats!;
        for (let i = 0; i < Math.max(RESTARTS, CUTS); i++) {
          if (i < RESTARTS) {
            await sleep(randomBetween(500, 2_500));
            const fault = await faults.inject('nats-server restart', () => devEngineOf(stack).nats.stop());
            await faults.heal(fault, () => devEngineOf(stack).nats.start());
            await waitDrained(load, ledger, fault, 180_000);
          }
          if (i < CUTS) {
            await sleep(randomBetween(500, 2_500));
            const before = proxy.stats().dropped;
            const fault = await faults.inject('bridge-NATS network cut', () => proxy.cut(), `${CUT_MS / 1000}s`);
            await sleep(CUT_MS);
            await faults.heal(fault, () => proxy.heal());
            expect(proxy.stats().dropped).toBeGreaterThan(before);
            await waitDrained(load, ledger, fault, 180_000);
          }
        }
        // Nobody restarted them: they reconnected by themselves.
        expect(stack.worker.running && stack.bridge.running).toBe(true);
        expect(proxy.stats().accepted).toBeGreaterThan(CUTS);
      },
    });
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(RESTARTS + CUTS);
  },
  scaled(240_000, 900_000),
);
