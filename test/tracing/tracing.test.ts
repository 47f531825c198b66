/**
 * Traces from agent to decision, read back from a real OpenTelemetry Collector: the worker and the
 * bridge as processes export over OTLP to it, and its file exporter writes the spans this test reads.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MsgHdrs, headers as natsHeaders } from 'nats';
import { signalSubject } from '../../src/nats/streams';
import { breakerWorkflowIdFor } from '../../src/shared/agent-breaker-api';
import { WORKFLOW_TYPE, workflowIdFor } from '../../src/shared/correlation-api';
import type { AgentSignal } from '../../src/contract/agent-signal';
import { storedDecisionMessages } from '../support/decisions';
import { type E2EStack, startE2EStack, waitFor } from '../support/e2e-stack';
import { momentum, risk, uniqueCorrId } from '../support/signals';
import { type CollectedSpan, type Collector, startCollector } from './collector';

const dir = mkdtempSync(join(tmpdir(), 'orch-tracing-'));
let collector: Collector;
let stack: E2EStack;

beforeAll(async () => {
  collector = await startCollector(dir);
  // Each message goes to Temporal at once: the first starts its correlation, the second is signalled.
  stack = await startE2EStack(
    { version: 'tracing-1', timeout_ms: 10_000 },
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ORCH_BRIDGE_BATCH_WINDOW_MS: '0',
    },
  );
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await collector?.stop();
});

type TraceHeaders = Record<string, string>;

/** Publishes an agent's signal as an agent would, with its trace context (traceparent, tracestate) when it has one. */
async function publish(signal: AgentSignal, trace: TraceHeaders = {}): Promise<void> {
  const headers = natsHeaders();
  for (const [name, value] of Object.entries(trace)) headers.set(name, value);
  await stack.nats.js.publish(signalSubject(signal.agent_name), JSON.stringify(signal), { headers });
}

/** A correlation's two agents, momentum first; the second once the first has started the workflow. */
async function runCorrelation(
  corrId: string,
  trace: { momentum?: TraceHeaders; risk?: TraceHeaders } = {},
): Promise<void> {
  await publish(momentum(corrId), trace.momentum);
  const handle = stack.client.workflow.getHandle(workflowIdFor(corrId));
  await waitFor('the correlation to start', () =>
    handle.describe().then(
      () => true,
      () => undefined,
    ),
  );
  await publish(risk(corrId), trace.risk);
}

/** The headers of the correlation's decision, once it is decided. */
async function decisionHeaders(corrId: string): Promise<MsgHdrs> {
  await stack.decisionsFor(corrId);
  const [message] = await storedDecisionMessages(stack.nats.jsm, corrId);
  return message!.header;
}

/**
 * Each span of a trace as `name <- parent's name` (a parent outside the trace by its id, none for the root), sorted.
 */
function tree(spans: CollectedSpan[]): string[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  return spans.map((s) => `${s.name} <- ${byId.get(s.parentSpanId)?.name ?? (s.parentSpanId || 'none')}`).sort();
}

/** The spans of a trace once it has `count` of them (or what it has after 15 s, for the assertion to show). */
async function traceOf(traceId: string, count: number): Promise<CollectedSpan[]> {
  const spans = () => collector.spans().filter((s) => s.traceId === traceId);
  await waitFor(
    `${count} spans of trace ${traceId}`,
    async () => (spans().length >= count ? true : undefined),
    15_000,
  ).catch(() => undefined);
  return spans();
}

/** The trace id and span id of a W3C traceparent. */
function parentOf(traceparent: string): { traceId: string; spanId: string } {
  const [, traceId, spanId] = traceparent.split('-');
  return { traceId: traceId!, spanId: spanId! };
}

