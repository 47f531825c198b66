/**
 * All configuration, read once at start-up from the environment and validated in one place.
 * Temporal's connection follows Temporal's own environment configuration (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE, temporal.toml).
 */
import { readFileSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { DataConverter, WorkerDeploymentVersion } from '@temporalio/common';
import { z } from 'zod';
import { codecDataConverter, type KeyRing, keyRing, KeyRingError, parseKeyEntries } from './codec';
import { describeIssues, ValidationError } from './contract/errors';
import { type Policy, policySchema } from './contract/policy';
import { NatsContextError, withNatsContext } from './nats/context';
import type { StreamsSettings } from './nats/streams';
import { DEFAULT_TASK_QUEUE } from './shared/correlation-api';
import { CLOCK_MARGIN_MS, minimumDedupeWindowMs, PUBLISH_RETRY_HORIZON_MS } from './shared/publish-horizon';

/** The policy used when ORCH_POLICY_FILE is not set: every default of the policy schema. */
export const DEFAULT_POLICY: Policy = policySchema.parse({ version: 'default-1' });

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const positiveInt = z.coerce.number().int().positive();
const positiveMs = positiveInt;
const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;
const GIB = 1024 ** 3;

/** How long a stream keeps a message: ORCH_<STREAM>_MAX_AGE_MS. */
const streamMaxAge = (what: string, fallback: number, note = '') =>
  positiveMs.default(fallback).describe(`How long ${what} keeps a message (ms)${note}.`);
/** How many bytes a stream holds: ORCH_<STREAM>_MAX_BYTES. */
const streamMaxBytes = (what: string, fallback: number) =>
  z.coerce.number().int().min(-1).default(fallback).describe(`Most bytes ${what} holds (-1: no limit).`);
/**
 * What a full stream does: ORCH_<STREAM>_DISCARD. `new` (refuse the publish, loudly) is the default
 * everywhere: a full stream must never drop what nobody has read yet.
 */
const streamDiscard = (what: string) =>
  z
    .enum(['new', 'old'])
    .default('new')
    .describe(`What ${what} does when full: new refuses the publish, old drops the oldest message.`);

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
/** The traces are sent as protobuf over HTTP: a collector's gRPC port would refuse them, so say so at start. */
const otlpProtocol = z
  .literal('http/protobuf', {
    error: "the orchestrator exports OTLP over HTTP only: http/protobuf, to the receiver's HTTP port (4318)",
  })
  .optional()
  .describe('OpenTelemetry: http/protobuf, the only protocol the orchestrator exports with.');

const envSchema = z.object({
  ORCH_TASK_QUEUE: z
    .string()
    .min(1)
    .default(DEFAULT_TASK_QUEUE)
    .describe('Task queue the worker polls and workflows start on.'),
  ORCH_POLICY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('JSON file with the decision policy; built-in defaults when unset.'),
  ORCH_LOG_LEVEL: z
    .enum(LOG_LEVELS)
    .default('info')
    .describe(`Log level: ${LOG_LEVELS.join(' | ')}.`),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222').describe('NATS servers, comma-separated.'),
  NATS_CREDS_FILE: z.string().min(1).optional().describe('NATS credentials file (JWT and NKey seed).'),
  NATS_USER: z.string().min(1).optional().describe('NATS user, with NATS_PASSWORD.'),
  NATS_PASSWORD: z.string().min(1).optional().describe('NATS password.'),
  NATS_TLS_CA_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('CA certificate that signed the NATS server certificate; turns TLS on.'),
  NATS_TLS_CERT_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('Client certificate for NATS mutual TLS, with NATS_TLS_KEY_FILE; turns TLS on.'),
  NATS_TLS_KEY_FILE: z.string().min(1).optional().describe('Private key of NATS_TLS_CERT_FILE.'),
  NATS_NKEY: z
    .string()
    .min(1)
    .optional()
    .describe("File with an NKey seed (SU...): NKey authentication, as the nats CLI's --nkey."),
  NATS_CREDS: z.string().min(1).optional().describe("The nats CLI's name for NATS_CREDS_FILE."),
  NATS_CA: z.string().min(1).optional().describe("The nats CLI's name for NATS_TLS_CA_FILE."),
  NATS_CERT: z.string().min(1).optional().describe("The nats CLI's name for NATS_TLS_CERT_FILE."),
  NATS_KEY: z.string().min(1).optional().describe("The nats CLI's name for NATS_TLS_KEY_FILE."),
  NATS_CONTEXT: z
    .string()
    .min(1)
    .optional()
    .describe(
      'A nats CLI context by name ($XDG_CONFIG_HOME/nats/context/<name>.json): its url, user, password, creds, nkey, cert, key and ca, where no NATS_* setting says otherwise.',
    ),
  ORCH_HTTP_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(8080)
    .describe('Port of /livez, /readyz and /metrics (0 turns the endpoint off).'),
  ORCH_WORKFLOW_BUNDLE: z
    .string()
    .min(1)
    .optional()
    .describe('Prebuilt workflow bundle (npm run bundle); the worker bundles at start when unset.'),
  ORCH_DECISION_DEDUPE_WINDOW_MS: positiveMs
    .default(2 * HOUR_MS)
    .describe(
      "How long DECISIONS remembers a decision id, so that a second publish of it is dropped (ms); at least the policy's timeout_ms plus the hour publishing may retry plus 5 minutes, and no longer than ORCH_DECISIONS_MAX_AGE_MS.",
    ),
  ORCH_NATS_REPLICAS: z.coerce
    .number()
    .int()
    .min(1)
    .max(5)
    .default(1)
    .describe('Replicas of the SIGNALS, SIGNALS_DLQ and DECISIONS streams (3 on a NATS cluster).'),
  ORCH_SIGNALS_MAX_AGE_MS: streamMaxAge(
    'SIGNALS',
    12 * HOUR_MS,
    '; below the Temporal namespace retention minus an hour, or the bridge refuses to start',
  ),
  ORCH_SIGNALS_MAX_BYTES: streamMaxBytes('SIGNALS', GIB),
  ORCH_SIGNALS_DISCARD: streamDiscard('SIGNALS'),
  ORCH_DLQ_MAX_AGE_MS: streamMaxAge('SIGNALS_DLQ', 14 * DAY_MS),
  ORCH_DLQ_MAX_BYTES: streamMaxBytes('SIGNALS_DLQ', GIB / 4),
  ORCH_DLQ_DISCARD: streamDiscard('SIGNALS_DLQ'),
  ORCH_DECISIONS_MAX_AGE_MS: streamMaxAge('DECISIONS', 7 * DAY_MS),
  ORCH_DECISIONS_MAX_BYTES: streamMaxBytes('DECISIONS', GIB),
  ORCH_DECISIONS_DISCARD: streamDiscard('DECISIONS'),
  TEMPORAL_DEPLOYMENT_NAME: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Worker Deployment the worker belongs to, with TEMPORAL_WORKER_BUILD_ID: turns on Worker Versioning (as Temporal's Worker Controller sets it). Correlations stay on the build they started on.",
    ),
  TEMPORAL_WORKER_BUILD_ID: z
    .string()
    .min(1)
    .optional()
    .describe("Build ID of this worker's code within TEMPORAL_DEPLOYMENT_NAME (an image tag or commit)."),
  ORCH_SHUTDOWN_GRACE_MS: positiveMs
    .default(30_000)
    .describe('How long a stopping worker lets in-flight activities finish before cancelling them (ms).'),
  ORCH_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      "Open correlations a worker keeps in memory between their tasks; fewer means replays (default: the SDK's, about 600 per GB of heap).",
    ),
  ORCH_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt
    .optional()
    .describe("Workflow tasks a worker runs at once (default: the SDK's, 40)."),
  ORCH_NON_STICKY_TO_STICKY_POLL_RATIO: z.coerce
    .number()
    .gt(0)
    .max(10)
    .optional()
    .describe(
      "Workflow-task pollers on the shared task queue per poller on the worker's own (sticky) queue; a correlation's first task always comes from the shared one (default: the SDK's, 0.2).",
    ),
  ORCH_WORKER_RUNS_BRIDGE: z
    .enum(['true', 'false'])
    .default('false')
    .describe(
      'true: the worker also runs the bridge, in its own process, and starts new correlations eagerly (Temporal hands their first workflow task back with the start, with no trip through the task queue).',
    ),
  ORCH_BRIDGE_DURABLE: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a valid consumer name: letters, digits, _ and -')
    .default('orchestrator-bridge')
    .describe('Durable consumer of the bridge on SIGNALS; bridges with the same name share the work.'),
  ORCH_MAX_MESSAGE_BYTES: positiveInt
    .default(64 * 1024)
    .describe('Largest agent message accepted; larger ones go to the DLQ (bytes).'),
  ORCH_BRIDGE_CONCURRENCY: positiveInt
    .default(32)
    .describe('Agent messages one bridge holds at once: waiting in a batch window or being handed to Temporal.'),
  ORCH_BRIDGE_BATCH_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(50)
    .describe(
      "How long a correlation's first message waits for the others, so they reach Temporal in one signal-with-start; it ends early once every expected agent is in, and 0 sends each message at once (ms).",
    ),
  ORCH_BRIDGE_ACK_WAIT_MS: positiveMs
    .default(30_000)
    .describe('How long JetStream waits for the bridge to acknowledge a message before redelivering it (ms).'),
  ORCH_BRIDGE_MAX_ACK_PENDING: positiveInt
    .default(1_000)
    .describe('Messages delivered to the bridges but not yet acknowledged (backpressure).'),
  ORCH_CODEC_KEYS: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Payload encryption keys, <key id>:<base64 32-byte key>, comma-separated (openssl rand -base64 32); encryption is off when neither this nor ORCH_CODEC_KEYS_FILE is set.',
    ),
  ORCH_CODEC_KEYS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'File of payload encryption keys, one <key id>:<base64 key> a line (# comments); instead of ORCH_CODEC_KEYS.',
    ),
  ORCH_CODEC_KEY_ID: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Key id that encrypts new payloads; the other keys only decrypt (rotation). Required with more than one key.',
    ),
  ORCH_CODEC_SERVER_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Address the codec server (orch codec-server) listens on.'),
  ORCH_CODEC_SERVER_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(8089)
    .describe('Port of the codec server (0: any free port).'),
  ORCH_CODEC_SERVER_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters (openssl rand -hex 32)')
    .optional()
    .describe(
      'Bearer token the codec server requires (Authorization: Bearer <token>); unset, anyone who reaches it can decode.',
    ),
  ORCH_CODEC_CORS_ORIGINS: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Browser origins allowed to call the codec server, comma-separated: the Temporal UI, e.g. http://localhost:8233.',
    ),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl
    .optional()
    .describe(
      'OpenTelemetry: the OTLP/HTTP receiver traces are exported to, e.g. http://otel-collector:4318 (/v1/traces is added). Tracing is off unless this or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.',
    ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl
    .optional()
    .describe('OpenTelemetry: the full URL traces are posted to, e.g. http://otel-collector:4318/v1/traces.'),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'none'])
    .optional()
    .describe(
      'OpenTelemetry: none turns tracing off; otlp exports over OTLP/HTTP (to http://localhost:4318 when no endpoint is set).',
    ),
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).default('false').describe('OpenTelemetry: true turns tracing off.'),
  OTEL_SERVICE_NAME: z
    .string()
    .min(1)
    .optional()
    .describe('OpenTelemetry: service.name of the spans (default: orchestrator-worker, orchestrator-bridge).'),
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
  credsFile?: string;
  user?: string;
  password?: string;
  tlsCaFile?: string;
  /** Client certificate and key, for mutual TLS. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** File with the NKey seed of NKey authentication. */
  nkeyFile?: string;
}

