/**
 * Chaos (h): every message gets the right fate while the data path misbehaves, under load.
 * - Agents report out of order and up to 3 s apart (late, but before the partial-data timeout):
 *   the decision still uses both.
 * - Late signals after the decision: a partial correlation's missing agent reports once its
 *   decision is stored; the message goes to the DLQ as `late`, and the decision stands.
 * - Republished duplicates: an agent republishes a signal with the same content under a new
 *   message id (JetStream stores it again), before and after its correlation's decision; a
 *   duplicate either way, never in the DLQ, never a second decision.
 * - A hot correlation: one correlation flooded with republished copies of its signals, far past
 *   the run's max_signals; one decision, on its first two signals, and nothing in the DLQ.
 * - nats-server killed with SIGKILL (not stopped) and restarted on its file store.
 * - The bridge's durable consumer deleted by an operator: the bridge re-creates it, JetStream
 *   delivers the whole stream again, and every message the runs already had is a duplicate.
 */
import { SIGNALS_STREAM } from '../../src/nats/streams';
import { workflowIdFor } from '../../src/shared/correlation-api';
import {
  BRIDGE_DURABLE,
  bridgeConsumerIdle,
  decisionNobodyPublished,
  devEngineOf,
  expectNothingLostNothingDuplicated,
  pollUntil,
  type Problem,
  random,
  randomBetween,
  runScenario,
  scaled,
  sleep,
  type StoredEntry,
  waitDrained,
} from '../support/chaos';

const POLICY_TIMEOUT_MS = scaled(15_000, 30_000);
const AGENT_SPREAD_MS = 3_000;
const LATE_AFTER_DECISION = scaled(10, 40);
const REPUBLISHED = scaled(20, 80);
const HOT_COPIES = scaled(1_000, 5_000);
const NATS_KILLS = scaled(1, 3);

