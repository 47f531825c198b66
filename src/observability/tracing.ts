/**
 * OpenTelemetry tracing from an agent's message to the decision, when config.tracing is on: a
 * tracer provider exporting over OTLP/HTTP, W3C trace context (src/observability/trace-context.ts
 * carries it on NATS messages) and Temporal's OpenTelemetry interceptors, which carry it through
 * the client's start or signal-with-start, the workflow and its activities. Off, nothing of it is
 * loaded or installed: no interceptor, no header, no exporter.
 */
import { context, diag, DiagLogLevel, trace } from '@opentelemetry/api';
import type { ClientInterceptors, WorkflowClientInterceptor } from '@temporalio/client';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import { ORCHESTRATOR_VERSION } from '../version';
import type { Logger } from './logger';

/** The workflow interceptors' module, bundled into the workflow code when tracing is on. */
export const WORKFLOW_TRACING_MODULE = require.resolve('./workflow-tracing');

export interface Tracing {
  /** For the process's Temporal clients: a call made within a trace carries it in its headers. */
  clientInterceptors: ClientInterceptors;
  /** For the worker: the workflow and activity interceptors, and the sink that exports the workflow's spans. */
  worker: { interceptors: WorkerInterceptors; sinks: InjectedSinks<OpenTelemetrySinks> };
  /** Exports the spans not yet sent; the last thing a process does. */
  shutdown(): Promise<void>;
}

/**
 * Registers the global tracer provider (resource: `serviceName` unless OTEL_SERVICE_NAME says
 * otherwise, with OTEL_RESOURCE_ATTRIBUTES), the context manager and the propagators
 * (OTEL_PROPAGATORS, W3C trace context and baggage by default). Export failures are logged as warnings.
 */
export async function startTracing(serviceName: string, logger: Logger): Promise<Tracing> {
  const [
    { AsyncLocalStorageContextManager },
    { OTLPTraceExporter },
    { envDetectorSync, Resource },
    { BasicTracerProvider, BatchSpanProcessor },
    temporal,
  ] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  const warn = (message: string, ...args: unknown[]) =>
    logger.warn({ detail: args.map(String) }, `OpenTelemetry: ${message}`);
  diag.setLogger(
    { error: warn, warn, info: () => undefined, debug: () => undefined, verbose: () => undefined },
    DiagLogLevel.WARN,
  );
  const resource = new Resource({ 'service.name': serviceName, 'service.version': ORCHESTRATOR_VERSION }).merge(
    envDetectorSync.detect(),
  );
  const processor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager() });
  return {
    clientInterceptors: { workflow: [withinTraces(new temporal.OpenTelemetryWorkflowClientInterceptor())] },
    worker: {
      interceptors: {
        workflowModules: [WORKFLOW_TRACING_MODULE],
        activity: [
          (ctx) => ({
            inbound: new temporal.OpenTelemetryActivityInboundInterceptor(ctx),
            outbound: new temporal.OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
      },
      // The workflow's spans are made in its sandbox and leave it through this sink (not on replay).
      sinks: { exporter: temporal.makeWorkflowExporter(processor, resource) },
    },
    shutdown: () => provider.shutdown(),
  };
}

type InterceptorMethod = (input: unknown, next: (input: unknown) => Promise<unknown>) => Promise<unknown>;

/**
 * The SDK's client interceptor for the calls made within a trace: the bridge's hand-over of a
 * message. The process's other calls, the agents' circuit breakers read and reported every
 * second, would each start a trace of their own: they go through untouched.
 */
function withinTraces(interceptor: WorkflowClientInterceptor): WorkflowClientInterceptor {
  const methods = interceptor as Record<string, InterceptorMethod>;
  const names = Object.getOwnPropertyNames(Object.getPrototypeOf(interceptor)).filter((name) => name !== 'constructor');
  return Object.fromEntries(
    names.map((name): [string, InterceptorMethod] => [
      name,
      (input, next) => (trace.getSpan(context.active()) ? methods[name]!.call(interceptor, input, next) : next(input)),
    ]),
  );
}
