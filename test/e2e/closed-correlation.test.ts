/**
 * The fate the bridge gives a message whose correlation has closed, on real servers: a
 * redelivered message its run already received is a duplicate, whatever the run did with it, and
 * so is the same content republished under a new id (an agent restarted); only new content the
 * run never received is late. (A closed run whose history cannot be read is
 * in test/e2e/codec.test.ts, where the keys make it so.)
 */
import { SIGNALS_STREAM } from '../../src/nats/streams';
import { stateQuery, workflowIdFor } from '../../src/shared/correlation-api';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { momentum, risk, uniqueCorrId } from '../support/signals';

const TIMEOUT_MS = 2_000;
/** The bridge's durable consumer (the default of ORCH_BRIDGE_DURABLE). */
const DURABLE = 'orchestrator-bridge';
let stack: E2EStack;

beforeAll(async () => {
  stack = await startE2EStack({ version: 'closed-1', timeout_ms: TIMEOUT_MS });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

/** Once the bridge's consumer has delivered up to `seq` and settled every message. */
function caughtUp(seq: number, timeoutMs = 30_000): Promise<true> {
  return waitFor(
    `the bridge to settle every message up to ${seq}`,
    async () => {
      const info = await stack.nats.jsm.consumers.info(SIGNALS_STREAM, DURABLE).catch(() => undefined);
      return info && info.delivered.stream_seq >= seq && info.num_pending === 0 && info.num_ack_pending === 0
        ? true
        : undefined;
    },
    timeoutMs,
  );
}

const dlqSeqs = async (): Promise<string[]> => (await stack.dlqEntries()).map((e) => e.header.get('Orch-Original-Seq'));

describe('a message for a closed correlation', () => {
  it('is a duplicate when redelivered after its run received it, even unused; late only when the run never had it', async () => {
    const corrId = uniqueCorrId('redelivered');
    // Two momentum messages in the first batch: the run keeps the first and counts the second as
    // a duplicate; risk then completes it.
    const [m1] = await Promise.all([
      stack.publish('momentum', momentum(corrId)),
      stack.publish(
        'momentum',
        momentum(corrId, { trend_direction: 'bearish', momentum_strength: 0.3, confidence: 0.4 }),
      ),
    ]);
    await waitFor('the second momentum message counted as a duplicate', async () => {
      const state = await stack.client.workflow
        .getHandle(workflowIdFor(corrId))
        .query(stateQuery)
        .catch(() => undefined);
      return state?.duplicates === 1 ? true : undefined;
    });
    const r1 = await stack.publish('risk', risk(corrId));
    const [stored] = await stack.decisionsFor(corrId);
    expect(stored.decision.provenance.map((p) => p.message_id).sort()).toEqual([String(m1), String(r1)].sort());
    // A message the run never saw: late, in the DLQ.
    const late = await stack.publish('risk', risk(corrId, { risk_level: 'high', overall_score: 0.9 }));
    await caughtUp(late);
    expect(await dlqSeqs()).toEqual([String(late)]);
    // The risk signal the decision used, republished by a restarted agent under a new message id
    // (JetStream stores it again): a duplicate, acknowledged, not in the DLQ.
    const republished = await stack.publish('risk', risk(corrId), `${corrId}:risk:after-restart`);
    expect(republished).toBeGreaterThan(late);
    await caughtUp(republished);
    expect(await dlqSeqs()).toEqual([String(late)]);

    // An operator deletes the consumer; the bridge re-creates it and JetStream delivers every
    // message of SIGNALS again.
    await stack.nats.jsm.consumers.delete(SIGNALS_STREAM, DURABLE);
    await caughtUp(republished, 120_000);
    // The three the run received and the republished one are duplicates now; the late one's entry is not repeated.
    expect(await dlqSeqs()).toEqual([String(late)]);
  }, 180_000);
});
