/**
 * A bounded actor, on real servers: an agent stuck in a loop publishes two thousand messages for
 * one correlation, each a little different. The run takes `max_signals` of them, decides at once
 * on what it has, and closes; every other message is late (in the DLQ). (Copies of the same
 * content are duplicates instead: the chaos suite's hot correlation, test/chaos/message-fates.) Its history stays a few
 * dozen events long, far from
 * Temporal's limits (51,200 events, 10,000 signals).
 */
import { SIGNALS_STREAM } from '../../src/nats/streams';
import { stateQuery, workflowIdFor } from '../../src/shared/correlation-api';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { momentum, uniqueCorrId } from '../support/signals';

const MAX_SIGNALS = 20;
const MESSAGES = 2_000;
/** The bridge's durable consumer (the default of ORCH_BRIDGE_DURABLE). */
const DURABLE = 'orchestrator-bridge';
let stack: E2EStack;

beforeAll(async () => {
  stack = await startE2EStack({ version: 'hot-1', timeout_ms: 30_000, max_signals: MAX_SIGNALS });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a correlation flooded by one agent', () => {
  it('takes max_signals messages, decides at once, and leaves every other message late, with a short history', async () => {
    const corrId = uniqueCorrId('hot');
    const seqs = await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) =>
        stack.publish(
          'momentum',
          momentum(corrId, { trend_direction: 'bullish', momentum_strength: i / MESSAGES, confidence: 0.8 }),
        ),
      ),
    );
    const [stored, ...extra] = await stack.decisionsFor(corrId);
    expect(extra).toEqual([]);
    expect(stored.decision).toMatchObject({ missing_agents: ['risk'], decided_early: { rule: 'signal_limit' } });

    await waitFor(
      'the bridge to settle every message',
      async () => {
        const info = await stack.nats.jsm.consumers.info(SIGNALS_STREAM, DURABLE);
        return info.delivered.stream_seq >= Math.max(...seqs) && info.num_pending === 0 && info.num_ack_pending === 0
          ? true
          : undefined;
      },
      60_000,
    );
    const handle = stack.client.workflow.getHandle(workflowIdFor(corrId));
    const state = await handle.query(stateQuery);
    const takenByRun = Object.keys(state.signals).length + (state.duplicates ?? 0) + (state.rejected_count ?? 0);
    const late = (await stack.dlqEntries()).filter(
      (e) => e.header.get('Orch-Dlq-Reason') === 'late' && e.header.get('Orch-Dlq-Detail').includes(corrId),
    );
    expect(takenByRun + late.length).toBe(MESSAGES);
    expect(state.rejected_count).toBe(takenByRun - MAX_SIGNALS);

    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.length).toBeLessThan(100);
  }, 120_000);
});
