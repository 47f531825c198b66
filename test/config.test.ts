import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  DEFAULT_POLICY,
  loadConfig,
  loadConnectionConfig,
  loadPolicyFile,
  settingsHelp,
} from '../src/config';
import { policySchema } from '../src/contract/policy';
import { errorOf } from './support/errors';

const HOUR_MS = 3_600_000;

function policyFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'policy-')), 'policy.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('policy validation', () => {
  it.each([
    ['expected_agents', { version: 'v', expected_agents: [] }],
    ['expected_agents', { version: 'v', expected_agents: ['momentum', 'momentum'] }],
    ['timeout_ms', { version: 'v', timeout_ms: -5 }],
    ['min_agents_threshold', { version: 'v', min_agents_threshold: 3 }],
    ['weights.momentum', { version: 'v', weights: { momentum: -1 } }],
    ['thresholds.trade_min_confidence', { version: 'v', thresholds: { trade_min_confidence: 2 } }],
    ['instrument_classes.0.pattern', { version: 'v', instrument_classes: [{ name: 'x', pattern: '([' }] }],
    [
      'routes.0.when.instrument_class',
      { version: 'v', routes: [{ name: 'r', when: { instrument_class: ['metals'] } }] },
    ],
    ['version', { timeout_ms: 1000 }],
    ['tiemout_ms', { version: 'v', tiemout_ms: 1000 }],
    ['agents.sentiment', { version: 'v', agents: { sentiment: { deadline_ms: 1000 } } }],
    ['agents.risk.deadline_ms', { version: 'v', timeout_ms: 1000, agents: { risk: { deadline_ms: 2000 } } }],
    ['decisive_signals.0.when', { version: 'v', decisive_signals: [{ name: 'd', agent: 'risk', when: {} }] }],
    ['breaker.failure_threshold', { version: 'v', breaker: { failure_threshold: 0 } }],
  ])('names the bad field %s', (field, policy) => {
    const error = errorOf(() => loadPolicyFile(policyFile(policy)));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(new RegExp(`invalid policy in .*policy\\.json: .*${field.replace('.', '\\.')}`));
  });

  it('gives a policy of only version and timeout_ms the agent-health defaults: risk blocked decisive, the breaker on', () => {
    const policy = loadPolicyFile(policyFile({ version: 'v3', timeout_ms: 60_000 }));
    expect(policy).toMatchObject({
      agents: {},
      decisive_signals: [{ name: 'risk_blocked', agent: 'risk', when: { risk_level: ['blocked'] } }],
      breaker: { enabled: true, failure_threshold: 5, reset_after_ms: 60_000 },
    });
  });

  it('lowers the default threshold by the optional agents, and lets a policy turn each default off', () => {
    const policy = loadPolicyFile(
      policyFile({
        version: 'v4',
        agents: { risk: { optional: true } },
        decisive_signals: [],
        breaker: { enabled: false },
      }),
    );
    expect(policy).toMatchObject({
      min_agents_threshold: 1,
      agents: { risk: { optional: true } },
      decisive_signals: [],
      breaker: { enabled: false, failure_threshold: 5 },
    });
  });

  it('says when a policy file is not JSON', () => {
    expect(errorOf(() => loadPolicyFile(policyFile('{ nope')))).toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('cannot read policy file'),
    });
  });

  it('fills in every default, and the threshold defaults to all expected agents', () => {
    const policy = loadPolicyFile(policyFile({ version: 'v2', expected_agents: ['momentum', 'risk', 'sentiment'] }));
    expect(policy).toMatchObject({
      version: 'v2',
      timeout_ms: 300_000,
      min_agents_threshold: 3,
      default_route: 'standard',
    });
    expect(policySchema.parse({ version: 'default-1' })).toEqual(DEFAULT_POLICY);
  });
});

