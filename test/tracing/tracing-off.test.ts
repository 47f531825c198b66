/**
 * Tracing is off unless an OTLP exporter is configured, and off it leaves no trace: the worker and
 * bridge as processes, with no OTEL_* variable, carry no trace context into Temporal nor onto the
 * decision, even for a message that brings one.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { headers as natsHeaders } from 'nats';
import { ConfigError, loadConfig } from '../../src/config';
import { signalSubject } from '../../src/nats/streams';
import { workflowIdFor } from '../../src/shared/correlation-api';
import { storedDecisionMessages } from '../support/decisions';
import { type E2EStack, startE2EStack } from '../support/e2e-stack';
import { errorOf } from '../support/errors';
import { REPO_ROOT } from '../support/paths';
import { momentum, risk, uniqueCorrId } from '../support/signals';

describe('when tracing is on', () => {
  it.each([
    ['nothing is set', false, {}],
    ['OTEL_EXPORTER_OTLP_ENDPOINT is set', true, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }],
    [
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set',
      true,
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' },
    ],
    ['OTEL_TRACES_EXPORTER=otlp asks for the default endpoint', true, { OTEL_TRACES_EXPORTER: 'otlp' }],
    [
      'OTEL_TRACES_EXPORTER=none, with an endpoint',
      false,
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' },
    ],
    [
      'OTEL_SDK_DISABLED=true, with an endpoint',
      false,
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' },
    ],
  ])('%s: on is %s', (_, on, env) => {
    expect(loadConfig(env).tracing).toBe(on);
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'http/json'],
  ])('refuses %s=%s: it exports http/protobuf only', (name, value) => {
    const error = errorOf(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', [name]: value }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(name);
    expect(error.message).toContain('http/protobuf');
  });

  it('refuses an endpoint that is not a URL', () => {
    const error = errorOf(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL');
  });
});

it("loads nothing of OpenTelemetry's but its API: its SDK, the exporter and Temporal's interceptors come only with tracing on", () => {
  // The compiled modules the worker and the bridge are made of (their entry points would run).
  const modules = [
    'temporal/worker',
    'bridge/bridge',
    'activities/index',
    'temporal/client',
    'observability/tracing',
  ].map((m) => join(REPO_ROOT, 'dist', 'src', `${m}.js`));
  const script = `for (const m of ${JSON.stringify(modules)}) require(m);
    const packages = Object.keys(require.cache).flatMap((path) => path.match(/node_modules\\/(@[^/]+\\/[^/]+)/)?.[1] ?? []);
    console.log(JSON.stringify([...new Set(packages)].filter((p) => p.startsWith('@opentelemetry/') || p === '@temporalio/interceptors-opentelemetry')));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toEqual(['@opentelemetry/api']);
});

describe('with tracing off', () => {
  let stack: E2EStack;

  beforeAll(async () => {
    stack = await startE2EStack({ version: 'untraced-1', timeout_ms: 10_000 });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("passes an agent's traceparent on to nothing: no trace header in the workflow's start, none on the decision", async () => {
    const corrId = uniqueCorrId('off');
    const headers = natsHeaders();
    headers.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    for (const signal of [momentum(corrId), risk(corrId)])
      await stack.nats.js.publish(signalSubject(signal.agent_name), JSON.stringify(signal), { headers });
    await stack.decisionsFor(corrId);
    const [decision] = await storedDecisionMessages(stack.nats.jsm, corrId);
    expect([...decision!.header.keys()].sort()).toEqual(['Content-Type', 'Nats-Msg-Id']);
    const history = await stack.client.workflow.getHandle(workflowIdFor(corrId)).fetchHistory();
    expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.header?.fields ?? {}).toEqual({});
  });
});
