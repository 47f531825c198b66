/**
 * Chaos (d): the bridge is killed with SIGKILL mid-batch (while it holds messages it has taken from
 * JetStream but not acknowledged) and restarted. JetStream redelivers them after the ack wait; the
 * workflow drops a signal it already has (same message id); a signal for a decided correlation that
 * the decision used is recognised as a duplicate, not as late. A few malformed messages published
 * on purpose during the load land in the DLQ exactly once each, kills or not.
 */
import { signalSubject } from '../../src/nats/streams';
import {
  BRIDGE_DURABLE,
  expectNothingLostNothingDuplicated,
  pollUntil,
  randomBetween,
  runScenario,
  scaled,
  sleep,
  waitDrained,
} from '../support/chaos';

const KILLS = scaled(2, 6);
const BAD_MESSAGES = scaled(5, 20);
const POLICY_TIMEOUT_MS = scaled(20_000, 30_000);

it(
  `decides every correlation exactly once while the bridge is killed -9 mid-batch ${KILLS} times`,
  async () => {
    const badSeqs = new Set<string>();
    let inFlightAtKill = 0;
    const report = await runScenario({
      scenario: 'bridge-kill',
      policy: { version: 'chaos-bridge-kill', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      // Redelivery of what a dead bridge held comes after the ack wait.
      env: { ORCH_BRIDGE_ACK_WAIT_MS: '4000' },
      rate: scaled(12, 20),
      minCorrelations: scaled(200, 1000),
      async chaos({ stack, load, ledger, faults }) {
        for (let i = 0; i < KILLS; i++) {
          await sleep(randomBetween(300, 2_000));
          for (let b = 0; b < Math.ceil(BAD_MESSAGES / KILLS) && badSeqs.size < BAD_MESSAGES; b++) {
            const ack = await stack.js.publish(signalSubject('risk'), `not json ${i}.${b} {`);
            badSeqs.add(String(ack.seq));
          }
          // Mid-batch: the bridge holds messages it has not acknowledged yet.
          const held = await pollUntil(
            'the bridge to hold unacknowledged messages',
            async () => {
              const info = await stack.jsm.consumers.info('SIGNALS', BRIDGE_DURABLE);
              return info.num_ack_pending > 0 ? info.num_ack_pending : undefined;
            },
            30_000,
            5,
          );
          const fault = await faults.inject(
            'bridge kill -9 mid-batch',
            () => stack.bridge.kill9(),
            `${held} unacknowledged`,
          );
          inFlightAtKill += held;
          await sleep(randomBetween(0, 2_000));
          await faults.heal(fault, () => stack.bridge.start());
          await waitDrained(load, ledger, fault, 180_000);
        }
      },
      verify: {
        isDeliberateDlq: (entry) => badSeqs.has(entry.header?.get('Orch-Original-Seq') ?? ''),
      },
    });
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(KILLS);
    // Every bad message in the DLQ, once.
    expect(report.dlq_deliberate).toBe(badSeqs.size);
    expect(inFlightAtKill).toBeGreaterThan(0);
    // What the killed bridges held came back from JetStream.
    expect(report.redelivered_signals).toBeGreaterThan(0);
  },
  scaled(240_000, 900_000),
);
