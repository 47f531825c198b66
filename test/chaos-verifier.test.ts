/**
 * The chaos suite's verifier and fault figures on hand-made data: no stack, no servers. What a
 * scenario concludes (nothing lost, nothing duplicated, the recovery time) rests on these.
 */
import type { OrchestrationDecision } from '../src/contract/decision';
import { faultFigures } from './support/chaos/faults';
import { DecisionLedger } from './support/chaos/ledger';
import type { PublishedCorrelation } from './support/chaos/load';
import { type StoredEntry, verifyDecisions } from './support/chaos/verify';

/** A correlation as the load records it: agent -> stream sequence of its signal. */
function published(corrId: string, seqs: Record<string, number>, firstSentAt = 0): PublishedCorrelation {
  return { corrId, n: 0, partial: !('risk' in seqs), seqs, sent: {}, firstSentAt };
}

/** A decision made on exactly `seqs` (agent -> message id), as the worker makes it; `changes` breaks it. */
function decision(
  corrId: string,
  seqs: Record<string, number>,
  changes: Partial<OrchestrationDecision> = {},
): OrchestrationDecision {
  const agents = Object.keys(seqs).sort();
  return {
    corr_id: corrId,
    available_agents: agents,
    missing_agents: agents.includes('risk') ? [] : ['risk'],
    partial_data: !agents.includes('risk'),
    provenance: Object.entries(seqs).map(([agent, seq]) => ({
      agent,
      message_id: String(seq),
      arrived_at: '2025-01-01T00:00:00.000Z',
    })),
    ...changes,
  } as OrchestrationDecision;
}

const stored = (seq: number, msgId: string | undefined, d: OrchestrationDecision | undefined): StoredEntry => ({
  seq,
  msgId,
  decision: d,
});

const complete = published('c-1', { momentum: 1, risk: 2 });
const partial = published('c-2', { momentum: 3 });

describe('verifyDecisions', () => {
  it('passes a clean run: one decision each, under its corr_id, on exactly what was published', () => {
    const verdict = verifyDecisions(
      [complete, partial],
      [stored(1, 'c-1', decision('c-1', { risk: 2, momentum: 1 })), stored(2, 'c-2', decision('c-2', { momentum: 3 }))],
    );
    expect(verdict).toEqual({ decided: 2, lost: 0, duplicated: 0, mismatched: 0, problems: [] });
  });

  it('catches a duplicate decision (stored again under the same id, past the duplicate window), and one stored under another Nats-Msg-Id', () => {
    const verdict = verifyDecisions(
      [complete, partial],
      [
        stored(1, 'c-1', decision('c-1', { momentum: 1, risk: 2 })),
        stored(2, 'c-1', decision('c-1', { momentum: 1, risk: 2 })),
        stored(3, 'c-2:retry', decision('c-2', { momentum: 3 })),
      ],
    );
    expect(verdict).toEqual({
      decided: 2,
      lost: 0,
      duplicated: 2,
      mismatched: 0,
      problems: [
        { corrId: 'c-1', problem: '2 decision(s) stored, Nats-Msg-Id c-1, c-1' },
        { corrId: 'c-2', problem: '1 decision(s) stored, Nats-Msg-Id c-2:retry' },
      ],
    });
  });

  it('catches a lost correlation', () => {
    const verdict = verifyDecisions([complete, partial], [stored(1, 'c-1', decision('c-1', { momentum: 1, risk: 2 }))]);
    expect(verdict).toEqual({
      decided: 1,
      lost: 1,
      duplicated: 0,
      mismatched: 0,
      problems: [{ corrId: 'c-2', problem: 'no decision stored' }],
    });
  });

  it('catches a decision that left out a published signal, or got its agents or partial flag wrong', () => {
    const verdict = verifyDecisions(
      [complete, partial, published('c-3', { momentum: 4, risk: 5 }), published('c-4', { momentum: 6 })],
      [
        stored(1, 'c-1', decision('c-1', { momentum: 1 }, { available_agents: ['momentum', 'risk'] })),
        stored(2, 'c-2', decision('c-2', { momentum: 3 }, { partial_data: false })),
        stored(3, 'c-3', decision('c-3', { momentum: 4, risk: 5 }, { available_agents: ['momentum'] })),
        stored(4, 'c-4', decision('c-4', { momentum: 6 }, { missing_agents: [] })),
      ],
    );
    expect(verdict).toEqual({
      decided: 4,
      lost: 0,
      duplicated: 0,
      mismatched: 4,
      problems: [
        { corrId: 'c-1', problem: 'provenance momentum#1 but published momentum#1,risk#2' },
        { corrId: 'c-2', problem: 'partial_data false for a partial correlation' },
        { corrId: 'c-3', problem: 'available_agents momentum but published momentum,risk' },
        { corrId: 'c-4', problem: 'missing_agents  (expected risk)' },
      ],
    });
  });

  it('reports decisions nobody published for, and unreadable entries, unless the scenario judges them', () => {
    const others = [stored(7, 'stranger', decision('stranger', { momentum: 9 })), stored(8, undefined, undefined)];
    const clean = stored(1, 'c-1', decision('c-1', { momentum: 1, risk: 2 }));
    expect(verifyDecisions([complete], [clean, ...others]).problems).toEqual([
      { corrId: 'stranger', problem: 'a decision for a correlation nobody published' },
      { corrId: 'seq 8', problem: 'a decision for a correlation nobody published' },
    ]);
    const judged: StoredEntry[][] = [];
    const verdict = verifyDecisions([complete], [clean, ...others], (entries) => {
      judged.push(entries);
      return [{ corrId: 'stranger', problem: 'judged by the scenario' }];
    });
    expect(judged).toEqual([others]);
    expect(verdict).toEqual({
      decided: 1,
      lost: 0,
      duplicated: 0,
      mismatched: 0,
      problems: [{ corrId: 'stranger', problem: 'judged by the scenario' }],
    });
  });
});

