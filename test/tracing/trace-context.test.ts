/**
 * The W3C trace context of NATS messages (src/observability/trace-context.ts), with OpenTelemetry's
 * SDK registered in this process as tracing registers it, its spans kept in memory: how a batch of
 * messages with and without `traceparent` is traced, and what the decision's message carries.
 */
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { headers as natsHeaders } from 'nats';
import { type ReceivedMessage, tracedPublish, withMessageSpans } from '../../src/observability/trace-context';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
// As src/observability/tracing.ts does: the propagators of OTEL_PROPAGATORS, W3C trace context by default.
provider.register({ contextManager: new AsyncLocalStorageContextManager() });

afterEach(() => exporter.reset());
afterAll(() => provider.shutdown());

const AGENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTHER_TRACE = '0af7651916cd43dd8448eb211c80319c';

function message(agent: string, seq: number, traceHeaders: Record<string, string> = {}): ReceivedMessage {
  const headers = natsHeaders();
  for (const [name, value] of Object.entries(traceHeaders)) headers.set(name, value);
  return {
    subject: `signals.enriched.${agent}`,
    headers,
    receivedAtMs: 1_700_000_000_000 + seq,
    streamSeq: seq,
    agent,
  };
}

/** Hands a batch over, returning the span context the hand-over ran in; then every span, by its agent. */
async function handOver(messages: ReceivedMessage[]) {
  const during = await withMessageSpans('corr-1', messages, async () => trace.getSpan(context.active())!.spanContext());
  const spans = new Map(exporter.getFinishedSpans().map((s) => [s.attributes['orchestrator.agent'] as string, s]));
  return { during, spans, span: (agent: string): ReadableSpan => spans.get(agent)! };
}

describe("a batch's trace context", () => {
  it("continues the message's trace: its span is the agent's span's child, and the hand-over runs in it", async () => {
    const { during, span } = await handOver([
      message('momentum', 7, { traceparent: `00-${AGENT_TRACE}-00f067aa0ba902b7-01` }),
    ]);
    expect(span('momentum').spanContext().traceId).toBe(AGENT_TRACE);
    expect(span('momentum').parentSpanId).toBe('00f067aa0ba902b7');
    expect(during.spanId).toBe(span('momentum').spanContext().spanId);
    expect(span('momentum')).toMatchObject({
      name: 'process signals.enriched.momentum',
      startTime: [1_700_000_000, 7_000_000],
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': 'signals.enriched.momentum',
        'messaging.message.id': '7',
        'orchestrator.corr_id': 'corr-1',
      },
    });
  });

  it('reads the header whatever its case', async () => {
    const { span } = await handOver([message('momentum', 1, { Traceparent: `00-${AGENT_TRACE}-00f067aa0ba902b7-01` })]);
    expect(span('momentum').spanContext().traceId).toBe(AGENT_TRACE);
  });

  it('leads with the first message that has a trace; one without joins that trace, under the lead', async () => {
    const { during, span } = await handOver([
      message('momentum', 1),
      message('risk', 2, { traceparent: `00-${AGENT_TRACE}-00f067aa0ba902b8-01` }),
    ]);
    expect(during.spanId).toBe(span('risk').spanContext().spanId);
    expect(span('momentum').spanContext().traceId).toBe(AGENT_TRACE);
    expect(span('momentum').parentSpanId).toBe(span('risk').spanContext().spanId);
  });

  it('starts one new trace for a batch that brings none, the first message its root', async () => {
    const { during, span } = await handOver([message('momentum', 1), message('risk', 2)]);
    expect(span('momentum').parentSpanId).toBeUndefined();
    expect(span('risk').spanContext().traceId).toBe(span('momentum').spanContext().traceId);
    expect(span('risk').parentSpanId).toBe(span('momentum').spanContext().spanId);
    expect(during.traceId).toBe(span('momentum').spanContext().traceId);
  });

  it("keeps a message of another trace in its own, linked to the lead's span", async () => {
    const { span } = await handOver([
      message('momentum', 1, { traceparent: `00-${AGENT_TRACE}-00f067aa0ba902b7-01` }),
      message('risk', 2, { traceparent: `00-${OTHER_TRACE}-b7ad6b7169203331-01` }),
    ]);
    expect(span('risk').spanContext().traceId).toBe(OTHER_TRACE);
    expect(span('risk').parentSpanId).toBe('b7ad6b7169203331');
    expect(span('risk').links.map((l) => l.context.spanId)).toEqual([span('momentum').spanContext().spanId]);
    expect(span('momentum').links).toEqual([]);
  });
});

describe("the decision's trace context", () => {
  it('puts the publish span on the message, a child of the span it is published in', async () => {
    const headers = natsHeaders();
    const parent = trace.getTracer('test').startSpan('RunActivity:decideAndPublish');
    await context.with(trace.setSpan(context.active(), parent), () =>
      tracedPublish('orchestrated.decision', headers, { 'orchestrator.corr_id': 'corr-1' }, async () => 'ack'),
    );
    parent.end();
    const publish = exporter.getFinishedSpans().find((s) => s.name === 'publish orchestrated.decision')!;
    expect(publish.parentSpanId).toBe(parent.spanContext().spanId);
    expect(headers.get('traceparent')).toBe(`00-${parent.spanContext().traceId}-${publish.spanContext().spanId}-01`);
  });

  it('marks a failed publish and passes its error on', async () => {
    const failure = new Error('no responders');
    await expect(tracedPublish('orchestrated.decision', natsHeaders(), {}, () => Promise.reject(failure))).rejects.toBe(
      failure,
    );
    expect(exporter.getFinishedSpans()[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no responders' });
  });
});
