import type { JetStreamManager } from 'nats';
import type { OrchestrationDecision } from '../../src/contract/decision';
import { DECISIONS_STREAM } from '../../src/nats/streams';

export interface StoredDecision {
  msgId: string | undefined;
  decision: OrchestrationDecision;
}

/** Every decision stored on the DECISIONS stream for one correlation (all of them, if corrId is omitted). */
export async function storedDecisions(jsm: JetStreamManager, corrId?: string): Promise<StoredDecision[]> {
  // The worker creates the stream with the first decision it publishes.
  const info = await jsm.streams.info(DECISIONS_STREAM).catch(() => undefined);
  if (!info) return [];
  const found: StoredDecision[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const message = await jsm.streams.getMessage(DECISIONS_STREAM, { seq });
    const decision = message.json<OrchestrationDecision>();
    if (corrId === undefined || decision.corr_id === corrId) {
      found.push({ msgId: message.header.get('Nats-Msg-Id') || undefined, decision });
    }
  }
  return found;
}