describe('faultFigures', () => {
  // Injected at 10 s, healed at 14 s (ms since the epoch).
  const fault = { kind: 'worker kill -9', injectedAt: 10_000, healedAt: 14_000, note: 'a note' };
  const correlations = [
    published('before', { momentum: 1, risk: 2 }, 5_000), // decided before the fault
    published('waited', { momentum: 3, risk: 4 }, 9_000), // begun before, decided after the heal
    published('during', { momentum: 5, risk: 6 }, 12_000), // begun during the fault
    published('partial', { momentum: 7 }, 11_000), // partial: the timer decides it, not counted
    published('after', { momentum: 8, risk: 9 }, 20_000), // begun after the heal
  ];
  const arrivals: Record<string, number> = {
    before: 8_000,
    waited: 15_000,
    during: 16_500,
    partial: 30_000,
    after: 21_000,
  };

  function ledgerWith(firstArrival: Record<string, number>): DecisionLedger {
    const ledger = new DecisionLedger();
    for (const [corrId, at] of Object.entries(firstArrival)) {
      ledger.firstArrival.set(corrId, at);
      ledger.arrivals.push(at);
    }
    return ledger;
  }

  it('measures the outage, the first decision after the heal, and the drain of what began before it', () => {
    expect(faultFigures(fault, correlations, ledgerWith(arrivals))).toEqual({
      kind: 'worker kill -9',
      note: 'a note',
      injected_at: '1970-01-01T00:00:10.000Z',
      outage_s: 4,
      resumed_s: 5,
      recovery_s: 6.5,
      affected_correlations: 2,
    });
  });

  it('has no recovery while a complete correlation begun before the heal is undecided', () => {
    const { during: _during, ...undecided } = arrivals;
    const figures = faultFigures(fault, correlations, ledgerWith(undecided));
    expect(figures.recovery_s).toBeNull();
    expect(figures.affected_correlations).toBe(1);
  });
});
