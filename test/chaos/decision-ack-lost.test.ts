/**
 * Chaos (i): a decision publish reaches JetStream but its acknowledgement is lost, and then NATS
 * is gone for the worker for longer than the duplicate window the DECISIONS stream used to have.
 *
 * The DECISIONS stream is created beforehand by an operator (`nats stream add`): in the full run
 * with JetStream's default 2-minute duplicate window, in the CI run with a 10-second one so the
 * outage that outlasts it stays short. The worker must bring it to its configured window
 * (ORCH_DECISION_DEDUPE_WINDOW_MS, 2 h by default, always longer than a publish can be retried);
 * otherwise the retried publish after the outage is stored as a second decision.
 *
 * The worker reaches nats-server through a TCP proxy that first drops only what the server sends
 * (publishes are stored, acks lost), then cuts the connection for longer than 2 minutes.
 */
import { nanos, RetentionPolicy, StorageType } from 'nats';
import { DECISION_SUBJECT, DECISIONS_STREAM } from '../../src/nats/streams';
import {
  expectNothingLostNothingDuplicated,
  pollUntil,
  runScenario,
  SCALE,
  scaled,
  sleep,
  waitDrained,
} from '../support/chaos';

/** The operator's window: JetStream's default (2 minutes) in the full run, a short one set by hand in CI. */
const OPERATOR_WINDOW_MS = scaled(10_000, 120_000);
const MUTED_MS = 4_000;
const OUTAGE_MS = OPERATOR_WINDOW_MS + scaled(6_000, 30_000);

it(
  `stores each decision once when its ack is lost and NATS stays away for ${OUTAGE_MS / 1000}s, longer than the operator's ${OPERATOR_WINDOW_MS / 1000}s duplicate window`,
  async () => {
    let windowAtStart = 0;
    let ackLost = 0;
    const report = await runScenario({
      scenario: 'decision-ack-lost',
      policy: { version: 'chaos-decision-ack-lost', timeout_ms: 10_000, min_agents_threshold: 1 },
      workerNatsProxy: true,
      rate: scaled(5, 10),
      minCorrelations: scaled(150, 600),
      async prepareNats(jsm) {
        // The full run leaves the window to JetStream's default, as `nats stream add` does.
        const window = SCALE === 'full' ? {} : { duplicate_window: nanos(OPERATOR_WINDOW_MS) };
        await jsm.streams.add({
          name: DECISIONS_STREAM,
          subjects: [DECISION_SUBJECT],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          ...window,
        });
      },
      async chaos({ stack, load, ledger, faults }) {
        windowAtStart = (await stack.jsm.streams.info(DECISIONS_STREAM)).config.duplicate_window / 1e6;
        const proxy = stack.proxies.workerNats!;
        const stored = (): number => ledger.arrivals.length;
        const fault = await faults.inject(
          'decision ack lost, then worker-NATS outage',
          async () => {
            // Publishes still reach the stream; their acks do not come back.
            const before = stored();
            proxy.muteReplies();
            await pollUntil(
              'decisions stored whose acks were lost',
              () => (stored() > before ? true : undefined),
              30_000,
              20,
            );
            await sleep(MUTED_MS);
            ackLost = stored() - before;
            await proxy.cut();
          },
          `acks muted ${MUTED_MS / 1000}s, then cut ${OUTAGE_MS / 1000}s`,
        );
        await sleep(OUTAGE_MS);
        await faults.heal(fault, () => proxy.heal());
        await waitDrained(load, ledger, fault, 240_000);
        // The decisions whose acks were lost were published again after the outage, and JetStream dropped the copies.
        await pollUntil(
          'the lost-ack decisions republished',
          () =>
            ledger.rawPublishes.size > 0 && [...ledger.rawPublishes.values()].filter((n) => n > 1).length >= ackLost
              ? true
              : undefined,
          180_000,
          500,
        );
      },
      verify: () => ({
        extra: { window_at_start_ms: windowAtStart, decisions_with_ack_lost: ackLost, outage_ms: OUTAGE_MS },
      }),
    });
    expectNothingLostNothingDuplicated(report);
    // The worker reconciled the operator's stream before the first decision: 2 h, not 2 min.
    expect(windowAtStart).toBe(2 * 60 * 60_000);
    expect(ackLost).toBeGreaterThan(0);
    expect(report.republishes_deduped).toBeGreaterThanOrEqual(ackLost);
  },
  scaled(480_000, 900_000),
);