describe('tracing from agent to decision', () => {
  it("continues the agents' trace through the bridge, the start and the signal-with-start, the workflow and its activity, and sets it on the decision", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const [momentumSpan, riskSpan] = ['00f067aa0ba902b7', '00f067aa0ba902b8'];
    const corrId = uniqueCorrId('traced');
    const tracestate = 'agents=momentum';
    await runCorrelation(corrId, {
      momentum: { traceparent: `00-${traceId}-${momentumSpan}-01`, tracestate },
      risk: { traceparent: `00-${traceId}-${riskSpan}-01` },
    });
    const decision = await decisionHeaders(corrId);

    const spans = await traceOf(traceId, 9);
    expect(tree(spans)).toEqual(
      [
        `process signals.enriched.momentum <- ${momentumSpan}`,
        `StartWorkflow:${WORKFLOW_TYPE} <- process signals.enriched.momentum`,
        `RunWorkflow:${WORKFLOW_TYPE} <- StartWorkflow:${WORKFLOW_TYPE}`,
        `process signals.enriched.risk <- ${riskSpan}`,
        `SignalWithStartWorkflow:${WORKFLOW_TYPE} <- process signals.enriched.risk`,
        `HandleSignal:agentSignals <- SignalWithStartWorkflow:${WORKFLOW_TYPE}`,
        `StartActivity:decideAndPublish <- RunWorkflow:${WORKFLOW_TYPE}`,
        'RunActivity:decideAndPublish <- StartActivity:decideAndPublish',
        'publish orchestrated.decision <- RunActivity:decideAndPublish',
      ].sort(),
    );
    const named = (name: string) => spans.find((s) => s.name === name)!;
    expect(named('process signals.enriched.momentum')).toMatchObject({
      service: 'orchestrator-bridge',
      attributes: { 'orchestrator.corr_id': corrId, 'orchestrator.agent': 'momentum' },
    });
    expect(named(`StartWorkflow:${WORKFLOW_TYPE}`).attributes.temporalWorkflowId).toBe(workflowIdFor(corrId));
    expect(named('publish orchestrated.decision')).toMatchObject({
      service: 'orchestrator-worker',
      attributes: { 'orchestrator.corr_id': corrId },
    });
    // The decision's consumers continue the trace from the span that published it.
    expect(decision.get('traceparent')).toBe(`00-${traceId}-${named('publish orchestrated.decision').spanId}-01`);
    expect(decision.get('tracestate')).toBe(tracestate);
  });

  it('starts a trace for a message that brings none: the correlation it starts, to its decision, is in that trace', async () => {
    const corrId = uniqueCorrId('untraced');
    await runCorrelation(corrId);
    const decision = await decisionHeaders(corrId);
    const { traceId, spanId } = parentOf(decision.get('traceparent'));
    expect(traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');

    const spans = await traceOf(traceId, 6);
    expect(tree(spans)).toEqual(
      [
        'process signals.enriched.momentum <- none',
        `StartWorkflow:${WORKFLOW_TYPE} <- process signals.enriched.momentum`,
        `RunWorkflow:${WORKFLOW_TYPE} <- StartWorkflow:${WORKFLOW_TYPE}`,
        `StartActivity:decideAndPublish <- RunWorkflow:${WORKFLOW_TYPE}`,
        'RunActivity:decideAndPublish <- StartActivity:decideAndPublish',
        'publish orchestrated.decision <- RunActivity:decideAndPublish',
      ].sort(),
    );
    expect(spans.find((s) => s.name === 'publish orchestrated.decision')!.spanId).toBe(spanId);
    expect(spans.find((s) => s.name === 'process signals.enriched.momentum')!.attributes['orchestrator.corr_id']).toBe(
      corrId,
    );
  });

  it("makes no trace of the agents' circuit breakers, read every second and told each decision's outcome: every trace starts at an agent's message", async () => {
    await runCorrelation(uniqueCorrId('before-breakers'));
    const breaker = stack.client.workflow.getHandle(breakerWorkflowIdFor('momentum'));
    await waitFor("the worker to report a decision to momentum's breaker", async () =>
      (await breaker.fetchHistory().catch(() => undefined))?.events?.some(
        (e) => e.workflowExecutionSignaledEventAttributes,
      )
        ? true
        : undefined,
    );
    // A correlation decided after that: the breakers' spans, if there were any, are exported before its own.
    const corrId = uniqueCorrId('after-breakers');
    await runCorrelation(corrId);
    const decision = await decisionHeaders(corrId);
    await traceOf(parentOf(decision.get('traceparent')).traceId, 6);

    const spans = collector.spans();
    const traces = [...new Set(spans.map((s) => s.traceId))].map((id) => spans.filter((s) => s.traceId === id));
    const withoutMessage = traces.filter((trace) => !trace.some((s) => s.name.startsWith('process signals.enriched.')));
    expect(withoutMessage.map((trace) => trace.map((s) => s.name))).toEqual([]);
  });
});
