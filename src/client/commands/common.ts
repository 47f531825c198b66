/** What every `orch` command shares: its shape, its errors, argument parsing and the connections. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Client, Connection, type ConnectionOptions, type WorkflowExecutionInfo } from '@temporalio/client';
import { connect, type NatsConnection } from 'nats';
import type { ConnectionConfig } from '../../config';
import { natsConnectionOptions } from '../../nats/connection';
import { countExecutions, isInvalidQuery, listExecutions } from '../../operations/visibility';
import { clientOn } from '../../temporal/client';

/** A failure the user can act on: printed as one `error:` line, without a stack, then exit with `exitCode`. */
export class CliError extends Error {
  override readonly name: string = 'CliError';

  constructor(
    message: string,
    /** 1: the command ran and failed (not found, timed out, server unreachable); 2: bad usage or input. */
    readonly exitCode: 1 | 2 = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Bad arguments: exit 2, and point at the command's `--help`. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';

  constructor(command: string, message: string, options?: ErrorOptions) {
    super(`${message}\nRun \`orch ${command} --help\` for usage.`, 2, options);
  }
}

/** Where a command reads and writes; the process's streams and environment in production. */
export interface CommandContext {
  /** Writes one line (or several) to stdout. */
  out(text: string): void;
  env: NodeJS.ProcessEnv;
  readStdin(): Promise<Buffer>;
}

export interface Command {
  name: string;
  /** One line, for the list of commands. */
  summary: string;
  /** The command's `--help`: usage, options and an example. */
  usage: string;
  run(argv: string[], ctx: CommandContext): Promise<void>;
}

export const processContext: CommandContext = {
  out: (text) => process.stdout.write(`${text}\n`),
  env: process.env,
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  },
};

/** `parseArgs`, strict, with its errors turned into a UsageError for `command`. */
export function parseCommandLine<T extends ParseArgsConfig>(
  command: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (error) {
    throw new UsageError(command, (error as Error).message, { cause: error });
  }
}

/** The one positional argument a command needs, e.g. `<corr_id>`. */
export function onePositional(command: string, positionals: string[], name: string): string {
  if (positionals.length === 0) throw new UsageError(command, `missing ${name}`);
  if (positionals.length > 1)
    throw new UsageError(command, `expected one ${name}, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0];
}

/** An error's message, with its cause's when that says more (the SDK wraps gRPC errors: `Failed to query Workflow`). */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { details?: unknown; message?: unknown } | undefined;
  const detail =
    typeof cause?.details === 'string' && cause.details
      ? cause.details
      : typeof cause?.message === 'string'
        ? cause.message
        : '';
  return detail && !error.message.includes(detail) ? `${error.message}: ${detail}` : error.message;
}

/** How long the CLI waits for Temporal to accept the connection (the SDK's default is 10 s). */
const TEMPORAL_CONNECT_TIMEOUT_MS = 5_000;

/** What opens a connection: the SDK's Connection, or a subclass of it (status's AdminConnection). */
interface Connector<C extends Connection> {
  connect(options: ConnectionOptions): Promise<C>;
}

/**
 * A Temporal client (on `connectionClass`'s connection), or a CliError naming the address when Temporal cannot be
 * reached.
 */
export async function openTemporal(config: ConnectionConfig): Promise<Client & { connection: Connection }>;
export async function openTemporal<C extends Connection>(
  config: ConnectionConfig,
  connectionClass: Connector<C>,
): Promise<Client & { connection: C }>;
export async function openTemporal(
  config: ConnectionConfig,
  connectionClass: Connector<Connection> = Connection,
): Promise<Client & { connection: Connection }> {
  // connectTimeout is an option of the client's Connection.
  const connectionOptions = Object.assign({}, config.temporal.connectionOptions, {
    connectTimeout: TEMPORAL_CONNECT_TIMEOUT_MS,
  });
  try {
    return clientOn(config.temporal, await connectionClass.connect(connectionOptions));
  } catch (error) {
    throw new CliError(
      `cannot connect to Temporal at ${config.temporal.connectionOptions.address} (TEMPORAL_ADDRESS), namespace ` +
        `${config.temporal.namespace}: ${errorMessage(error)}`,
      1,
      { cause: error },
    );
  }
}

/** How long the CLI waits for NATS to accept the connection. */
const NATS_CONNECT_TIMEOUT_MS = 3_000;

/**
 * A NATS connection for one command: a short connect timeout and no reconnecting, so a CLI fails
 * at once, naming the server, when NATS is not there.
 */
export async function openNats(config: ConnectionConfig): Promise<NatsConnection> {
  try {
    return await connect({
      ...natsConnectionOptions(config.nats),
      name: 'orch-cli',
      timeout: NATS_CONNECT_TIMEOUT_MS,
      reconnect: false,
      maxReconnectAttempts: 0,
    });
  } catch (error) {
    throw new CliError(
      `cannot connect to NATS at ${config.nats.servers.join(', ')} (NATS_URL): ${errorMessage(error)}`,
      1,
      { cause: error },
    );
  }
}

/**
 * The workflows a visibility query matches (up to `limit`) and how many match in all. A query the
 * server refuses is bad input (exit 2); any other failure exits 1.
 */
export async function findExecutions(
  client: Client,
  query: string,
  limit: number,
): Promise<{ executions: WorkflowExecutionInfo[]; total: number }> {
  try {
    const [executions, total] = await Promise.all([
      listExecutions(client, query, limit),
      countExecutions(client, query),
    ]);
    return { executions, total };
  } catch (error) {
    throw new CliError(
      `the visibility query failed: ${errorMessage(error)}\n  query: ${query}`,
      isInvalidQuery(error) ? 2 : 1,
      { cause: error },
    );
  }
}
