import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

/** A Temporal client on the configured connection and namespace. */
export async function connectTemporalClient(temporal: Config['temporal']): Promise<Client> {
  const connection = await Connection.connect(temporal.connectionOptions);
  return new Client({ connection, namespace: temporal.namespace });
}
