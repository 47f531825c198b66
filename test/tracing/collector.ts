/**
 * A real OpenTelemetry Collector for tests (tools/otelcol, installed by scripts/install-tools.sh):
 * an OTLP/HTTP receiver on a free port and the file exporter, whose OTLP JSON lines the test reads
 * back as spans.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getFreePort, ManagedProcess } from '../../src/devstack/processes';
import { requireTool } from '../../src/devstack/tools';

/** One span as the collector wrote it, with its resource's service name and its attributes as strings. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a trace's root. */
  parentSpanId: string;
  name: string;
  service: string;
  attributes: Record<string, string>;
  links: Array<{ traceId: string; spanId: string }>;
}

export interface Collector {
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the processes that export to it. */
  endpoint: string;
  /** Every span written to the file so far. */
  spans(): CollectedSpan[];
  stop(): Promise<void>;
}

export async function startCollector(dir: string): Promise<Collector> {
  const port = await getFreePort();
  const file = join(dir, 'spans.jsonl');
  const config = join(dir, 'otelcol.yaml');
  writeFileSync(
    config,
    `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
exporters:
  file:
    path: ${file}
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
`,
  );
  const collector = new ManagedProcess({
    label: 'otelcol',
    command: requireTool('otelcol'),
    args: [`--config=${config}`],
    logFile: join(dir, 'otelcol.log'),
    readyLine: /Everything is ready/,
  });
  await collector.start();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap(spansOfLine) : []),
    stop: () => collector.stop(),
  };
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

interface OtlpLine {
  resourceSpans: Array<{
    resource: { attributes?: OtlpAttribute[] };
    scopeSpans: Array<{
      spans: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        attributes?: OtlpAttribute[];
        links?: Array<{ traceId: string; spanId: string }>;
      }>;
    }>;
  }>;
}

function spansOfLine(line: string): CollectedSpan[] {
  const { resourceSpans } = JSON.parse(line) as OtlpLine;
  return resourceSpans.flatMap(({ resource, scopeSpans }) => {
    const service = attributesOf(resource.attributes)['service.name'] ?? '';
    return scopeSpans.flatMap(({ spans }) =>
      spans.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        service,
        attributes: attributesOf(span.attributes),
        links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
      })),
    );
  });
}

/** OTLP's typed values (stringValue, intValue, boolValue...) as strings. */
function attributesOf(attributes: OtlpAttribute[] = []): Record<string, string> {
  return Object.fromEntries(attributes.map(({ key, value }) => [key, String(Object.values(value)[0])]));
}
