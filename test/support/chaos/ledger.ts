/** The ledger of decisions: every decision JetStream stored, as it arrives, and when. */
import type { JetStreamClient, NatsConnection } from 'nats';
import type { OrchestrationDecision } from '../../../src/contract/decision';
import { DECISION_SUBJECT, DECISIONS_STREAM } from '../../../src/nats/streams';

/**
 * Every decision stored on DECISIONS, as it arrives (an ordered consumer: what JetStream stored, so
 * a retried publish it dropped is not mistaken for a second decision), and, for information, every
 * publish on `orchestrated.decision` seen by a plain subscriber (retries included).
 */
export class DecisionLedger {
  readonly firstArrival = new Map<string, number>();
  /** When the workflow made each decision (its `orchestrated_at`), which can be well before it was published. */
  readonly decidedAt = new Map<string, number>();
  /** The first decision stored for each correlation. */
  readonly decisions = new Map<string, OrchestrationDecision>();
  readonly arrivals: number[] = [];
  /** Publishes seen on the subject per correlation, including those JetStream then dropped as duplicates. */
  readonly rawPublishes = new Map<string, number>();
  private readonly seenSeqs = new Set<number>();
  private stopFns: Array<() => Promise<void>> = [];

  static async start(nc: NatsConnection, js: JetStreamClient): Promise<DecisionLedger> {
    const ledger = new DecisionLedger();
    // From the start of the stream (the default: spelling out DeliverPolicy.All makes nats.js 2.29's consume() hang).
    const consumer = await js.consumers.get(DECISIONS_STREAM, { filterSubjects: [DECISION_SUBJECT] });
    const messages = await consumer.consume();
    const loop = (async () => {
      for await (const message of messages) {
        if (ledger.seenSeqs.has(message.seq)) continue;
        ledger.seenSeqs.add(message.seq);
        const at = Date.now();
        try {
          const decision = message.json<OrchestrationDecision>();
          if (!ledger.firstArrival.has(decision.corr_id)) {
            ledger.firstArrival.set(decision.corr_id, at);
            ledger.decisions.set(decision.corr_id, decision);
            ledger.decidedAt.set(decision.corr_id, Date.parse(decision.orchestrated_at));
          }
          ledger.arrivals.push(at);
        } catch {
          // not a decision: the verification reports it
        }
      }
    })();
    const decoder = new TextDecoder();
    const subscription = nc.subscribe(DECISION_SUBJECT, {
      callback: (_, message) => {
        try {
          const corrId = (JSON.parse(decoder.decode(message.data)) as { corr_id: string }).corr_id;
          ledger.rawPublishes.set(corrId, (ledger.rawPublishes.get(corrId) ?? 0) + 1);
        } catch {
          // counted by the verification
        }
      },
    });
    ledger.stopFns = [
      async () => subscription.unsubscribe(),
      async () => {
        await messages.close();
        await loop;
      },
    ];
    return ledger;
  }

  decided(corrId: string): boolean {
    return this.firstArrival.has(corrId);
  }

  async stop(): Promise<void> {
    for (const stop of this.stopFns) await stop().catch(() => undefined);
  }
}
