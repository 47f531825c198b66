/**
 * One pino logger for the whole process, installed into the Temporal runtime too, so worker, SDK,
 * workflow and activity logs share one format: pretty in a terminal, JSON lines otherwise.
 */
import { DefaultLogger, type LogLevel as SdkLogLevel, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config';

export type { Logger } from 'pino';

/**
 * Keys whose values never reach a log line, should a settings or connection object ever be logged:
 * secrets of the orchestrator's settings and of NATS and Temporal connection options, at the top
 * level or one level down. docs/SECURITY.md.
 */
const REDACTED_KEYS = [
  'password',
  'pass',
  'apiKey',
  'api_key',
  'token',
  'authorization',
  'NATS_PASSWORD',
  'TEMPORAL_API_KEY',
  'ORCH_CODEC_KEYS',
  'ORCH_CODEC_SERVER_TOKEN',
];
const REDACT_PATHS = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`]);

/**
 * A dead-lettered message's `detail` without the excerpt of the message that JSON.parse quotes in
 * its error (`Unexpected token 'P', "PAYLOAD-MA"... is not valid JSON`): message bytes are payload,
 * and payload stays out of the logs. The DLQ entry keeps the whole message and the full detail.
 */
export function withoutPayloadExcerpt(detail: unknown): unknown {
  if (typeof detail !== 'string') return detail;
  return detail.replace(
    /^Unexpected token [\s\S]* is not valid JSON$/,
    'Unexpected token: not valid JSON (the excerpt of the message is not logged)',
  );
}

export function createLogger(level: LogLevel, name: string): Logger {
  const pretty = process.stdout.isTTY === true && process.env.CI !== 'true';
  return pino({
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { detail: withoutPayloadExcerpt },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  });
}

const SDK_LEVELS: Record<LogLevel, SdkLogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/**
 * Routes the SDK's logs (including workflow `log` calls, which arrive through the SDK's logger sink,
 * and forwarded Rust core logs) to pino, and serves the SDK's own metrics on
 * `prometheusBindAddress` if given. Must run before any Worker or NativeConnection exists.
 */
export function installTemporalRuntime(logger: Logger, level: LogLevel, prometheusBindAddress?: string): void {
  Runtime.install({
    logger: new DefaultLogger(SDK_LEVELS[level], ({ level: sdkLevel, message, meta }) => {
      const method = sdkLevel === 'TRACE' ? 'trace' : (sdkLevel.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      logger[method](meta ?? {}, message);
    }),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(prometheusBindAddress ? { metrics: { prometheus: { bindAddress: prometheusBindAddress } } } : {}),
    },
  });
}
