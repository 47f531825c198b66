/**
 * The health of a deployment, probed as an operator checks it: Temporal (reachable, version,
 * search attributes), the workers polling the task queue and its backlog, each agent's circuit
 * breaker, NATS with the orchestrator's streams, the bridge's consumer lag and the dead-letter
 * queue. What the findings mean, row by row, is `checks.ts`.
 */
import type { Client, Connection } from '@temporalio/client';
import { optionalTsToDate, optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  millis,
  nanos,
} from 'nats';
import { JsApiError, jsApiErrorCode } from '../../nats/api-errors';
import { DECISIONS_STREAM, DLQ_STREAM, SIGNALS_STREAM } from '../../nats/streams';
import { queryBreaker } from '../../agent-health/view';
import type { BreakerSnapshot } from '../../shared/agent-breaker-api';
import { SEARCH_ATTRIBUTES } from '../../shared/search-attributes';
import {
  AdminConnection,
  compareAddresses,
  describeTemporalCluster,
  type TemporalClusterStatus,
} from '../temporal-cluster';

export type { TemporalClusterStatus } from '../temporal-cluster';

/** How long one call to a server may take before the check is reported as failed. */
const CALL_TIMEOUT_MS = 5_000;
/** The DLQ messages whose reasons are counted. */
const DLQ_SAMPLE = 100;
export interface PollerStatus {
  identity: string;
  last_access_time: string | null;
  rate_per_second: number | null;
}

export interface TaskQueueTypeStatus {
  pollers: PollerStatus[];
  /** null when the server does not report task queue statistics. */
  backlog: { count: number; age_seconds: number } | null;
  error?: string;
}

export interface TemporalStatus {
  address: string;
  namespace: string;
  reachable: boolean;
  health?: string;
  server_version?: string;
  /**
   * The cluster's membership (DescribeCluster of the server's AdminService), when the client's connection is an
   * AdminConnection.
   */
  cluster?: TemporalClusterStatus;
  search_attributes?: { registered: string[]; missing: string[] };
  task_queue?: { name: string; workflow: TaskQueueTypeStatus; activity: TaskQueueTypeStatus };
  /** Each expected agent's circuit breaker: its state, or null when no correlation has reported on the agent yet. */
  agent_breakers?: Array<{ agent: string; breaker: BreakerSnapshot | null; error?: string }>;
  error?: string;
}

export interface StreamReplicaStatus {
  name: string;
  current: boolean;
  offline: boolean;
  /** Seconds since the leader last heard from it (0: never, since it leads). */
  active_seconds: number;
  /** Operations it is behind the leader. */
  lag: number;
}

export interface StreamStatus {
  messages: number;
  bytes: number;
  first_seq: number;
  last_seq: number;
  /** config.num_replicas. */
  num_replicas?: number;
  /** Where the stream lives (StreamInfo.cluster): on a server outside a cluster only its leader, the server itself. */
  cluster?: { name: string | null; leader: string | null; replicas: StreamReplicaStatus[] };
}

export interface ConsumerStatus {
  name: string;
  num_pending: number;
  num_ack_pending: number;
  num_redelivered: number;
  num_waiting: number;
  last_delivered_seq: number;
  ack_floor_seq: number;
}

export interface NatsStatus {
  servers: string[];
  reachable: boolean;
  server_version?: string;
  /** The server the connection landed on (its server_name). */
  server_name?: string;
  /**
   * The connected server's cluster, when it is in one: its name and the client URLs it advertises (INFO connect_urls).
   */
  cluster?: { name: string; connect_urls: string[] };
  jetstream?: boolean;
  /** null: the stream does not exist, or it did not answer (see stream_errors). */
  streams?: Record<string, StreamStatus | null>;
  /**
   * The streams whose info request failed, with the error: a replicated stream without a leader answers nothing (a
   * timeout).
   */
  stream_errors?: Record<string, string>;
  /** null: the consumer does not exist, or it did not answer (see bridge_consumer_error). */
  bridge_consumer?: ConsumerStatus | null;
  bridge_consumer_error?: string;
  dlq_reasons?: { sampled: number; by_reason: Record<string, number> } | null;
  error?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const TaskQueueType = temporal.api.enums.v1.TaskQueueType;

async function describeTaskQueueType(
  client: Client,
  name: string,
  type: temporal.api.enums.v1.TaskQueueType,
): Promise<TaskQueueTypeStatus> {
  try {
    const response = await client.withDeadline(Date.now() + CALL_TIMEOUT_MS, () =>
      client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name },
        taskQueueType: type,
        reportStats: true,
      }),
    );
    const pollers = (response.pollers ?? []).map((p) => ({
      identity: p.identity ?? '',
      last_access_time: optionalTsToDate(p.lastAccessTime)?.toISOString() ?? null,
      rate_per_second: p.ratePerSecond ?? null,
    }));
    pollers.sort((a, b) => (b.last_access_time ?? '').localeCompare(a.last_access_time ?? ''));
    const stats = response.stats;
    const backlog = stats
      ? {
          count: Number(stats.approximateBacklogCount ?? 0),
          age_seconds: (optionalTsToMs(stats.approximateBacklogAge) ?? 0) / 1_000,
        }
      : null;
    return { pollers, backlog };
  } catch (error) {
    return { pollers: [], backlog: null, error: message(error) };
  }
}

