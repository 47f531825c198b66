import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

/**
 * A Temporal client on the configured connection and namespace, with the configured data converter
 * (payload encryption, when on); `client.connection` is that connection.
 */
export async function connectTemporalClient(temporal: Config['temporal']): Promise<Client & { connection: Connection }> {
  const connection = await Connection.connect(temporal.connectionOptions);
  return Object.assign(new Client({ connection, namespace: temporal.namespace, ...(temporal.dataConverter ? { dataConverter: temporal.dataConverter } : {}) }), { connection });
}
