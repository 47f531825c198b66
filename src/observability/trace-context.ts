/**
 * W3C trace context on NATS messages: the `traceparent` (and `tracestate`) header of an agent's
 * message continues in the bridge's span of that message, and the decision's message carries the
 * context of the span that published it. Through OpenTelemetry's global API: while tracing is off
 * (src/observability/tracing.ts registers nothing) every call here is a no-op.
 */
import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { Match, type MsgHdrs } from 'nats';
import { ORCHESTRATOR_VERSION } from '../version';

const tracer = trace.getTracer('agent-orchestrator', ORCHESTRATOR_VERSION);

/** Header names are case-insensitive in W3C Trace Context; an agent may write `Traceparent`. */
const fromHeaders: TextMapGetter<MsgHdrs | undefined> = {
  keys: (headers) => headers?.keys() ?? [],
  get: (headers, key) => (headers?.has(key, Match.IgnoreCase) ? headers.get(key, Match.IgnoreCase) : undefined),
};

const toHeaders: TextMapSetter<MsgHdrs> = { set: (headers, key, value) => headers.set(key, value) };

/** The trace context a message carries (ROOT_CONTEXT when it carries none). */
function contextOf(headers: MsgHdrs | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers, fromHeaders);
}

/** True when `ctx` continues a trace (a valid span context came with the message). */
function continuesATrace(ctx: Context): boolean {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext !== undefined && isSpanContextValid(spanContext);
}

/** An agent's message the bridge hands to Temporal. */
export interface ReceivedMessage {
  subject: string;
  headers?: MsgHdrs;
  /** When the bridge took it from JetStream (ms since the epoch): its span starts there. */
  receivedAtMs: number;
  streamSeq: number;
  agent: string;
}

/**
 * Runs the hand-over of one correlation's batch of messages within a span per message, from its
 * receipt to the end of the hand-over. A message with a `traceparent` continues its trace; the
 * batch's lead, the first message that has one (else the first), is the parent of the hand-over (the
 * Temporal start or signal-with-start, so of the workflow and the decision). A message without
 * one joins its batch's trace under the lead's span; the lead of a batch without any starts a new
 * trace. A message whose trace is not the lead's links to the lead's span.
 */
export async function withMessageSpans<T>(
  corrId: string,
  messages: readonly ReceivedMessage[],
  handOver: () => Promise<T>,
): Promise<T> {
  const contexts = messages.map((m) => contextOf(m.headers));
  const leadIndex = Math.max(0, contexts.findIndex(continuesATrace));
  const lead = startMessageSpan(corrId, messages[leadIndex]!, contexts[leadIndex]!);
  const leadContext = trace.setSpan(contexts[leadIndex]!, lead);
  const spans = messages.map((message, i) => {
    if (i === leadIndex) return lead;
    const own = continuesATrace(contexts[i]!);
    const span = startMessageSpan(corrId, message, own ? contexts[i]! : leadContext);
    if (own && trace.getSpanContext(contexts[i]!)?.traceId !== lead.spanContext().traceId)
      span.addLink({ context: lead.spanContext() });
    return span;
  });
  try {
    return await context.with(leadContext, handOver);
  } finally {
    for (const span of spans) span.end();
  }
}

function startMessageSpan(corrId: string, message: ReceivedMessage, parent: Context): Span {
  return tracer.startSpan(
    `process ${message.subject}`,
    {
      kind: SpanKind.CONSUMER,
      startTime: message.receivedAtMs,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.name': 'process',
        'messaging.destination.name': message.subject,
        'messaging.message.id': String(message.streamSeq),
        'orchestrator.corr_id': corrId,
        'orchestrator.agent': message.agent,
      },
    },
    parent,
  );
}

/**
 * Runs `publish` within a producer span and puts that span's context on the message's headers
 * (`traceparent`, `tracestate`): a consumer of the message continues the trace from there.
 */
export async function tracedPublish<T>(
  subject: string,
  headers: MsgHdrs,
  attributes: Attributes,
  publish: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': subject,
        ...attributes,
      },
    },
    async (span) => {
      propagation.inject(context.active(), headers, toHeaders);
      try {
        return await publish();
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
