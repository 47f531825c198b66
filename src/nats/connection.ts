import { connect, type NatsConnection } from 'nats';
import type { Logger } from '../observability/logger';

/**
 * Connects to NATS and keeps reconnecting for as long as the process lives: an orchestrator process
 * outlives any NATS restart. Connection changes are logged.
 */
export async function connectNats(servers: string[], name: string, logger: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers,
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