/**
 * What a process that only connects needs (the codec server, and the CLI commands that read or
 * publish): everything but the decision policy and the limits of the streams the worker and the
 * bridge keep. `loadConnectionConfig` reads it without reading ORCH_POLICY_FILE.
 */
export type ConnectionConfig = Omit<Config, 'policy' | 'streams'>;

/**
 * The whole configuration: the worker's and the bridge's, and that of the commands that start or inspect correlations.
 */
export interface Config {
  /** `dataConverter` is set when payload encryption is on: every client and worker of the namespace needs it. */
  temporal: { connectionOptions: NativeConnectionOptions; namespace: string; dataConverter?: DataConverter };
  taskQueue: string;
  policy: Policy;
  logLevel: LogLevel;
  nats: NatsSettings;
  /** Limits of the three streams, which the bridge (SIGNALS, SIGNALS_DLQ) and the worker (DECISIONS) keep them to. */
  streams: StreamsSettings;
  httpPort: number;
  workflowBundlePath?: string;
  shutdownGraceMs: number;
  /** Worker Versioning: the Worker Deployment Version this worker runs; unversioned when absent. */
  workerDeployment?: WorkerDeploymentVersion;
  /** Worker options left to the SDK's defaults when unset. */
  workerTuning: {
    maxCachedWorkflows?: number;
    maxConcurrentWorkflowTaskExecutions?: number;
    nonStickyToStickyPollRatio?: number;
  };
  bridge: {
    durableName: string;
    maxMessageBytes: number;
    concurrency: number;
    batchWindowMs: number;
    ackWaitMs: number;
    maxAckPending: number;
  };
  /** The worker runs the bridge in its process and starts correlations eagerly (ORCH_WORKER_RUNS_BRIDGE). */
  workerRunsBridge: boolean;
  /** Payload encryption keys; undefined when encryption is off. `temporal.dataConverter` carries the codec. */
  codec?: KeyRing;
  codecServer: { host: string; port: number; token?: string; corsOrigins: string[] };
  /**
   * OpenTelemetry tracing is on (the standard OTEL_* variables). The SDK reads the rest of them
   * itself: the exporter its endpoint, headers and timeout, the resource OTEL_SERVICE_NAME and
   * OTEL_RESOURCE_ATTRIBUTES, the provider OTEL_TRACES_SAMPLER and OTEL_BSP_*.
   */
  tracing: boolean;
}