it(
  'gives every message its fate: late before and after the decision, republished, hot, through nats-server kill -9 and a re-created consumer',
  async () => {
    /** Stream sequences of the late messages sent on purpose: each must be in the DLQ as `late`. */
    const lateSeqs = new Set<string>();
    /** Republished copies: each must be a duplicate (acknowledged, no DLQ entry, no new decision). */
    const republishedSeqs = new Set<number>();
    const hot = { corrId: '', seqs: [] as number[], copies: 0, historyLength: 0 };
    const report = await runScenario({
      scenario: 'message-fates',
      policy: { version: 'chaos-message-fates', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      rate: scaled(10, 20),
      minCorrelations: scaled(200, 1000),
      agentSpreadMs: AGENT_SPREAD_MS,
      async chaos({ stack, load, ledger, faults }) {
        const { jsm, client } = stack;
        const closed = async (corrId: string): Promise<boolean> =>
          (await client.workflow.getHandle(workflowIdFor(corrId)).describe()).status.name !== 'RUNNING';

        // Republished before the decision: the first signal of a correlation still collecting (each a different one).
        const republishedEarly = new Set<string>();
        for (let i = 0; i < REPUBLISHED / 2; i++) {
          const open = await pollUntil(
            'a correlation still collecting',
            () =>
              load.correlations.find(
                (c) =>
                  !c.partial &&
                  Object.keys(c.seqs).length === 1 &&
                  !ledger.decided(c.corrId) &&
                  !republishedEarly.has(c.corrId),
              ),
            30_000,
            20,
          );
          republishedEarly.add(open.corrId);
          const [agent, signal] = Object.entries(open.sent)[0];
          republishedSeqs.add(await load.publish(signal, `${open.corrId}:${agent}:republished-early`));
        }

        // A hot correlation (outside the load's id prefix): its two signals, then a flood of copies under new ids.
        hot.corrId = `hot-${load.prefix}`;
        const [momentum, risk] = [
          ...Object.values(
            (
              await pollUntil(
                'a complete correlation',
                () => load.correlations.find((c) => c.publishedAt && !c.partial),
                30_000,
              )
            ).sent,
          ),
        ]
          .sort((a, b) => a.agent_name.localeCompare(b.agent_name))
          .map((s) => ({ ...s, corr_id: hot.corrId }));
        hot.seqs.push(await load.publish(momentum), await load.publish(risk));
        await Promise.all(
          Array.from({ length: HOT_COPIES }, (_, i) =>
            load.publish(i % 2 === 0 ? momentum : risk, `${hot.corrId}:copy-${i}`).then(() => hot.copies++),
          ),
        );
        await pollUntil(
          'the hot correlation decided and closed',
          async () => (ledger.decided(hot.corrId) && (await closed(hot.corrId)) ? true : undefined),
          120_000,
        );
        hot.historyLength = (await client.workflow.getHandle(workflowIdFor(hot.corrId)).describe()).historyLength;

        for (let k = 0; k < NATS_KILLS; k++) {
          await sleep(randomBetween(500, 2_000));
          const fault = await faults.inject('nats-server kill -9', () => devEngineOf(stack).nats.kill9());
          await faults.heal(fault, () => devEngineOf(stack).nats.start());
          await waitDrained(load, ledger, fault, 180_000);
        }

        // Late after the decision: partial correlations whose missing agent reports once decided.
        // Closed, not only decided: a run still open would record the signal as late in its own state.
        const partials = await pollUntil(
          `${LATE_AFTER_DECISION} decided partial correlations`,
          () => {
            const decided = load.correlations.filter((c) => c.partial && ledger.decided(c.corrId));
            return decided.length >= LATE_AFTER_DECISION ? decided.slice(0, LATE_AFTER_DECISION) : undefined;
          },
          POLICY_TIMEOUT_MS + 120_000,
        );
        for (const c of partials)
          await pollUntil(`${c.corrId} closed`, async () => ((await closed(c.corrId)) ? true : undefined), 60_000);
        for (const c of partials) {
          const signal = {
            ...c.sent.momentum,
            agent_name: 'risk',
            analysis: { risk_level: 'low' as const, overall_score: 0.1 },
          };
          lateSeqs.add(String(await load.publish(signal)));
        }

        // Republished after the decision: the same content again, under a new id.
        const decided = load.correlations.filter((c) => !c.partial && ledger.decided(c.corrId));
        for (const c of decided.sort(() => random() - 0.5).slice(0, REPUBLISHED / 2)) {
          const agent = random() < 0.5 ? 'momentum' : 'risk';
          republishedSeqs.add(await load.publish(c.sent[agent], `${c.corrId}:${agent}:republished-late`));
        }

        // An operator deletes the bridge's consumer; the bridge re-creates it (from the stream's start).
        await pollUntil(
          'the bridge to settle what it has',
          () => bridgeConsumerIdle(jsm).then((idle) => idle || undefined),
          120_000,
        );
        const fault = await faults.inject('consumer deleted and re-created', () =>
          jsm.consumers.delete(SIGNALS_STREAM, BRIDGE_DURABLE),
        );
        const streamLast = (await jsm.streams.info(SIGNALS_STREAM)).state.last_seq;
        await faults.heal(fault, () =>
          pollUntil(
            'the bridge to re-create its consumer and take the whole stream again',
            async () => {
              const info = await jsm.consumers.info(SIGNALS_STREAM, BRIDGE_DURABLE).catch(() => undefined);
              return info && info.delivered.stream_seq >= streamLast && info.num_ack_pending === 0 ? true : undefined;
            },
            180_000,
          ),
        );
        await waitDrained(load, ledger, fault, 180_000);
      },
      verify: () => ({
        isDeliberateDlq: (entry) =>
          entry.header?.get('Orch-Dlq-Reason') === 'late' && lateSeqs.has(entry.header?.get('Orch-Original-Seq') ?? ''),
        otherCorrelations: (entries: StoredEntry[]): Problem[] => {
          const mine = entries.filter((e) => e.decision?.corr_id === hot.corrId);
          const problems: Problem[] = entries
            .filter((e) => e.decision?.corr_id !== hot.corrId)
            .map(decisionNobodyPublished);
          if (mine.length !== 1) problems.push({ corrId: hot.corrId, problem: `${mine.length} decisions stored` });
          const used = (mine[0]?.decision?.provenance ?? []).map((p) => Number(p.message_id)).sort((a, b) => a - b);
          if (used.join(',') !== hot.seqs.join(','))
            problems.push({
              corrId: hot.corrId,
              problem: `provenance ${used.join(',')}, published first ${hot.seqs.join(',')}`,
            });
          return problems;
        },
        extra: {
          late_after_decision: LATE_AFTER_DECISION,
          republished: REPUBLISHED,
          hot_copies: HOT_COPIES,
          hot_history_events: hot.historyLength,
          agent_spread_ms: AGENT_SPREAD_MS,
        },
      }),
    });
    expectNothingLostNothingDuplicated(report);
    // Every late message in the DLQ as late, once; no republished copy there (the verifier counts any other entry as
    // unexpected).
    expect(report.dlq_deliberate).toBe(LATE_AFTER_DECISION);
    expect(republishedSeqs.size).toBe(REPUBLISHED);
    expect(hot.copies).toBe(HOT_COPIES);
    // Thousands of messages, and the run's history stays small: the server's limits are 51,200 events and 10,000
    // signals.
    expect(hot.historyLength).toBeGreaterThan(0);
    expect(hot.historyLength).toBeLessThan(200);
    expect(report.faults.map((f) => f.kind)).toEqual([
      ...Array(NATS_KILLS).fill('nats-server kill -9'),
      'consumer deleted and re-created',
    ]);
  },
  scaled(420_000, 1_200_000),
);
