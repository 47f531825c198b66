import type { JetStreamManager, StoredMsg } from 'nats';
import type { OrchestrationDecision } from '../../src/contract/decision';
import { DECISIONS_STREAM } from '../../src/nats/streams';

export interface StoredDecision {
  msgId: string | undefined;
  decision: OrchestrationDecision;
}

/** Every decision stored on the DECISIONS stream for one correlation (all of them, if corrId is omitted). */
export async function storedDecisions(jsm: JetStreamManager, corrId?: string): Promise<StoredDecision[]> {
  return (await storedDecisionMessages(jsm, corrId)).map((message) => ({
    msgId: message.header.get('Nats-Msg-Id') || undefined,
    decision: message.json<OrchestrationDecision>(),
  }));
}

/** The same decisions as the messages stored, headers and all. */
export async function storedDecisionMessages(jsm: JetStreamManager, corrId?: string): Promise<StoredMsg[]> {
  // The worker creates the stream with the first decision it publishes.
  const info = await jsm.streams.info(DECISIONS_STREAM).catch(() => undefined);
  if (!info) return [];
  const found: StoredMsg[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const message = await jsm.streams.getMessage(DECISIONS_STREAM, { seq });
    if (corrId === undefined || message.json<OrchestrationDecision>().corr_id === corrId) found.push(message);
  }
  return found;
}