/** A setting that is missing or wrong; the message names it and says what is expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The nats CLI's variable names and ours for the same file: the same setting, under either name. */
const NATS_CLI_NAMES = [
  ['NATS_CREDS_FILE', 'NATS_CREDS'],
  ['NATS_TLS_CA_FILE', 'NATS_CA'],
  ['NATS_TLS_CERT_FILE', 'NATS_CERT'],
  ['NATS_TLS_KEY_FILE', 'NATS_KEY'],
] as const;

/** Takes each of the nats CLI's names as ours; both names set to different files is an error. */
function withNatsCliNames<T extends Partial<Record<(typeof NATS_CLI_NAMES)[number][number], string>>>(settings: T): T {
  const merged = { ...settings };
  for (const [ours, theirs] of NATS_CLI_NAMES) {
    const [a, b] = [settings[ours], settings[theirs]];
    if (a !== undefined && b !== undefined && a !== b) {
      throw new ConfigError(
        `invalid configuration: ${ours} and ${theirs} (the nats CLI's name for it) name different files (${a}, ${b}): set one`,
      );
    }
    merged[ours] = (a ?? b) as T[typeof ours];
  }
  return merged;
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

/**
 * The whole configuration, validated; every file it names is read now (the policy, the codec keys,
 * the TLS files), so a bad one stops the process at its start, naming the setting.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const { settings, config } = readConnectionConfig(env);
  const policy = settings.ORCH_POLICY_FILE ? loadPolicyFile(settings.ORCH_POLICY_FILE) : DEFAULT_POLICY;
  return { ...config, policy, streams: streamsSettings(settings, policy) };
}

/**
 * The configuration of a process that only connects (see `ConnectionConfig`), validated the same
 * way, with the files it uses read now; ORCH_POLICY_FILE and the stream limits are not read.
 */
export function loadConnectionConfig(env: NodeJS.ProcessEnv = process.env): ConnectionConfig {
  return readConnectionConfig(env).config;
}

function readConnectionConfig(env: NodeJS.ProcessEnv): {
  settings: z.infer<typeof envSchema>;
  config: ConnectionConfig;
} {
  let withContext: NodeJS.ProcessEnv;
  try {
    withContext = withNatsContext(env);
  } catch (error) {
    if (error instanceof NatsContextError)
      throw new ConfigError(`invalid configuration: ${error.message}`, { cause: error });
    throw error;
  }
  const parsed = envSchema.safeParse(withContext);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error)}`, {
      cause: new ValidationError('environment', parsed.error),
    });
  }
  const settings = withNatsCliNames(parsed.data);
  if ((settings.NATS_USER === undefined) !== (settings.NATS_PASSWORD === undefined)) {
    throw new ConfigError('invalid configuration: NATS_USER and NATS_PASSWORD must be set together');
  }
  if ((settings.NATS_TLS_CERT_FILE === undefined) !== (settings.NATS_TLS_KEY_FILE === undefined)) {
    throw new ConfigError('invalid configuration: NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE must be set together');
  }
  if ((settings.TEMPORAL_DEPLOYMENT_NAME === undefined) !== (settings.TEMPORAL_WORKER_BUILD_ID === undefined)) {
    throw new ConfigError(
      'invalid configuration: TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_WORKER_BUILD_ID must be set together (Worker Versioning), or neither (an unversioned worker)',
    );
  }
  if (settings.NATS_NKEY !== undefined && settings.NATS_CREDS_FILE !== undefined) {
    throw new ConfigError(
      'invalid configuration: NATS_NKEY and NATS_CREDS_FILE are two ways to authenticate: set one (a credentials file carries its own NKey seed)',
    );
  }
  let temporal: ReturnType<typeof loadClientConnectConfig>;
  try {
    const definedEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
    temporal = loadClientConnectConfig({ overrideEnvVars: definedEnv });
  } catch (error) {
    throw new ConfigError(
      `invalid Temporal connection settings: ${temporalSettingOf(error, env)}${(error as Error).message}`,
      { cause: error },
    );
  }
  checkTemporalTls(temporal.connectionOptions.tls, env);
  const codec = loadCodecKeys(settings);
  const config: ConnectionConfig = {
    temporal: {
      connectionOptions: {
        ...temporal.connectionOptions,
        address: temporal.connectionOptions.address ?? '127.0.0.1:7233',
      },
      namespace: temporal.namespace ?? 'default',
      ...(codec ? { dataConverter: codecDataConverter(codec) } : {}),
    },
    taskQueue: settings.ORCH_TASK_QUEUE,
    logLevel: settings.ORCH_LOG_LEVEL,
    nats: {
      servers: settings.NATS_URL.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      credsFile: settings.NATS_CREDS_FILE,
      user: settings.NATS_USER,
      password: settings.NATS_PASSWORD,
      tlsCaFile: settings.NATS_TLS_CA_FILE,
      tlsCertFile: settings.NATS_TLS_CERT_FILE,
      tlsKeyFile: settings.NATS_TLS_KEY_FILE,
      nkeyFile: settings.NATS_NKEY,
    },
    httpPort: settings.ORCH_HTTP_PORT,
    workflowBundlePath: settings.ORCH_WORKFLOW_BUNDLE,
    shutdownGraceMs: settings.ORCH_SHUTDOWN_GRACE_MS,
    ...(settings.TEMPORAL_DEPLOYMENT_NAME && settings.TEMPORAL_WORKER_BUILD_ID
      ? {
          workerDeployment: {
            deploymentName: settings.TEMPORAL_DEPLOYMENT_NAME,
            buildId: settings.TEMPORAL_WORKER_BUILD_ID,
          },
        }
      : {}),
    workerTuning: {
      ...(settings.ORCH_MAX_CACHED_WORKFLOWS !== undefined
        ? { maxCachedWorkflows: settings.ORCH_MAX_CACHED_WORKFLOWS }
        : {}),
      ...(settings.ORCH_MAX_CONCURRENT_WORKFLOW_TASKS !== undefined
        ? { maxConcurrentWorkflowTaskExecutions: settings.ORCH_MAX_CONCURRENT_WORKFLOW_TASKS }
        : {}),
      ...(settings.ORCH_NON_STICKY_TO_STICKY_POLL_RATIO !== undefined
        ? { nonStickyToStickyPollRatio: settings.ORCH_NON_STICKY_TO_STICKY_POLL_RATIO }
        : {}),
    },
    bridge: {
      durableName: settings.ORCH_BRIDGE_DURABLE,
      maxMessageBytes: settings.ORCH_MAX_MESSAGE_BYTES,
      concurrency: settings.ORCH_BRIDGE_CONCURRENCY,
      batchWindowMs: settings.ORCH_BRIDGE_BATCH_WINDOW_MS,
      ackWaitMs: settings.ORCH_BRIDGE_ACK_WAIT_MS,
      maxAckPending: settings.ORCH_BRIDGE_MAX_ACK_PENDING,
    },
    workerRunsBridge: settings.ORCH_WORKER_RUNS_BRIDGE === 'true',
    ...(codec ? { codec } : {}),
    codecServer: {
      host: settings.ORCH_CODEC_SERVER_HOST,
      port: settings.ORCH_CODEC_SERVER_PORT,
      token: settings.ORCH_CODEC_SERVER_TOKEN,
      corsOrigins: (settings.ORCH_CODEC_CORS_ORIGINS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
    tracing: tracingOn(settings),
  };
  return { settings, config };
}

/**
 * Tracing is on when an OTLP endpoint is set, or OTEL_TRACES_EXPORTER=otlp asks for the default
 * one; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off.
 */
function tracingOn(settings: z.infer<typeof envSchema>): boolean {
  const asked =
    settings.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
    settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined ||
    settings.OTEL_TRACES_EXPORTER === 'otlp';
  return asked && settings.OTEL_SDK_DISABLED !== 'true' && settings.OTEL_TRACES_EXPORTER !== 'none';
}

/**
 * The streams' limits. DECISIONS must remember a decision id for as long as its run may publish it
 * (src/shared/publish-horizon.ts), and JetStream keeps no id longer than the stream keeps messages.
 */
function streamsSettings(settings: z.infer<typeof envSchema>, policy: Policy): StreamsSettings {
  const replicas = settings.ORCH_NATS_REPLICAS;
  const dedupeWindowMs = settings.ORCH_DECISION_DEDUPE_WINDOW_MS;
  const minimum = minimumDedupeWindowMs(policy.timeout_ms);
  if (dedupeWindowMs < minimum) {
    throw new ConfigError(
      `invalid configuration: ORCH_DECISION_DEDUPE_WINDOW_MS is ${dedupeWindowMs} ms, shorter than the policy's timeout_ms (${policy.timeout_ms} ms) ` +
        `plus the ${PUBLISH_RETRY_HORIZON_MS / 60_000} minutes publishing may retry plus ${CLOCK_MARGIN_MS / 60_000} minutes for clocks: a decision published again late could reach consumers twice. Set it to at least ${minimum}`,
    );
  }
  if (dedupeWindowMs > settings.ORCH_DECISIONS_MAX_AGE_MS) {
    throw new ConfigError(
      `invalid configuration: ORCH_DECISION_DEDUPE_WINDOW_MS (${dedupeWindowMs} ms) is longer than ORCH_DECISIONS_MAX_AGE_MS (${settings.ORCH_DECISIONS_MAX_AGE_MS} ms): JetStream forgets an id when its message ages out. Raise ORCH_DECISIONS_MAX_AGE_MS`,
    );
  }
  return {
    signals: {
      replicas,
      maxAgeMs: settings.ORCH_SIGNALS_MAX_AGE_MS,
      maxBytes: settings.ORCH_SIGNALS_MAX_BYTES,
      discard: settings.ORCH_SIGNALS_DISCARD,
    },
    dlq: {
      replicas,
      maxAgeMs: settings.ORCH_DLQ_MAX_AGE_MS,
      maxBytes: settings.ORCH_DLQ_MAX_BYTES,
      discard: settings.ORCH_DLQ_DISCARD,
    },
    decisions: {
      replicas,
      maxAgeMs: settings.ORCH_DECISIONS_MAX_AGE_MS,
      maxBytes: settings.ORCH_DECISIONS_MAX_BYTES,
      discard: settings.ORCH_DECISIONS_DISCARD,
      dedupeWindowMs,
    },
  };
}

