import { readFileSync } from 'node:fs';
import { type ConnectionOptions, connect, credsAuthenticator, type NatsConnection } from 'nats';
import type { NatsSettings } from '../config';
import type { Logger } from '../observability/logger';

/** Connection options from the settings: servers, and credentials or user/password, and TLS. */
export function natsConnectionOptions(settings: Pick<NatsSettings, 'servers' | 'credsFile' | 'user' | 'password' | 'tlsCaFile'>): ConnectionOptions {
  return {
    servers: settings.servers,
    ...(settings.credsFile ? { authenticator: credsAuthenticator(readFileSync(settings.credsFile)) } : {}),
    ...(settings.user ? { user: settings.user, pass: settings.password } : {}),
    ...(settings.tlsCaFile ? { tls: { caFile: settings.tlsCaFile } } : {}),
  };
}

/**
 * Connects to NATS and keeps reconnecting for as long as the process lives: an orchestrator process
 * outlives any NATS restart. Connection changes are logged.
 */
export async function connectNats(settings: NatsSettings, name: string, logger: Logger): Promise<NatsConnection> {
  const nc = await connect({
    ...natsConnectionOptions(settings),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    waitOnFirstConnect: true,
  });
  logger.info({ server: nc.getServer() }, 'connected to NATS');
  void (async () => {
    for await (const status of nc.status()) {
      const quiet = status.type === 'pingTimer' || status.type === 'reconnecting';
      if (!quiet) logger.info({ nats_event: status.type, data: status.data }, `NATS ${status.type}`);
    }
  })();
  return nc;
}