/** An agent's circuit breaker, or why it cannot be read. */
async function breakerStatus(
  client: Client,
  agent: string,
): Promise<NonNullable<TemporalStatus['agent_breakers']>[number]> {
  try {
    return { agent, breaker: await queryBreaker(client, agent, CALL_TIMEOUT_MS) };
  } catch (error) {
    return { agent, breaker: null, error: message(error) };
  }
}

/**
 * Temporal's side, on a client already connected (or the reason it could not connect); `agents`: whose circuit breakers
 * to read.
 */
export async function temporalStatus(
  client: Client,
  address: string,
  taskQueue: string,
  agents: readonly string[] = [],
): Promise<TemporalStatus> {
  const namespace = client.options.namespace;
  const status: TemporalStatus = { address, namespace, reachable: false };
  // The CLI's clients are made on a full Connection (src/client/temporal-client.ts), which has the health and operator
  // services.
  const connection = client.connection as Connection;
  try {
    const health = await client.withDeadline(Date.now() + CALL_TIMEOUT_MS, () => connection.healthService.check({}));
    status.health = healthName(health.status);
    const info = await client.withDeadline(Date.now() + CALL_TIMEOUT_MS, () =>
      client.workflowService.getSystemInfo({}),
    );
    status.server_version = info.serverVersion ?? undefined;
    status.reachable = true;
  } catch (error) {
    status.error = message(error);
    return status;
  }
  // `orch status` connects with an AdminConnection (temporal-cluster.ts); a plain Connection has no AdminService.
  if (connection instanceof AdminConnection)
    status.cluster = await describeTemporalCluster(connection, CALL_TIMEOUT_MS);
  try {
    const listed = await client.withDeadline(Date.now() + CALL_TIMEOUT_MS, () =>
      connection.operatorService.listSearchAttributes({ namespace }),
    );
    const custom = Object.keys(listed.customAttributes ?? {});
    const ours = Object.values(SEARCH_ATTRIBUTES).map((key) => key.name);
    status.search_attributes = {
      registered: ours.filter((n) => custom.includes(n)),
      missing: ours.filter((n) => !custom.includes(n)),
    };
  } catch {
    // Listing needs operator rights (Temporal Cloud API keys often lack them): not known, not a failure.
  }
  const [workflow, activity] = await Promise.all([
    describeTaskQueueType(client, taskQueue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
    describeTaskQueueType(client, taskQueue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
  ]);
  status.task_queue = { name: taskQueue, workflow, activity };
  status.agent_breakers = await Promise.all(agents.map((agent) => breakerStatus(client, agent)));
  return status;
}

/** grpc.health.v1 serving status names. */
function healthName(code: number | null | undefined): string {
  return ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][code ?? 0] ?? `status ${code}`;
}

/** The HTTP-style status of a JetStream API error: an older server answers 404 without an error code. */
const HTTP_NOT_FOUND = 404;

function isNotFound(error: unknown): boolean {
  const code = jsApiErrorCode(error);
  return (
    code === JsApiError.StreamNotFound ||
    code === JsApiError.ConsumerNotFound ||
    (error as { api_error?: { code?: number } })?.api_error?.code === HTTP_NOT_FOUND
  );
}

async function streamStatus(jsm: JetStreamManager, name: string): Promise<StreamStatus | null> {
  try {
    const { state, config, cluster } = await jsm.streams.info(name);
    return {
      messages: state.messages,
      bytes: state.bytes,
      first_seq: state.first_seq,
      last_seq: state.last_seq,
      num_replicas: config.num_replicas,
      ...(cluster
        ? {
            cluster: {
              name: cluster.name ?? null,
              leader: cluster.leader || null,
              replicas: (cluster.replicas ?? []).map((r) => ({
                name: r.name,
                current: r.current,
                offline: r.offline ?? false,
                active_seconds: millis(r.active ?? 0) / 1_000,
                lag: r.lag ?? 0,
              })),
            },
          }
        : {}),
    };
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * Counts the `Orch-Dlq-Reason` headers of the last `sample` DLQ messages, with a headers-only
 * consumer: no payload is transferred, however big the refused messages were.
 */
async function dlqReasons(
  js: JetStreamClient,
  jsm: JetStreamManager,
  dlq: StreamStatus,
  sample: number,
): Promise<{ sampled: number; by_reason: Record<string, number> }> {
  const byReason: Record<string, number> = {};
  if (dlq.messages === 0) return { sampled: 0, by_reason: byReason };
  const startSeq = Math.max(dlq.first_seq, dlq.last_seq - sample + 1);
  const info = await jsm.consumers.add(DLQ_STREAM, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: startSeq,
    ack_policy: AckPolicy.None,
    headers_only: true,
    mem_storage: true,
    inactive_threshold: nanos(30_000),
  });
  let sampled = 0;
  try {
    const consumer = await js.consumers.get(DLQ_STREAM, info.name);
    const wanted = Math.min(sample, dlq.last_seq - startSeq + 1, dlq.messages);
    const messages = await consumer.fetch({ max_messages: wanted, expires: 2_000 });
    for await (const msg of messages) {
      const reason = msg.headers?.get('Orch-Dlq-Reason') || 'unknown';
      byReason[reason] = (byReason[reason] ?? 0) + 1;
      sampled++;
      if (sampled >= wanted) break;
    }
  } finally {
    await jsm.consumers.delete(DLQ_STREAM, info.name).catch(() => undefined);
  }
  return { sampled, by_reason: byReason };
}

/** NATS's side, on a connection already open. */
export async function natsStatus(nc: NatsConnection, servers: string[], durableName: string): Promise<NatsStatus> {
  const status: NatsStatus = {
    servers,
    reachable: true,
    server_version: nc.info?.version,
    server_name: nc.info?.server_name,
  };
  if (nc.info?.cluster)
    status.cluster = { name: nc.info.cluster, connect_urls: [...(nc.info.connect_urls ?? [])].sort(compareAddresses) };
  let jsm: JetStreamManager;
  try {
    jsm = await nc.jetstreamManager({ timeout: CALL_TIMEOUT_MS });
    status.jetstream = true;
  } catch (error) {
    status.jetstream = false;
    status.error = `JetStream is not available: ${message(error)}`;
    return status;
  }
  try {
    // Each stream on its own: on a cluster one without a leader does not answer, and the others still do.
    const names = [SIGNALS_STREAM, DECISIONS_STREAM, DLQ_STREAM];
    const read = await Promise.all(
      names.map(async (name): Promise<{ name: string; stream: StreamStatus | null; error?: string }> => {
        try {
          return { name, stream: await streamStatus(jsm, name) };
        } catch (error) {
          return { name, stream: null, error: message(error) };
        }
      }),
    );
    status.streams = Object.fromEntries(read.map((r) => [r.name, r.stream]));
    const failed = read.filter((r) => r.error !== undefined);
    if (failed.length > 0) status.stream_errors = Object.fromEntries(failed.map((r) => [r.name, r.error!]));
    const signals = status.streams[SIGNALS_STREAM];
    const dlq = status.streams[DLQ_STREAM];
    status.bridge_consumer = null;
    if (signals) {
      try {
        const info = await jsm.consumers.info(SIGNALS_STREAM, durableName);
        status.bridge_consumer = {
          name: durableName,
          num_pending: info.num_pending,
          num_ack_pending: info.num_ack_pending,
          num_redelivered: info.num_redelivered,
          num_waiting: info.num_waiting,
          last_delivered_seq: info.delivered.stream_seq,
          ack_floor_seq: info.ack_floor.stream_seq,
        };
      } catch (error) {
        if (!isNotFound(error)) status.bridge_consumer_error = message(error);
      }
    }
    status.dlq_reasons = null;
    if (dlq) {
      try {
        status.dlq_reasons = await dlqReasons(nc.jetstream({ timeout: CALL_TIMEOUT_MS }), jsm, dlq, DLQ_SAMPLE);
      } catch {
        // Counting reasons is a nicety: a user without the right to create a consumer still gets the depth.
      }
    }
  } catch (error) {
    status.error = message(error);
  }
  return status;
}