/** The payload encryption keys (ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE, ORCH_CODEC_KEY_ID); undefined when off. */
function loadCodecKeys(settings: z.infer<typeof envSchema>): KeyRing | undefined {
  const { ORCH_CODEC_KEYS: inline, ORCH_CODEC_KEYS_FILE: file, ORCH_CODEC_KEY_ID: keyId } = settings;
  if (inline !== undefined && file !== undefined)
    throw new ConfigError('invalid configuration: set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE, not both');
  if (inline === undefined && file === undefined) {
    if (keyId !== undefined)
      throw new ConfigError(
        'invalid configuration: ORCH_CODEC_KEY_ID is set but there are no keys: set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE',
      );
    return undefined;
  }
  let text = inline;
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `invalid configuration: ORCH_CODEC_KEYS_FILE: cannot read ${file}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  const where = file !== undefined ? `ORCH_CODEC_KEYS_FILE (${file})` : 'ORCH_CODEC_KEYS';
  try {
    return keyRing(parseKeyEntries(text ?? '', where), keyId, { keys: where, keyId: 'ORCH_CODEC_KEY_ID' });
  } catch (error) {
    if (error instanceof KeyRingError)
      throw new ConfigError(`invalid configuration: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The start of a PEM block: what a certificate or key file must contain. */
export const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;

/** The TEMPORAL_* setting whose value (a file path) an envconfig error names, as a message prefix. */
function temporalSettingOf(error: unknown, env: NodeJS.ProcessEnv): string {
  const path = (error as { path?: unknown }).path;
  if (typeof path !== 'string') return '';
  const setting = Object.entries(env).find(([name, value]) => name.startsWith('TEMPORAL_') && value === path)?.[0];
  return setting
    ? `${setting}: cannot read ${path}: `
    : `cannot read ${path} (named by the Temporal profile, TEMPORAL_CONFIG_FILE or temporal.toml): `;
}

/** TLS material from envconfig must be PEM; the message names the setting that gave it. */
function checkTemporalTls(tls: NativeConnectionOptions['tls'], env: NodeJS.ProcessEnv): void {
  if (typeof tls !== 'object' || tls === null) return;
  const where = (variable: string, tomlKey: string): string => {
    const data = variable.replace(/_PATH$/, '_DATA');
    return env[variable] !== undefined
      ? variable
      : env[data] !== undefined
        ? data
        : `tls.${tomlKey} of the Temporal profile`;
  };
  const parts: Array<[Uint8Array | undefined, string, string]> = [
    [tls.serverRootCACertificate, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'server_ca_cert'],
    [tls.clientCertPair?.crt, 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'client_cert'],
    [tls.clientCertPair?.key, 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'client_key'],
  ];
  for (const [content, variable, tomlKey] of parts) {
    if (content !== undefined && !PEM_BLOCK.test(Buffer.from(content).toString('latin1'))) {
      throw new ConfigError(
        `invalid Temporal connection settings: ${where(variable, tomlKey)}: not PEM (no -----BEGIN ...----- line)`,
      );
    }
  }
  const hasCert = env.TEMPORAL_TLS_CLIENT_CERT_PATH !== undefined || env.TEMPORAL_TLS_CLIENT_CERT_DATA !== undefined;
  const hasKey = env.TEMPORAL_TLS_CLIENT_KEY_PATH !== undefined || env.TEMPORAL_TLS_CLIENT_KEY_DATA !== undefined;
  if (hasCert !== hasKey) {
    throw new ConfigError(
      'invalid Temporal connection settings: TEMPORAL_TLS_CLIENT_CERT_PATH (or _DATA) and TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA) must be set together',
    );
  }
}

/**
 * The streams' limits when nothing is configured: what tests and tools use to declare the streams as the processes do.
 */
export const DEFAULT_STREAMS: StreamsSettings = streamsSettings(envSchema.parse({}), DEFAULT_POLICY);
