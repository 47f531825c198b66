/**
 * A message Temporal refuses for good goes to the DLQ with Temporal's reason, and the rest of its
 * batch is handed over without it. Real servers: the dev server runs with a payload limit of 8 kB
 * (`limit.blobSize.error`), so a 20 kB message is an invalid argument, as a 2 MB one is by default.
 */
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { momentum, risk, uniqueCorrId } from '../support/signals';

const TIMEOUT_MS = 2_000;
let stack: E2EStack;

beforeAll(async () => {
  stack = await startE2EStack(
    { version: 'rejected-1', timeout_ms: TIMEOUT_MS, min_agents_threshold: 1 },
    {},
    {
      dynamicConfig: { 'limit.blobSize.warn': '4000', 'limit.blobSize.error': '8000' },
    },
  );
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a message Temporal refuses', () => {
  it('goes to the DLQ as temporal_rejected with what Temporal said, while its batch goes on without it', async () => {
    const corrId = uniqueCorrId('too-big');
    const oversized = { ...momentum(corrId), analysis: { ...momentum(corrId).analysis, notes: 'x'.repeat(20_000) } };
    const [momentumSeq, riskSeq] = await Promise.all([
      stack.publish('momentum', oversized),
      stack.publish('risk', risk(corrId)),
    ]);

    const entry = await waitFor('the DLQ entry', async () =>
      (await stack.dlqEntries()).find((e) => e.header.get('Orch-Original-Seq') === String(momentumSeq)),
    );
    expect(entry.header.get('Orch-Dlq-Reason')).toBe('temporal_rejected');
    expect(entry.header.get('Orch-Dlq-Detail')).toMatch(
      new RegExp(
        `^Temporal refused the signal for correlation ${corrId}: invalid argument: .*Blob data size exceeds limit`,
      ),
    );

    // Risk reached the correlation alone; momentum never did, so it decides on risk at the timeout.
    const [stored, ...extra] = await stack.decisionsFor(corrId);
    expect(extra).toEqual([]);
    expect(stored.decision).toMatchObject({ missing_agents: ['momentum'], partial_data: true });
    expect(stored.decision.provenance.map((p) => p.message_id)).toEqual([String(riskSeq)]);
    expect((await stack.dlqEntries()).filter((e) => e.header.get('Orch-Original-Seq') === String(riskSeq))).toEqual([]);
  });
});
