/**
 * End to end, as agents and consumers see it: signals published on NATS, decisions read from
 * orchestrated.decision. Real servers (either engine), worker and bridge processes.
 * Short policy timeouts stand in for the 5-minute default (time-skipping is for the unit tests).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIGNALS_STREAM } from '../../src/nats/streams';
import { stateQuery, workflowIdFor } from '../../src/shared/correlation-api';
import type { EngineKind } from '../../src/devstack/local-stack';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { historyShape } from '../support/history-shape';
import { momentum, risk, uniqueCorrId } from '../support/signals';

/** The bridge's end-to-end cases, on one engine (test/e2e/bridge.test.ts: dev; test/cluster/bridge.test.ts: cluster). */
export function bridgeCases(engine: EngineKind): void {
  const TIMEOUT_MS = 2_000;
  let stack: E2EStack;

  beforeAll(async () => {
    // A short ack wait: a killed bridge's unacknowledged messages come back in seconds.
    stack = await startE2EStack(
      { version: 'e2e-1', timeout_ms: TIMEOUT_MS },
      { ORCH_BRIDGE_ACK_WAIT_MS: '3000' },
      { engine },
    );
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('bridge end to end', () => {
    it('turns momentum and risk into exactly one decision on orchestrated.decision', async () => {
      const corrId = uniqueCorrId('e2e-one');
      const momentumSeq = await stack.publish(
        'momentum',
        momentum(corrId, { trend_direction: 'bullish', momentum_strength: 0.75, confidence: 0.82 }),
      );
      const riskSeq = await stack.publish(
        'risk',
        risk(corrId, { risk_level: 'medium', overall_score: 0.65, position_sizing: { recommended_size: 10_000 } }),
      );
      const [stored, ...extra] = await stack.decisionsFor(corrId);
      expect(extra).toEqual([]);
      expect(stored.msgId).toBe(corrId);
      // docs/SPEC.md's fan-in acceptance case: these two signals make a trade, confidence above 0.5.
      expect(stored.decision.decision.action).toBe('trade');
      expect(stored.decision.decision.confidence).toBeGreaterThan(0.5);
      expect(stored.decision.provenance.map((p) => p.message_id)).toEqual([String(momentumSeq), String(riskSeq)]);
    });

    it('starts a correlation whose agents report together with both messages in its start: one workflow task, seven events', async () => {
      const corrId = uniqueCorrId('e2e-shape');
      const seqs = await Promise.all([
        stack.publish('momentum', momentum(corrId)),
        stack.publish('risk', risk(corrId)),
      ]);
      const [stored] = await stack.decisionsFor(corrId);
      const handle = stack.client.workflow.getHandle(workflowIdFor(corrId));
      expect(historyShape(await handle.fetchHistory())).toEqual({
        events: [
          'WorkflowExecutionStarted',
          'WorkflowTaskScheduled',
          'WorkflowTaskStarted',
          'WorkflowTaskCompleted',
          'MarkerRecorded',
          'UpsertWorkflowSearchAttributes',
          'WorkflowExecutionCompleted',
        ],
        startMessages: 2,
        signals: [],
        workflowTasks: 1,
        localActivities: ['decideAndPublish'],
      });
      expect(stored.decision.provenance.map((p) => p.message_id).sort()).toEqual(seqs.map(String).sort());
      // What the UI lists for it, set by the start itself.
      expect(await (await handle.describe()).staticSummary()).toBe(`correlation ${corrId}: momentum, risk within 2s`);
    });

    it('hands a message that comes after the batch window over on its own, and decides once both are in', async () => {
      const corrId = uniqueCorrId('e2e-spread');
      await stack.publish('momentum', momentum(corrId));
      const handle = stack.client.workflow.getHandle(workflowIdFor(corrId));
      await waitFor('the correlation to start with momentum', async () =>
        'momentum' in (await handle.query(stateQuery).catch(() => ({ signals: {} }))).signals ? true : undefined,
      );
      await stack.publish('risk', risk(corrId));
      const [stored] = await stack.decisionsFor(corrId);
      expect(stored.decision).toMatchObject({ missing_agents: [], partial_data: false });
      const shape = historyShape(await handle.fetchHistory());
      expect({ startMessages: shape.startMessages, signals: shape.signals }).toEqual({
        startMessages: 1,
        signals: [{ name: 'agentSignals', messages: 1 }],
      });
    });

    it('decides three correlations published in parallel', async () => {
      const corrIds = [1, 2, 3].map((i) => uniqueCorrId(`e2e-par${i}`));
      await Promise.all(
        corrIds.flatMap((c) => [
          stack.publish('momentum', momentum(c, { confidence: 0.8 })),
          stack.publish('risk', risk(c, { risk_level: 'low' })),
        ]),
      );
      for (const decisions of await Promise.all(corrIds.map((corrId) => stack.decisionsFor(corrId))))
        expect(decisions).toHaveLength(1);
    });

    it('decides insufficient_data when only momentum reports before the timeout, and is found by search attributes', async () => {
      const corrId = uniqueCorrId('e2e-timeout');
      await stack.publish(
        'momentum',
        momentum(corrId, { confidence: 0.8 }, { source_signal: { instrument: 'BTC/USD' } }),
      );
      const [stored] = await stack.decisionsFor(corrId);
      expect(stored.decision).toMatchObject({
        decision: { action: 'insufficient_data' },
        available_agents: ['momentum'],
        missing_agents: ['risk'],
      });
      // What a user types into the UI to see timed-out BTC/USD correlations.
      const query = `CorrelationStatus = "timed_out" AND Instrument = "BTC/USD" AND MissingAgents = "risk" AND CorrelationId = "${corrId}"`;
      const found = await waitFor('the visibility query to find it', async () => {
        for await (const workflow of stack.client.workflow.list({ query })) return workflow.workflowId;
        return undefined;
      });
      expect(found).toBe(workflowIdFor(corrId));
    });

    it('decides the same whether risk or momentum comes first', async () => {
      const [riskFirst, momentumFirst] = [uniqueCorrId('e2e-rf'), uniqueCorrId('e2e-mf')];
      await stack.publish('risk', risk(riskFirst));
      await stack.publish('momentum', momentum(riskFirst));
      await stack.publish('momentum', momentum(momentumFirst));
      await stack.publish('risk', risk(momentumFirst));
      const [[a], [b]] = [await stack.decisionsFor(riskFirst), await stack.decisionsFor(momentumFirst)];
      expect(a.decision.decision).toEqual(b.decision.decision);
      expect(a.decision.partial_data).toBe(false);
    });

    it('counts a message published twice once', async () => {
      const corrId = uniqueCorrId('e2e-twice');
      await stack.publish('momentum', momentum(corrId));
      await stack.publish('momentum', momentum(corrId));
      await stack.publish('risk', risk(corrId), `${corrId}-risk`);
      await stack.publish('risk', risk(corrId), `${corrId}-risk`);
      expect(await stack.decisionsFor(corrId)).toHaveLength(1);
      const state = await stack.client.workflow.getHandle(workflowIdFor(corrId)).query(stateQuery);
      // The second momentum is a new stream message, ignored by the workflow; the second risk never
      // reached the stream (same Nats-Msg-Id).
      expect(state.duplicates).toBe(1);
    });

    it('refuses 100 malformed messages of every kind into the DLQ and stays healthy', async () => {
      const before = (await stack.dlqEntries()).length;
      const good = momentum('dlq-ok');
      const kinds: Array<[string, unknown, string]> = [
        ['momentum', 'not json at all', 'not_json'],
        ['momentum', new Uint8Array([0xff, 0xfe, 0x00]), 'not_json'],
        ['momentum', { ...good, analysis: { confidence: 7 } }, 'schema_violation'],
        ['momentum', { ...good, corr_id: 'bad id!' }, 'schema_violation'],
        ['momentum', { agent_name: 'momentum', corr_id: 'x' }, 'schema_violation'],
        ['momentum', { ...good, schema_version: '9.0.0' }, 'unsupported_schema_version'],
        ['risk', good, 'subject_mismatch'],
        ['momentum', { ...good, analysis: { pad: 'x'.repeat(70 * 1024) } }, 'oversize'],
        ['momentum', [1, 2, 3], 'schema_violation'],
        ['momentum', 'null', 'schema_violation'],
      ];
      const expected: Record<string, number> = {};
      for (let i = 0; i < 100; i++) {
        const [agent, payload, reason] = kinds[i % kinds.length];
        await stack.publish(agent, payload);
        expected[reason] = (expected[reason] ?? 0) + 1;
      }
      const entries = await waitFor('100 DLQ entries', async () => {
        const all = await stack.dlqEntries();
        return all.length >= before + 100 ? all.slice(before) : undefined;
      });
      const reasons: Record<string, number> = {};
      for (const entry of entries) {
        const reason = entry.header.get('Orch-Dlq-Reason');
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        expect(entry.header.get('Orch-Original-Subject')).toMatch(/^signals\.enriched\./);
      }
      expect(reasons).toEqual(expected);
      // The original bytes are kept as they were.
      expect(new TextDecoder().decode(entries[0].data)).toBe('not json at all');
      expect(stack.bridge.running).toBe(true);

      const corrId = uniqueCorrId('e2e-after-dlq');
      await stack.publish('momentum', momentum(corrId));
      await stack.publish('risk', risk(corrId));
      expect(await stack.decisionsFor(corrId)).toHaveLength(1);
    });

    it('sends a signal for a decided correlation to the DLQ as late, and never decides twice', async () => {
      const corrId = uniqueCorrId('e2e-late');
      await stack.publish('momentum', momentum(corrId));
      await stack.publish('risk', risk(corrId));
      await stack.decisionsFor(corrId);
      await waitFor('the workflow to close', async () =>
        (await stack.client.workflow.getHandle(workflowIdFor(corrId)).describe()).status.name === 'COMPLETED'
          ? true
          : undefined,
      );
      const lateSeq = await stack.publish('sentiment', { ...momentum(corrId), agent_name: 'sentiment' });
      const late = await waitFor('the late DLQ entry', async () =>
        (await stack.dlqEntries()).find((e) => e.header.get('Orch-Original-Seq') === String(lateSeq)),
      );
      expect(late.header.get('Orch-Dlq-Reason')).toBe('late');
      expect(await stack.decisionsFor(corrId)).toHaveLength(1);
    });

    it('loses nothing and decides once when the bridge is killed mid-batch', async () => {
      const corrIds = Array.from({ length: 40 }, (_, i) => uniqueCorrId(`e2e-crash${i}`));
      // Each momentum waits in its batch window for risk: the bridge holds it unacknowledged.
      const publishing = Promise.all(corrIds.map((c) => stack.publish('momentum', momentum(c))));
      let held = 0;
      for (const deadline = Date.now() + 10_000; held === 0 && Date.now() < deadline;) {
        held = (await stack.nats.jsm.consumers.info(SIGNALS_STREAM, 'orchestrator-bridge')).num_ack_pending;
      }
      await stack.bridge.kill9();
      expect(held).toBeGreaterThan(0);
      const momentumSeqs = await publishing;
      await stack.bridge.start();
      // What the killed bridge held comes back after the ack wait (3 s) and starts its correlation;
      // what it had handed over without acknowledging comes back as a duplicate of its run, open or
      // closed. Risk never reports, so every correlation decides on its momentum alone at its 2 s
      // timer whichever of those happened: the input fixes each decision, and no message of a
      // second agent can race the timer. decisionsFor waits until the bridge has handed every
      // message over and each run has closed, then reads what DECISIONS holds.
      const decided = await Promise.all(corrIds.map((corrId) => stack.decisionsFor(corrId)));
      for (const [i, corrId] of corrIds.entries()) {
        const seen = decided[i].map(({ decision }) => ({
          action: decision.decision.action,
          available: decision.available_agents,
          missing: decision.missing_agents,
          provenance: decision.provenance?.map((p) => [p.agent, p.message_id]),
        }));
        expect({ corrId, seen }).toEqual({
          corrId,
          seen: [
            {
              action: 'insufficient_data',
              available: ['momentum'],
              missing: ['risk'],
              provenance: [['momentum', String(momentumSeqs[i])]],
            },
          ],
        });
      }
    }, 120_000);

    // Last in this block: it stops the bridge.
    it('finishes the messages in flight and exits cleanly on SIGTERM', async () => {
      const corrId = uniqueCorrId('e2e-sigterm');
      await stack.publish('momentum', momentum(corrId));
      await stack.publish('risk', risk(corrId));
      process.kill(stack.bridge.pid!, 'SIGTERM');
      expect(await stack.bridge.exited).toBe(0);
      const log = readFileSync(join(stack.logDir, 'bridge.log'), 'utf8');
      expect(log).toContain('"msg":"bridge stopping"');
      expect(log).toContain('"msg":"bridge stopped"');
      // Whatever the bridge had not acknowledged is still in JetStream for the next bridge.
      await stack.bridge.start();
      expect(await stack.decisionsFor(corrId)).toHaveLength(1);
    });
  });

  describe('bridge end to end, partial-data policy', () => {
    let lenient: E2EStack;

    beforeAll(async () => {
      lenient = await startE2EStack(
        { version: 'e2e-partial', timeout_ms: TIMEOUT_MS, min_agents_threshold: 1 },
        {},
        { engine },
      );
    }, 60_000);

    afterAll(async () => {
      await lenient?.stop();
    });

    it('decides on momentum alone at the timeout when the threshold is 1', async () => {
      const corrId = uniqueCorrId('e2e-partial');
      await lenient.publish('momentum', momentum(corrId, { trend_direction: 'bullish', confidence: 0.9 }));
      const [stored, ...extra] = await lenient.decisionsFor(corrId);
      expect(extra).toEqual([]);
      // Momentum's confidence 0.9 less the 20 % partial-data penalty: 0.72, above the default
      // trade_min_confidence of 0.55, and no risk to hold it back: a trade.
      expect(stored.decision).toMatchObject({
        decision: { action: 'trade', confidence: 0.72, reasoning: 'high_momentum_acceptable_risk' },
        contributing_agents: ['momentum'],
        partial_data: true,
        missing_agents: ['risk'],
        policy_version: 'e2e-partial',
      });
    });
  });
}
