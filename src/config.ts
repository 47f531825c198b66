/**
 * All configuration, read once at start-up from the environment and validated in one place.
 * Temporal's connection follows Temporal's own environment configuration (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, temporal.toml).
 */
import { readFileSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { z } from 'zod';
import { describeIssues, ValidationError } from './contract/errors';
import { type Policy, policySchema } from './contract/policy';
import { DEFAULT_TASK_QUEUE } from './shared/correlation-api';

/** The policy used when ORCH_POLICY_FILE is not set: every default of the policy schema. */
export const DEFAULT_POLICY: Policy = policySchema.parse({ version: 'default-1' });

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const positiveInt = z.coerce.number().int().positive();
const positiveMs = positiveInt;

const envSchema = z.object({
  ORCH_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE).describe('Task queue the worker polls and workflows start on.'),
  ORCH_POLICY_FILE: z.string().min(1).optional().describe('JSON file with the decision policy; built-in defaults when unset.'),
  ORCH_LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe(`Log level: ${LOG_LEVELS.join(' | ')}.`),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222').describe('NATS servers, comma-separated.'),
  NATS_CREDS_FILE: z.string().min(1).optional().describe('NATS credentials file (JWT and NKey seed).'),
  NATS_USER: z.string().min(1).optional().describe('NATS user, with NATS_PASSWORD.'),
  NATS_PASSWORD: z.string().min(1).optional().describe('NATS password.'),
  NATS_TLS_CA_FILE: z.string().min(1).optional().describe('CA certificate that signed the NATS server certificate; turns TLS on.'),
  ORCH_HTTP_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(8080)
    .describe('Port of /livez, /readyz and /metrics (0 turns the endpoint off).'),
  ORCH_WORKFLOW_BUNDLE: z.string().min(1).optional().describe('Prebuilt workflow bundle (npm run bundle); the worker bundles at start when unset.'),
  ORCH_DECISION_DEDUPE_WINDOW_MS: positiveMs
    .default(15 * 60_000)
    .describe('How long JetStream remembers a decision id, so a retried publish is dropped (ms).'),
  ORCH_SHUTDOWN_GRACE_MS: positiveMs
    .default(30_000)
    .describe('How long a stopping worker lets in-flight activities finish before cancelling them (ms).'),
  ORCH_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe("Open correlations a worker keeps in memory between their tasks; fewer means replays (default: the SDK's, about 600 per GB of heap)."),
  ORCH_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.optional().describe("Workflow tasks a worker runs at once (default: the SDK's, 40)."),
  ORCH_BRIDGE_DURABLE: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a valid consumer name: letters, digits, _ and -')
    .default('orchestrator-bridge')
    .describe('Durable consumer of the bridge on SIGNALS; bridges with the same name share the work.'),
  ORCH_MAX_MESSAGE_BYTES: positiveInt.default(64 * 1024).describe('Largest agent message accepted; larger ones go to the DLQ (bytes).'),
  ORCH_BRIDGE_CONCURRENCY: positiveInt.default(32).describe('Agent messages one bridge hands to Temporal at once.'),
  ORCH_BRIDGE_ACK_WAIT_MS: positiveMs
    .default(30_000)
    .describe('How long JetStream waits for the bridge to acknowledge a message before redelivering it (ms).'),
  ORCH_BRIDGE_MAX_ACK_PENDING: positiveInt
    .default(1_000)
    .describe('Messages delivered to the bridges but not yet acknowledged (backpressure).'),
});

/** The settings this project reads, for `--help`: name, meaning and default. */
export function settingsHelp(): string {
  const own = Object.entries(envSchema.shape).map(([name, field]) => {
    const fallback = field.def.type === 'default' ? ` (default: ${String(field.def.defaultValue)})` : '';
    return `  ${name.padEnd(32)} ${field.description ?? ''}${fallback}`;
  });
  const temporal = [
    '  TEMPORAL_ADDRESS                 Temporal frontend host:port (default: 127.0.0.1:7233).',
    '  TEMPORAL_NAMESPACE               Temporal namespace (default: default).',
    '  TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE',
    "                                   Temporal's standard environment configuration.",
  ];
  return ['Settings (environment variables):', ...own, ...temporal].join('\n');
}

