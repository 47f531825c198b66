/**
 * What `orch status` concludes from the probed state: one row per check, with its level and a
 * sentence an operator can act on. Pure: the state in, the rows out.
 */
import { ADMIN_REFUSED_CODES, compareAddresses, splitAddress, type TemporalClusterStatus } from '../temporal-cluster';
import { DECISIONS_STREAM, DLQ_STREAM, SIGNALS_STREAM } from '../../nats/streams';
import type { NatsStatus, StreamReplicaStatus, StreamStatus, TaskQueueTypeStatus, TemporalStatus } from './probe';

/** A task waiting longer than this for a worker is worth a warning. */
const BACKLOG_AGE_WARN_S = 30;

/**
 * One row per agent's circuit breaker: open and half-open are worth a look, not a failure (decisions go on, degraded).
 */
function breakerCheck({ agent, breaker, error }: NonNullable<TemporalStatus['agent_breakers']>[number]): Check {
  const name = `breaker ${agent}`;
  if (error) return { name, level: 'warn', detail: `cannot read it: ${error}` };
  if (!breaker) return { name, level: 'ok', detail: 'closed (no correlation has reported on this agent yet)' };
  const misses = `${breaker.consecutive_misses} miss${breaker.consecutive_misses === 1 ? '' : 'es'} in a row (opens at ${breaker.settings.failure_threshold})`;
  const change = breaker.last_transition
    ? `; ${breaker.last_transition.from} -> ${breaker.last_transition.to} at ${breaker.last_transition.at}: ${breaker.last_transition.reason}`
    : '';
  if (breaker.state === 'closed') return { name, level: 'ok', detail: `closed, ${misses}${change}` };
  const next =
    breaker.state === 'open'
      ? `, half-open at ${breaker.half_open_at}; correlations do not wait for ${agent}`
      : `; correlations wait for ${agent} again`;
  return { name, level: 'warn', detail: `${breaker.state.replace('_', '-')}${next}; ${misses}${change}` };
}

export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  level: CheckLevel;
  detail: string;
  /** More lines under the detail (one per poller, say). */
  more?: string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function ago(iso: string | null, now: Date): string {
  if (!iso) return 'never';
  const s = Math.max(0, (now.getTime() - Date.parse(iso)) / 1_000);
  return s < 60 ? `${s.toFixed(1)}s ago` : s < 3_600 ? `${Math.round(s / 60)}m ago` : `${(s / 3_600).toFixed(1)}h ago`;
}

function taskQueueCheck(name: string, queue: string, type: TaskQueueTypeStatus, now: Date): Check {
  if (type.error) return { name, level: 'fail', detail: `cannot describe task queue ${queue}: ${type.error}` };
  const backlog = type.backlog
    ? `backlog ${type.backlog.count}${type.backlog.count > 0 ? ` (oldest ${type.backlog.age_seconds.toFixed(1)}s)` : ''}`
    : 'backlog unavailable (the server does not report it)';
  const more = type.pollers.map((p) => `${p.identity}  last poll ${ago(p.last_access_time, now)}`);
  if (type.pollers.length === 0)
    return { name, level: 'fail', detail: `no worker polls task queue ${queue}; ${backlog}` };
  const slow = type.backlog !== null && type.backlog.count > 0 && type.backlog.age_seconds > BACKLOG_AGE_WARN_S;
  return {
    name,
    level: slow ? 'warn' : 'ok',
    detail: `${plural(type.pollers.length, 'poller')} on ${queue}; ${backlog}`,
    more,
  };
}

const LEVEL_ORDER: Record<CheckLevel, number> = { ok: 0, warn: 1, fail: 2 };

function worst(...levels: CheckLevel[]): CheckLevel {
  return levels.reduce((a, b) => (LEVEL_ORDER[b] > LEVEL_ORDER[a] ? b : a), 'ok' as CheckLevel);
}

function seconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)}s` : s < 3_600 ? `${Math.round(s / 60)}m` : `${(s / 3_600).toFixed(1)}h`;
}

/** The services every Temporal node of this deployment runs; a ring without members is worth a look. */
const TEMPORAL_ROLES = ['frontend', 'history', 'matching', 'worker'];

function roleOrder(a: string, b: string): number {
  const ia = TEMPORAL_ROLES.indexOf(a);
  const ib = TEMPORAL_ROLES.indexOf(b);
  return (ia < 0 ? TEMPORAL_ROLES.length : ia) - (ib < 0 ? TEMPORAL_ROLES.length : ib) || a.localeCompare(b);
}

/**
 * The nodes the rings' members make, grouped by host. A member's identity is its service's gRPC
 * address, so the services of one node share a host (its broadcast address) but not a port: on
 * hosts of their own, each host is a node; nodes sharing a host (one machine) cannot be told apart
 * from the rings, so that host gets a count (the most members of one role on it) and each role's.
 */
function membershipNodes(rings: NonNullable<TemporalClusterStatus['rings']>): {
  count: number;
  summary: string;
} {
  const hosts = new Map<string, Map<string, number>>();
  for (const ring of rings) {
    for (const member of ring.members) {
      const [host] = splitAddress(member);
      const roles = hosts.get(host) ?? new Map<string, number>();
      roles.set(ring.role, (roles.get(ring.role) ?? 0) + 1);
      hosts.set(host, roles);
    }
  }
  const groups = [...hosts.entries()]
    .sort(([a], [b]) => compareAddresses(a, b))
    .map(([host, roles]) => {
      const nodes = Math.max(...roles.values());
      const names = [...roles.keys()].sort(roleOrder);
      return { host, nodes, roles: names.map((r) => (nodes === 1 ? r : `${r} ${roles.get(r)}`)).join(', ') };
    });
  const count = groups.reduce((sum, g) => sum + g.nodes, 0);
  if (groups.length === 0) return { count, summary: 'no members in the membership rings' };
  if (groups.length === 1 && groups[0]!.nodes > 1)
    return { count, summary: `${count} nodes on ${groups[0]!.host} (${groups[0]!.roles})` };
  return {
    count,
    summary: `${plural(count, 'node')}: ${groups.map((g) => (g.nodes === 1 ? `${g.host} (${g.roles})` : `${g.nodes} on ${g.host} (${g.roles})`)).join(', ')}`,
  };
}

/**
 * The `temporal cluster` row: the nodes in the membership rings, the shards, the stores; one line per ring under it.
 */
function temporalClusterCheck(cluster: TemporalClusterStatus): Check {
  const name = 'temporal cluster';
  if (!cluster.visible) {
    const refused = cluster.error_code !== undefined && ADMIN_REFUSED_CODES.has(cluster.error_code);
    return refused
      ? {
          name,
          level: 'warn',
          detail: `membership not visible: the server refuses its AdminService (${cluster.error ?? 'no reason given'})`,
        }
      : {
          name,
          level: 'warn',
          detail: `membership not known: DescribeCluster failed: ${cluster.error ?? 'no answer'}`,
        };
  }
  const rings = [...(cluster.rings ?? [])].sort((a, b) => roleOrder(a.role, b.role));
  const empty = TEMPORAL_ROLES.filter((role) => !rings.some((r) => r.role === role && r.members.length > 0));
  const parts = [membershipNodes(rings).summary];
  if (cluster.history_shard_count !== undefined) parts.push(plural(cluster.history_shard_count, 'history shard'));
  if (cluster.persistence_store || cluster.visibility_store)
    parts.push(
      `persistence ${cluster.persistence_store ?? 'unknown'}, visibility ${cluster.visibility_store ?? 'unknown'}`,
    );
  if (cluster.cluster_name) parts.push(`cluster ${cluster.cluster_name}`);
  if (empty.length > 0) parts.unshift(`no ${empty.join(', ')} service in the membership rings`);
  const roleWidth = Math.max(0, ...rings.map((r) => r.role.length));
  const more = rings.map(
    (r) =>
      `${r.role.padEnd(roleWidth)}  ${r.members.length === 0 ? '(no members)' : r.members.map((m) => (m === cluster.current_host ? `${m} (answered)` : m)).join(', ')}`,
  );
  return { name, level: empty.length > 0 ? 'warn' : 'ok', detail: parts.join('; '), more };
}

function replicaText(r: StreamReplicaStatus): string {
  const seen = r.active_seconds > 0 ? `seen ${seconds(r.active_seconds)} ago` : '';
  if (r.offline) return `${r.name} offline${seen ? ` (${seen})` : ''}`;
  if (!r.current) {
    const why = [...(r.lag > 0 ? [`${r.lag} behind`] : []), ...(seen ? [seen] : [])];
    return `${r.name} not current${why.length > 0 ? ` (${why.join(', ')})` : ''}`;
  }
  return `${r.name} current`;
}

/**
 * `R3, leader nats-2, replicas nats-1 current, nats-3 current` and its level: a replica offline,
 * behind or missing is a warning (one more loss and the stream stops), no leader a failure (the
 * stream takes no writes). Nothing for a stream on a server outside a cluster.
 */
function replication(stream: StreamStatus): { level: CheckLevel; text: string } | undefined {
  const cluster = stream.cluster;
  const configured = stream.num_replicas ?? 1;
  if (!cluster || (cluster.name === null && configured <= 1 && cluster.replicas.length === 0)) return undefined;
  const parts = [`R${configured}`];
  let level: CheckLevel = 'ok';
  if (cluster.leader) {
    parts.push(`leader ${cluster.leader}`);
  } else {
    parts.push('no leader: the stream takes no writes until one is elected');
    level = 'fail';
  }
  const replicas = [...cluster.replicas].sort((a, b) => a.name.localeCompare(b.name));
  let text = parts.join(', ');
  if (replicas.length > 0)
    text += `${cluster.leader ? ',' : ';'} replica${replicas.length === 1 ? '' : 's'} ${replicas.map(replicaText).join(', ')}`;
  if (replicas.some((r) => r.offline || !r.current)) level = worst(level, 'warn');
  const expected = configured - (cluster.leader ? 1 : 0);
  if (replicas.length < expected) {
    text += `; ${expected - replicas.length} of ${configured} replicas missing`;
    level = worst(level, 'warn');
  }
  return { level, text };
}

/** A stream's row: its messages, and where it is replicated when on a cluster. */
function streamCheck(name: string, stream: StreamStatus, detail: string, level: CheckLevel = 'ok'): Check {
  const placed = replication(stream);
  return placed
    ? { name, level: worst(level, placed.level), detail: `${detail}; ${placed.text}` }
    : { name, level, detail };
}

/**
 * The `nats cluster` row, for a server in a cluster: its name, the server the CLI landed on, the client URLs the
 * cluster advertises.
 */
function natsClusterCheck(n: NatsStatus): Check | undefined {
  if (!n.cluster) return undefined;
  const urls = n.cluster.connect_urls;
  const advertised =
    urls.length > 0 ? `${plural(urls.length, 'server')} advertised: ${urls.join(', ')}` : 'no client URLs advertised';
  return {
    name: 'nats cluster',
    level: 'ok',
    detail: `${n.cluster.name}, connected to ${n.server_name ?? 'unknown'}; ${advertised}`,
  };
}

/** The report's rows, each ok, a warning, or a failure (which makes `orch status` exit 1). */
export function checks(t: TemporalStatus, n: NatsStatus, now = new Date()): Check[] {
  const rows: Check[] = [];
  if (!t.reachable) {
    rows.push({
      name: 'temporal',
      level: 'fail',
      detail: `unreachable at ${t.address} (namespace ${t.namespace}): ${t.error ?? 'no answer'}`,
    });
  } else {
    const serving = t.health === 'SERVING';
    rows.push({
      name: 'temporal',
      level: serving ? 'ok' : 'fail',
      detail: `${t.address}, namespace ${t.namespace}: ${t.health}, server ${t.server_version ?? 'unknown'}`,
    });
    if (t.cluster) rows.push(temporalClusterCheck(t.cluster));
    if (t.search_attributes) {
      const { registered, missing } = t.search_attributes;
      rows.push(
        missing.length === 0
          ? {
              name: 'search attributes',
              level: 'ok',
              detail: `${registered.length} of ${registered.length} registered`,
            }
          : {
              name: 'search attributes',
              level: 'fail',
              detail: `missing ${missing.join(', ')}: correlations cannot record their state (deploy/temporal/setup-namespace.sh)`,
            },
      );
    } else {
      rows.push({ name: 'search attributes', level: 'warn', detail: 'not known: listing them needs operator rights' });
    }
    if (t.task_queue) {
      rows.push(taskQueueCheck('workflow pollers', t.task_queue.name, t.task_queue.workflow, now));
      rows.push(taskQueueCheck('activity pollers', t.task_queue.name, t.task_queue.activity, now));
    }
    rows.push(...(t.agent_breakers ?? []).map(breakerCheck));
  }

  const servers = n.servers.join(', ');
  if (!n.reachable) {
    rows.push({ name: 'nats', level: 'fail', detail: `unreachable at ${servers}: ${n.error ?? 'no answer'}` });
    return rows;
  }
  if (!n.jetstream || !n.streams) {
    rows.push({
      name: 'nats',
      level: 'fail',
      detail: `${servers}, server ${n.server_version ?? 'unknown'}: ${n.error ?? 'JetStream not available'}`,
    });
    return rows;
  }
  rows.push({ name: 'nats', level: 'ok', detail: `${servers}, server ${n.server_version ?? 'unknown'}, JetStream on` });
  const cluster = natsClusterCheck(n);
  if (cluster) rows.push(cluster);
  // On a cluster, a stream whose info times out most likely has no leader (one is being elected, or too few replicas
  // are up).
  const unanswered = (name: string, error: string): Check => ({
    name,
    level: 'fail',
    detail:
      n.cluster && /timeout|no responders/i.test(error)
        ? `no answer (${error}): a replicated stream without a leader answers nothing and takes no writes`
        : `cannot read it: ${error}`,
  });
  const signals = n.streams[SIGNALS_STREAM];
  const streamError = n.stream_errors ?? {};
  rows.push(
    streamError[SIGNALS_STREAM] !== undefined
      ? unanswered(`${SIGNALS_STREAM} stream`, streamError[SIGNALS_STREAM])
      : signals
        ? streamCheck(
            `${SIGNALS_STREAM} stream`,
            signals,
            `${plural(signals.messages, 'message')} (${bytes(signals.bytes)})`,
          )
        : {
            name: `${SIGNALS_STREAM} stream`,
            level: 'fail',
            detail: 'missing: the bridge creates it when it starts, so it has never run against this NATS',
          },
  );
  const consumer = n.bridge_consumer;
  if (signals) {
    rows.push(
      n.bridge_consumer_error !== undefined
        ? { name: 'bridge consumer', level: 'fail', detail: `cannot read it: ${n.bridge_consumer_error}` }
        : consumer
          ? {
              name: 'bridge consumer',
              level: 'ok',
              detail:
                `${consumer.name}: ${consumer.num_pending} pending, ${consumer.num_ack_pending} ack pending, ` +
                `${consumer.num_redelivered} redelivered, ${plural(consumer.num_waiting, 'waiting pull')}`,
            }
          : {
              name: 'bridge consumer',
              level: 'fail',
              detail: 'missing: no bridge consumes SIGNALS (ORCH_BRIDGE_DURABLE)',
            },
    );
  }
  const decisions = n.streams[DECISIONS_STREAM];
  rows.push(
    streamError[DECISIONS_STREAM] !== undefined
      ? unanswered(`${DECISIONS_STREAM} stream`, streamError[DECISIONS_STREAM])
      : decisions
        ? streamCheck(
            `${DECISIONS_STREAM} stream`,
            decisions,
            `${plural(decisions.messages, 'message')} (${bytes(decisions.bytes)})`,
          )
        : {
            name: `${DECISIONS_STREAM} stream`,
            level: 'warn',
            detail: 'missing: the worker creates it with the first decision',
          },
  );
  const dlq = n.streams[DLQ_STREAM];
  if (streamError[DLQ_STREAM] !== undefined) {
    rows.push(unanswered('DLQ', streamError[DLQ_STREAM]));
  } else if (!dlq) {
    rows.push({ name: 'DLQ', level: 'warn', detail: `${DLQ_STREAM} missing: the bridge creates it when it starts` });
  } else {
    const reasons = n.dlq_reasons;
    const byReason =
      reasons && reasons.sampled > 0
        ? `; last ${reasons.sampled} by reason: ${Object.entries(reasons.by_reason)
            .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
            .map(([r, c]) => `${r} ${c}`)
            .join(', ')}`
        : '';
    rows.push(
      streamCheck(
        'DLQ',
        dlq,
        `${plural(dlq.messages, 'message')} in ${DLQ_STREAM}${byReason}`,
        dlq.messages > 0 ? 'warn' : 'ok',
      ),
    );
  }
  if (n.error) rows.push({ name: 'nats', level: 'fail', detail: n.error });
  return rows;
}
