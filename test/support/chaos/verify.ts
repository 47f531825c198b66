/**
 * The verifier: what is wrong with the decisions JetStream stored, given what the load published.
 * Pure: it reads nothing and waits for nothing, so it runs on hand-made data as well as on a run's.
 */
import type { OrchestrationDecision } from '../../../src/contract/decision';
import type { PublishedCorrelation } from './load';

export interface Problem {
  corrId: string;
  problem: string;
}

/** One message stored on DECISIONS: its sequence, its Nats-Msg-Id, and the decision if it parses. */
export interface StoredEntry {
  seq: number;
  msgId: string | undefined;
  decision: OrchestrationDecision | undefined;
}

export interface DecisionsVerdict {
  /** Published correlations with at least one decision stored. */
  decided: number;
  /** Published correlations with no decision stored. */
  lost: number;
  /** Correlations with more than one decision stored (or one under an unexpected Nats-Msg-Id). */
  duplicated: number;
  /** Decisions whose provenance, agents or partial flag differ from what was published. */
  mismatched: number;
  problems: Problem[];
}

/**
 * Checks every stored decision against the published correlations: each has exactly one, stored
 * under `Nats-Msg-Id: <corr_id>`, made on exactly the signals published for it. A stored entry for
 * any other correlation (or one that does not parse) is a problem, unless `otherCorrelations` is
 * given: it then judges those entries and returns the problems it finds.
 */
export function verifyDecisions(
  published: readonly PublishedCorrelation[],
  stored: readonly StoredEntry[],
  otherCorrelations?: (entries: StoredEntry[]) => Problem[],
): DecisionsVerdict {
  const problems: Problem[] = [];
  const publishedIds = new Set(published.map((c) => c.corrId));
  const byCorr = new Map<string, StoredEntry[]>();
  const others: StoredEntry[] = [];
  for (const entry of stored) {
    const corrId = entry.decision?.corr_id;
    if (corrId !== undefined && publishedIds.has(corrId)) byCorr.set(corrId, [...(byCorr.get(corrId) ?? []), entry]);
    else others.push(entry);
  }
  problems.push(...(otherCorrelations ? otherCorrelations(others) : others.map(decisionNobodyPublished)));

  let lost = 0;
  let duplicated = 0;
  let mismatched = 0;
  let decided = 0;
  for (const c of published) {
    const entries = byCorr.get(c.corrId) ?? [];
    if (entries.length === 0) {
      lost++;
      problems.push({ corrId: c.corrId, problem: 'no decision stored' });
      continue;
    }
    decided++;
    if (entries.length > 1 || entries.some((e) => e.msgId !== c.corrId)) {
      duplicated++;
      problems.push({
        corrId: c.corrId,
        problem: `${entries.length} decision(s) stored, Nats-Msg-Id ${entries.map((e) => e.msgId).join(', ')}`,
      });
    }
    const mismatch = decisionMismatch(c, entries[0].decision as OrchestrationDecision);
    if (mismatch) {
      mismatched++;
      problems.push({ corrId: c.corrId, problem: mismatch });
    }
  }
  return { decided, lost, duplicated, mismatched, problems };
}

/** The problem with a stored decision for a correlation nobody published (or one that does not parse). */
export function decisionNobodyPublished(entry: StoredEntry): Problem {
  return {
    corrId: entry.decision?.corr_id ?? `seq ${entry.seq}`,
    problem: 'a decision for a correlation nobody published',
  };
}

/** What is wrong with a correlation's decision given what was published for it, or undefined. */
function decisionMismatch(c: PublishedCorrelation, decision: OrchestrationDecision): string | undefined {
  const published = Object.entries(c.seqs)
    .map(([agent, seq]) => `${agent}#${seq}`)
    .sort();
  const used = (decision.provenance ?? []).map((p) => `${p.agent}#${p.message_id}`).sort();
  if (published.join(',') !== used.join(','))
    return `provenance ${used.join(',') || 'none'} but published ${published.join(',')}`;
  const agents = Object.keys(c.seqs).sort().join(',');
  if ((decision.available_agents ?? []).join(',') !== agents)
    return `available_agents ${decision.available_agents?.join(',')} but published ${agents}`;
  if (decision.partial_data !== c.partial)
    return `partial_data ${decision.partial_data} for a ${c.partial ? 'partial' : 'complete'} correlation`;
  const expectedMissing = c.partial ? 'risk' : '';
  if ((decision.missing_agents ?? []).join(',') !== expectedMissing)
    return `missing_agents ${decision.missing_agents?.join(',')} (expected ${expectedMissing || 'none'})`;
  return undefined;
}
