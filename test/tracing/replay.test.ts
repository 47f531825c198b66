/**
 * Turning tracing on (or off) is safe for correlations in flight: their recorded histories,
 * written without tracing's workflow interceptors, replay with them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_TRACING_MODULE } from '../../src/observability/tracing';
import { WORKFLOWS_PATH } from '../../src/temporal/worker';
import { HISTORY_FIXTURES_DIR } from '../support/paths';

const fixtures = readdirSync(HISTORY_FIXTURES_DIR, { recursive: true, encoding: 'utf8' }).filter((f) =>
  f.endsWith('.json'),
);

it("replays every recorded history with tracing's workflow interceptors", async () => {
  const histories = fixtures.map((file) => ({
    workflowId: file,
    history: JSON.parse(readFileSync(join(HISTORY_FIXTURES_DIR, file), 'utf8')),
  }));
  const options = {
    workflowsPath: WORKFLOWS_PATH,
    interceptors: { workflowModules: [WORKFLOW_TRACING_MODULE] },
    sinks: { exporter: makeWorkflowExporter(new InMemorySpanExporter(), Resource.empty()) },
  };
  const results = [];
  for await (const result of Worker.runReplayHistories(options, histories))
    results.push({ workflowId: result.workflowId, error: result.error?.message });
  expect(fixtures.length).toBeGreaterThan(30);
  expect(results).toEqual(fixtures.map((workflowId) => ({ workflowId, error: undefined })));
});
