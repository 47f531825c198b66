/**
 * What the local stack is doing, read off NATS like any other observer: correlations started
 * (distinct corr ids on signals.enriched.>), decided and timed out (orchestrated.decision), DLQ'd.
 */
import type { NatsConnection, Subscription } from 'nats';
import type { OrchestrationDecision } from '../contract/decision';
import { DECISION_SUBJECT, DLQ_SUBJECT, SIGNAL_SUBJECTS } from '../nats/streams';

export interface Progress {
  started: number;
  decided: number;
  timedOut: number;
  dlq: number;
  byAction: Record<string, number>;
}

export interface ProgressWatch {
  snapshot(): Progress;
  stop(): void;
}

export function watchProgress(nc: NatsConnection): ProgressWatch {
  const progress: Progress = { started: 0, decided: 0, timedOut: 0, dlq: 0, byAction: {} };
  // Only correlations still open are remembered, so this stays small on a long run.
  const open = new Set<string>();
  const decoder = new TextDecoder();
  const subscriptions: Subscription[] = [
    nc.subscribe(SIGNAL_SUBJECTS, {
      callback: (_, message) => {
        const corrId = parseJson<{ corr_id?: unknown }>(message.data)?.corr_id;
        if (typeof corrId === 'string' && !open.has(corrId)) {
          open.add(corrId);
          progress.started++;
        }
      },
    }),
    nc.subscribe(DECISION_SUBJECT, {
      callback: (_, message) => {
        const decision = parseJson<OrchestrationDecision>(message.data);
        if (!decision) return;
        open.delete(decision.corr_id);
        progress.decided++;
        if (decision.partial_data) progress.timedOut++;
        const action = decision.decision.action;
        progress.byAction[action] = (progress.byAction[action] ?? 0) + 1;
      },
    }),
    nc.subscribe(DLQ_SUBJECT, { callback: () => void progress.dlq++ }),
  ];

  function parseJson<T>(data: Uint8Array): T | undefined {
    try {
      return JSON.parse(decoder.decode(data)) as T;
    } catch {
      return undefined;
    }
  }

  return {
    snapshot: () => ({ ...progress, byAction: { ...progress.byAction } }),
    stop: () => subscriptions.forEach((s) => s.unsubscribe()),
  };
}

/** One line: `120 started, 118 decided (5 timed out), 0 DLQ'd | 2.0 decided/s | trade 40, monitor 50, …` */
export function formatProgress(now: Progress, before: Progress, seconds: number): string {
  const rate = (now.decided - before.decided) / seconds;
  const actions = Object.entries(now.byAction)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([action, n]) => `${action} ${n}`)
    .join(', ');
  return `correlations: ${now.started} started, ${now.decided} decided (${now.timedOut} timed out), ${now.dlq} DLQ'd | ${rate.toFixed(1)} decided/s${actions ? ` | ${actions}` : ''}`;
}
