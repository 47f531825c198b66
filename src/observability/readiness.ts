import type { Connection } from '@temporalio/client';
import { grpc } from '@temporalio/proto';
import { Events, type NatsConnection } from 'nats';

/** Tracks whether NATS is connected, from the connection's own status events. */
export function natsConnected(nc: NatsConnection): () => boolean {
  let connected = !nc.isClosed();
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) connected = false;
      if (status.type === Events.Reconnect) connected = true;
    }
    connected = false;
  })();
  return () => connected;
}

const CHECK_EVERY_MS = 5_000;

/** Asks Temporal's health service every few seconds, on `connection`, whether the frontend is serving. */
export function temporalServing(connection: Pick<Connection, 'healthService'>): {
  check: () => boolean;
  stop: () => void;
} {
  let serving = true;
  const probe = (): void =>
    void connection.healthService.check({}).then(
      (response) => (serving = response.status === grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING),
      () => (serving = false),
    );
  probe();
  const timer = setInterval(probe, CHECK_EVERY_MS);
  return { check: () => serving, stop: () => clearInterval(timer) };
}