export interface NatsSettings {
  servers: string[];
  decisionDedupeWindowMs: number;
  credsFile?: string;
  user?: string;
  password?: string;
  tlsCaFile?: string;
}

export interface Config {
  temporal: { connectionOptions: NativeConnectionOptions; namespace: string };
  taskQueue: string;
  policy: Policy;
  logLevel: LogLevel;
  nats: NatsSettings;
  httpPort: number;
  workflowBundlePath?: string;
  shutdownGraceMs: number;
  /** Worker options left to the SDK's defaults when unset. */
  workerTuning: { maxCachedWorkflows?: number; maxConcurrentWorkflowTaskExecutions?: number };
  bridge: { durableName: string; maxMessageBytes: number; concurrency: number; ackWaitMs: number; maxAckPending: number };
}

/** A setting that is missing or wrong; the message names it and says what is expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates a policy file; errors name the file and the bad field. */
export function loadPolicyFile(path: string): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read policy file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const result = policySchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid policy in ${path}: ${describeIssues(result.error)}`);
  return result.data;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error)}`, {
      cause: new ValidationError('environment', parsed.error),
    });
  }
  const settings = parsed.data;
  if ((settings.NATS_USER === undefined) !== (settings.NATS_PASSWORD === undefined)) {
    throw new ConfigError('invalid configuration: NATS_USER and NATS_PASSWORD must be set together');
  }
  let temporal: ReturnType<typeof loadClientConnectConfig>;
  try {
    const definedEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
    temporal = loadClientConnectConfig({ overrideEnvVars: definedEnv });
  } catch (error) {
    throw new ConfigError(`invalid Temporal connection settings: ${(error as Error).message}`, { cause: error });
  }
  return {
    temporal: {
      connectionOptions: { ...temporal.connectionOptions, address: temporal.connectionOptions.address ?? '127.0.0.1:7233' },
      namespace: temporal.namespace ?? 'default',
    },
    taskQueue: settings.ORCH_TASK_QUEUE,
    policy: settings.ORCH_POLICY_FILE ? loadPolicyFile(settings.ORCH_POLICY_FILE) : DEFAULT_POLICY,
    logLevel: settings.ORCH_LOG_LEVEL,
    nats: {
      servers: settings.NATS_URL.split(',').map((s) => s.trim()).filter(Boolean),
      decisionDedupeWindowMs: settings.ORCH_DECISION_DEDUPE_WINDOW_MS,
      credsFile: settings.NATS_CREDS_FILE,
      user: settings.NATS_USER,
      password: settings.NATS_PASSWORD,
      tlsCaFile: settings.NATS_TLS_CA_FILE,
    },
    httpPort: settings.ORCH_HTTP_PORT,
    workflowBundlePath: settings.ORCH_WORKFLOW_BUNDLE,
    shutdownGraceMs: settings.ORCH_SHUTDOWN_GRACE_MS,
    workerTuning: {
      ...(settings.ORCH_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: settings.ORCH_MAX_CACHED_WORKFLOWS } : {}),
      ...(settings.ORCH_MAX_CONCURRENT_WORKFLOW_TASKS !== undefined
        ? { maxConcurrentWorkflowTaskExecutions: settings.ORCH_MAX_CONCURRENT_WORKFLOW_TASKS }
        : {}),
    },
    bridge: {
      durableName: settings.ORCH_BRIDGE_DURABLE,
      maxMessageBytes: settings.ORCH_MAX_MESSAGE_BYTES,
      concurrency: settings.ORCH_BRIDGE_CONCURRENCY,
      ackWaitMs: settings.ORCH_BRIDGE_ACK_WAIT_MS,
      maxAckPending: settings.ORCH_BRIDGE_MAX_ACK_PENDING,
    },
  };
}