describe('configuration', () => {
  it('reads Temporal settings the standard way and applies defaults', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: '10.1.2.3:7233',
      TEMPORAL_NAMESPACE: 'prod',
      NATS_URL: 'nats://a:4222, nats://b:4222',
    });
    expect(config.temporal).toMatchObject({ namespace: 'prod', connectionOptions: { address: '10.1.2.3:7233' } });
    expect(config.nats.servers).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(config.taskQueue).toBe('orchestrator');
    expect(config.policy).toBe(DEFAULT_POLICY);
  });

  it('names a bad setting', () => {
    const error = errorOf(() => loadConfig({ ORCH_LOG_LEVEL: 'loud', ORCH_SHUTDOWN_GRACE_MS: 'soon' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('ORCH_LOG_LEVEL');
    expect(error.message).toContain('ORCH_SHUTDOWN_GRACE_MS');
  });

  it("leaves the worker's cache and task slots to the SDK unless they are set", () => {
    expect(loadConfig({}).workerTuning).toEqual({});
    expect(
      loadConfig({ ORCH_MAX_CACHED_WORKFLOWS: '0', ORCH_MAX_CONCURRENT_WORKFLOW_TASKS: '80' }).workerTuning,
    ).toEqual({
      maxCachedWorkflows: 0,
      maxConcurrentWorkflowTaskExecutions: 80,
    });
    const error = errorOf(() =>
      loadConfig({ ORCH_MAX_CACHED_WORKFLOWS: '-1', ORCH_MAX_CONCURRENT_WORKFLOW_TASKS: 'many' }),
    );
    expect(error.message).toContain('ORCH_MAX_CACHED_WORKFLOWS');
    expect(error.message).toContain('ORCH_MAX_CONCURRENT_WORKFLOW_TASKS');
  });

  it("runs the worker versioned when Temporal's Worker Controller names its deployment and build, and unversioned otherwise", () => {
    expect(loadConfig({}).workerDeployment).toBeUndefined();
    expect(
      loadConfig({ TEMPORAL_DEPLOYMENT_NAME: 'orchestrator', TEMPORAL_WORKER_BUILD_ID: '0.4.2' }).workerDeployment,
    ).toEqual({
      deploymentName: 'orchestrator',
      buildId: '0.4.2',
    });
    for (const half of [{ TEMPORAL_DEPLOYMENT_NAME: 'orchestrator' }, { TEMPORAL_WORKER_BUILD_ID: '0.4.2' }]) {
      const error = errorOf(() => loadConfig(half));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(
        'invalid configuration: TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_WORKER_BUILD_ID must be set together (Worker Versioning), or neither (an unversioned worker)',
      );
    }
  });

  it('reads the limits of the three streams, with defaults that refuse rather than drop when a stream is full', () => {
    expect(loadConfig({}).streams).toEqual({
      signals: { replicas: 1, maxAgeMs: 12 * HOUR_MS, maxBytes: 1024 ** 3, discard: 'new' },
      dlq: { replicas: 1, maxAgeMs: 14 * 24 * HOUR_MS, maxBytes: 1024 ** 3 / 4, discard: 'new' },
      decisions: {
        replicas: 1,
        maxAgeMs: 7 * 24 * HOUR_MS,
        maxBytes: 1024 ** 3,
        discard: 'new',
        dedupeWindowMs: 2 * HOUR_MS,
      },
    });
    const configured = loadConfig({
      ORCH_NATS_REPLICAS: '3',
      ORCH_SIGNALS_MAX_AGE_MS: '3600000',
      ORCH_DECISIONS_DISCARD: 'old',
      ORCH_DLQ_MAX_BYTES: '-1',
    }).streams;
    expect(configured).toMatchObject({
      signals: { replicas: 3, maxAgeMs: HOUR_MS },
      dlq: { replicas: 3, maxBytes: -1 },
      decisions: { replicas: 3, discard: 'old' },
    });
    const error = errorOf(() => loadConfig({ ORCH_NATS_REPLICAS: '0', ORCH_SIGNALS_DISCARD: 'oldest' }));
    expect(error.message).toContain('ORCH_NATS_REPLICAS');
    expect(error.message).toContain('ORCH_SIGNALS_DISCARD');
  });

  it("refuses a decision dedupe window shorter than the policy's timeout plus the hour publishing may retry, saying the least it must be", () => {
    const error = errorOf(() => loadConfig({ ORCH_DECISION_DEDUPE_WINDOW_MS: String(15 * 60_000) }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      "invalid configuration: ORCH_DECISION_DEDUPE_WINDOW_MS is 900000 ms, shorter than the policy's timeout_ms (300000 ms) plus the 60 minutes publishing may retry plus 5 minutes for clocks: " +
        'a decision published again late could reach consumers twice. Set it to at least 4200000',
    );
    expect(loadConfig({ ORCH_DECISION_DEDUPE_WINDOW_MS: '4200000' }).streams.decisions.dedupeWindowMs).toBe(4_200_000);
    const longTimeout = policyFile({ version: 'slow', timeout_ms: 2 * HOUR_MS });
    expect(errorOf(() => loadConfig({ ORCH_POLICY_FILE: longTimeout })).message).toContain(
      'Set it to at least 11100000',
    );
  });

  it('refuses a dedupe window longer than DECISIONS keeps messages, since JetStream forgets an id with its message', () => {
    const error = errorOf(() =>
      loadConfig({
        ORCH_DECISION_DEDUPE_WINDOW_MS: String(3 * HOUR_MS),
        ORCH_DECISIONS_MAX_AGE_MS: String(2 * HOUR_MS),
      }),
    );
    expect(error.message).toBe(
      'invalid configuration: ORCH_DECISION_DEDUPE_WINDOW_MS (10800000 ms) is longer than ORCH_DECISIONS_MAX_AGE_MS (7200000 ms): JetStream forgets an id when its message ages out. Raise ORCH_DECISIONS_MAX_AGE_MS',
    );
  });

  it('documents every setting with its default for --help', () => {
    const help = settingsHelp();
    for (const name of ['ORCH_TASK_QUEUE', 'ORCH_POLICY_FILE', 'NATS_URL', 'TEMPORAL_ADDRESS'])
      expect(help).toContain(name);
    expect(help).toContain('(default: orchestrator)');
  });
});

describe('configuration by process', () => {
  const badPolicy = { ORCH_POLICY_FILE: '/nonexistent/policy.json', ORCH_DECISION_DEDUPE_WINDOW_MS: '1' };

  it('reads the policy file and checks the stream limits for the worker, the bridge and the commands that start correlations', () => {
    const error = errorOf(() => loadConfig(badPolicy));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('cannot read policy file /nonexistent/policy.json');
  });

  it('reads neither for a process that only connects (the codec server, orch publish, replay, what-if, wait, state)', () => {
    const config = loadConnectionConfig({ ...badPolicy, ORCH_TASK_QUEUE: 'q1' });
    expect(config.taskQueue).toBe('q1');
    expect(Object.keys(config)).not.toContain('policy');
    expect(Object.keys(config)).not.toContain('streams');
  });

  it('validates every other setting the same way for both', () => {
    for (const load of [loadConfig, loadConnectionConfig]) {
      const error = errorOf(() => load({ ORCH_HTTP_PORT: 'eighty' }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain('ORCH_HTTP_PORT');
    }
  });
});
