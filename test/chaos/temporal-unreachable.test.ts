/**
 * Chaos (e): Temporal is unreachable for a while, two ways.
 * - The dev server is frozen (SIGSTOP, then SIGCONT): connections stay open but nothing answers;
 *   timers cannot fire, signal-with-start calls hang.
 * - The network between the bridge and Temporal is cut (a TCP proxy drops its connections and
 *   refuses new ones): signal-with-start fails at once, the bridge naks with backoff.
 * Either way the agents' messages wait in JetStream, unacknowledged; nothing is lost, and the
 * backlog drains once Temporal answers again.
 */
import {
  BRIDGE_DURABLE,
  devEngineOf,
  expectNothingLostNothingDuplicated,
  pollUntil,
  randomBetween,
  redeliveries,
  runScenario,
  scaled,
  sleep,
  waitDrained,
} from '../support/chaos';

const FREEZE_MS = scaled(4_000, 15_000);
const CUT_MS = scaled(4_000, 15_000);
const POLICY_TIMEOUT_MS = scaled(25_000, 60_000);

it(
  'keeps every signal in JetStream while Temporal is frozen or cut off from the bridge, then decides each correlation exactly once',
  async () => {
    const waiting: Record<string, number> = {};
    const redelivered: Record<string, number> = {};
    const report = await runScenario({
      scenario: 'temporal-unreachable',
      policy: { version: 'chaos-temporal-unreachable', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      bridgeTemporalProxy: true,
      verify: () => ({ extra: { waiting_in_jetstream: waiting, redelivered_during_cut: redelivered.cut } }),
      rate: scaled(12, 20),
      minCorrelations: scaled(200, 1000),
      async chaos({ stack, load, ledger, faults }) {
        const pid = devEngineOf(stack).temporal.pid!;
        const pendingInJetStream = async (): Promise<number> => {
          const info = await stack.jsm.consumers.info('SIGNALS', BRIDGE_DURABLE);
          return info.num_pending + info.num_ack_pending;
        };

        await sleep(randomBetween(500, 2_500));
        const freeze = await faults.inject(
          'Temporal unreachable (SIGSTOP)',
          () => process.kill(pid, 'SIGSTOP'),
          `${FREEZE_MS / 1000}s`,
        );
        try {
          // Signals published meanwhile pile up in JetStream, not acknowledged.
          waiting.freeze = await pollUntil(
            'signals waiting in JetStream',
            async () => ((await pendingInJetStream()) > 20 ? pendingInJetStream() : undefined),
            30_000,
          );
          await sleep(Math.max(0, freeze.injectedAt + FREEZE_MS - Date.now()));
        } finally {
          await faults.heal(freeze, () => process.kill(pid, 'SIGCONT'));
        }
        await waitDrained(load, ledger, freeze, 180_000);

        await sleep(randomBetween(500, 2_500));
        const proxy = stack.proxies.bridgeTemporal!;
        const redeliveredBefore = await redeliveries(stack.jsm);
        const cut = await faults.inject(
          'Temporal unreachable (bridge-Temporal network cut)',
          () => proxy.cut(),
          `${CUT_MS / 1000}s`,
        );
        try {
          waiting.cut = await pollUntil(
            'signals waiting in JetStream',
            async () => ((await pendingInJetStream()) > 20 ? pendingInJetStream() : undefined),
            30_000,
          );
          await sleep(Math.max(0, cut.injectedAt + CUT_MS - Date.now()));
        } finally {
          await faults.heal(cut, () => proxy.heal());
        }
        await waitDrained(load, ledger, cut, 180_000);
        // What the bridge could not hand over went back to JetStream (nak, or the ack wait ran out) and came again.
        redelivered.cut = (await redeliveries(stack.jsm)) - redeliveredBefore;
        expect(stack.bridge.running && stack.worker.running).toBe(true);
      },
    });
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(2);
    expect(waiting.freeze).toBeGreaterThan(20);
    expect(waiting.cut).toBeGreaterThan(20);
    expect(redelivered.cut).toBeGreaterThan(0);
  },
  scaled(240_000, 900_000),
);
