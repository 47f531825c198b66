import { Client, type ClientInterceptors, Connection, type ConnectionLike } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';

/**
 * A Temporal client on the configured connection and namespace, with the configured data converter
 * (payload encryption, when on); `client.connection` is that connection.
 */
export async function connectTemporalClient(
  temporal: Config['temporal'],
): Promise<Client & { connection: Connection }> {
  const connection = await Connection.connect(temporal.connectionOptions);
  return clientOn(temporal, connection);
}

/**
 * The same on the SDK's native connection (its gRPC client in Rust, as a worker's): the choice of
 * a process that makes many calls, such as the bridge, which spends less CPU per call on it.
 * `interceptors`: tracing's, when it is on.
 */
export async function connectNativeTemporalClient(
  temporal: Config['temporal'],
  interceptors?: ClientInterceptors,
): Promise<Client & { connection: NativeConnection }> {
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  return clientOn(temporal, connection, interceptors);
}

/**
 * A client of the configured namespace and data converter on an open connection (a worker's, to start workflows
 * eagerly).
 */
export function clientOn<C extends ConnectionLike>(
  temporal: Config['temporal'],
  connection: C,
  interceptors?: ClientInterceptors,
): Client & { connection: C } {
  return Object.assign(
    new Client({
      connection,
      namespace: temporal.namespace,
      ...(temporal.dataConverter ? { dataConverter: temporal.dataConverter } : {}),
      ...(interceptors ? { interceptors } : {}),
    }),
    { connection },
  );
}
