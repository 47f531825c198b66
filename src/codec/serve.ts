/** The codec server as a long-running process: used by `orchestrator-codec-server` and `orch codec-server`. */
import type { ConnectionConfig } from '../config';
import { ConfigError } from '../config';
import type { Logger } from '../observability/logger';
import { shutdownSignal } from '../process/shutdown';
import { payloadCodecsOf } from './index';
import { type CodecServer, startCodecServer } from './server';

export const CODEC_SERVER_USAGE_DETAILS = `
Serves Temporal's remote codec protocol for the orchestrator's payload encryption, so the
Temporal UI and the temporal CLI show decrypted payloads to operators: POST …/decode and
POST …/encode with {"payloads": [...]} (proto JSON), GET /livez.

It needs the same keys as the worker and the bridge (ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE,
ORCH_CODEC_KEY_ID) and listens on ORCH_CODEC_SERVER_HOST:ORCH_CODEC_SERVER_PORT. Anyone who can
reach it can read every payload: set ORCH_CODEC_SERVER_TOKEN so that only requests with
"Authorization: Bearer <token>" are answered, and ORCH_CODEC_CORS_ORIGINS to the Temporal UI's
origin. Point the UI at it with the UI's codec endpoint setting (temporal server start-dev
--ui-codec-endpoint <url>; TEMPORAL_CODEC_ENDPOINT for the UI server), and the CLI with
temporal workflow show --codec-endpoint <url> --codec-auth "Bearer <token>". Stops on SIGINT or
SIGTERM. See docs/SECURITY.md, "Payload encryption".`;

/** Starts the codec server as configured; refuses to start without keys. */
async function startConfiguredCodecServer(config: ConnectionConfig, logger: Logger): Promise<CodecServer> {
  if (!config.codec)
    throw new ConfigError(
      'invalid configuration: the codec server needs the payload encryption keys: set ORCH_CODEC_KEYS or ORCH_CODEC_KEYS_FILE',
    );
  const server = await startCodecServer({
    host: config.codecServer.host,
    port: config.codecServer.port,
    codecs: payloadCodecsOf(config.temporal.dataConverter),
    namespace: config.temporal.namespace,
    token: config.codecServer.token,
    corsOrigins: config.codecServer.corsOrigins,
    logger,
  });
  if (config.codecServer.token === undefined) {
    logger.warn('ORCH_CODEC_SERVER_TOKEN is not set: anyone who can reach the codec server can decrypt payloads');
  }
  logger.info(
    {
      url: server.url,
      namespace: config.temporal.namespace,
      current_key: config.codec.currentKeyId,
      keys: [...config.codec.keys.keys()],
      cors_origins: config.codecServer.corsOrigins,
      token_required: config.codecServer.token !== undefined,
    },
    'codec server listening',
  );
  return server;
}

/** Runs the codec server until SIGINT or SIGTERM. */
export async function runCodecServer(config: ConnectionConfig, logger: Logger): Promise<void> {
  const server = await startConfiguredCodecServer(config, logger);
  logger.info({ signal: await shutdownSignal() }, 'codec server stopping');
  await server.close();
  logger.info('codec server stopped');
}
