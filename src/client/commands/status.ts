/** `orch status`: the health of the deployment, as an operator checks it before and after a change. */
import type { Client } from '@temporalio/client';
import type { NatsConnection } from 'nats';
import { loadConfig } from '../../config';
import { type Check, checks } from '../../operations/status/checks';
import { natsStatus, type NatsStatus, temporalStatus, type TemporalStatus } from '../../operations/status/probe';
import { AdminConnection } from '../../operations/temporal-cluster';
import { formatTable } from '../../operations/table';
import { CliError, type Command, errorMessage, openNats, openTemporal, parseCommandLine, UsageError } from './common';

const NAME = 'status';

const statusUsage = `
Usage: orch status [--json]

Checks the deployment the settings point at, and prints one row per check:
  temporal           reachable, serving, its server version
  temporal cluster   the server's membership (its AdminService): the nodes, each service's members,
                     the history shards, the persistence and visibility stores; a server that
                     refuses the AdminService (Temporal Cloud) is a warning
  search attributes  the orchestrator's search attributes are registered on the namespace
  workflow pollers   workers polling the task queue (ORCH_TASK_QUEUE) for workflow tasks, each with
  activity pollers   its identity and last poll, and the queue's backlog when the server reports it
  breaker <agent>    each expected agent's circuit breaker (closed, open, half-open), its misses
                     in a row and its last change; open or half-open is a warning
  nats               reachable, with JetStream
  nats cluster       when the server is in a cluster: its name, the server connected to, the
                     servers the cluster advertises
  SIGNALS stream     agent signals stored; on a cluster its replicas (R3), leader and each other
                     replica (current, behind, offline): one not current is a warning, no leader
                     a failure (the DECISIONS and DLQ rows show theirs too)
  bridge consumer    the bridge's durable consumer (ORCH_BRIDGE_DURABLE): messages not yet
                     delivered (pending), delivered but not acknowledged, redelivered
  DECISIONS stream   decisions stored
  DLQ                messages in SIGNALS_DLQ, and the reasons of the last 100

Each row is ok, warn (worth a look: messages in the DLQ, an old backlog) or FAIL (the orchestrator
cannot work: a server unreachable, no worker polling, a stream or consumer missing).

Options:
  --json       print the whole report as JSON
  -h, --help   this help

Exit codes: 0 nothing failed (warnings allowed); 1 a check failed; 2 bad usage.

Examples:
  orch status
  orch status --json | jq '.nats.bridge_consumer.num_pending'
  orch status --json | jq '.temporal.cluster.rings, .nats.streams.SIGNALS.cluster'
`;

/** The report `--json` prints. */
export interface StatusReport {
  ok: boolean;
  checked_at: string;
  temporal: TemporalStatus;
  nats: NatsStatus;
  checks: Check[];
  problems: string[];
}

/** `CHECK  STATUS  DETAIL`, with extra lines (one per poller) under their row's detail, indented. */
function formatChecks(rows: readonly Check[]): string {
  const label = { ok: 'ok', warn: 'warn', fail: 'FAIL' } as const;
  return formatTable([
    ['CHECK', 'STATUS', 'DETAIL'],
    ...rows.flatMap((row) => [
      [row.name, label[row.level], row.detail],
      ...(row.more ?? []).map((more) => ['', '', `  ${more}`]),
    ]),
  ]).join('\n');
}

export const statusCommand: Command = {
  name: NAME,
  summary: 'health of the deployment: Temporal, workers, NATS streams, consumer lag, DLQ',
  usage: statusUsage,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandLine(NAME, {
      args: argv,
      options: { json: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(NAME, `unexpected argument: ${positionals.join(' ')}`);
    const config = loadConfig(ctx.env);
    const address = String(config.temporal.connectionOptions.address);

    // Both sides at once: a server that does not answer costs its connect timeout once.
    const [temporal, nats] = await Promise.all([
      (async (): Promise<TemporalStatus> => {
        let client: Client;
        try {
          // On an AdminConnection: the same channel also reaches the server's AdminService, for the cluster's
          // membership.
          client = await openTemporal(config, AdminConnection);
        } catch (error) {
          return {
            address,
            namespace: config.temporal.namespace,
            reachable: false,
            error: errorMessage(error).replace(
              /^cannot connect to Temporal at \S+ \(TEMPORAL_ADDRESS\), namespace \S+: /,
              '',
            ),
          };
        }
        try {
          return await temporalStatus(
            client,
            address,
            config.taskQueue,
            config.policy.breaker.enabled ? config.policy.expected_agents : [],
          );
        } finally {
          await client.connection.close();
        }
      })(),
      (async (): Promise<NatsStatus> => {
        let nc: NatsConnection;
        try {
          nc = await openNats(config);
        } catch (error) {
          return {
            servers: config.nats.servers,
            reachable: false,
            error: errorMessage(error).replace(/^cannot connect to NATS at .* \(NATS_URL\): /, ''),
          };
        }
        try {
          return await natsStatus(nc, config.nats.servers, config.bridge.durableName);
        } finally {
          await nc.close();
        }
      })(),
    ]);

    const now = new Date();
    const rows = checks(temporal, nats, now);
    const problems = rows.filter((r) => r.level === 'fail').map((r) => `${r.name}: ${r.detail}`);
    const warnings = rows.filter((r) => r.level === 'warn').length;
    if (values.json) {
      const report: StatusReport = {
        ok: problems.length === 0,
        checked_at: now.toISOString(),
        temporal,
        nats,
        checks: rows,
        problems,
      };
      ctx.out(JSON.stringify(report, null, 2));
    } else {
      ctx.out(formatChecks(rows));
      const counts = [
        ...(problems.length > 0 ? [`${problems.length} check${problems.length === 1 ? '' : 's'} failed`] : []),
        ...(warnings > 0 ? [`${warnings} warning${warnings === 1 ? '' : 's'}`] : []),
      ];
      ctx.out(
        `\nstatus: ${problems.length === 0 ? 'OK' : 'FAIL'}${counts.length > 0 ? ` (${counts.join(', ')})` : ''}`,
      );
    }
    if (problems.length > 0) {
      const down = [
        ...(temporal.reachable
          ? []
          : [`Temporal is unreachable at ${temporal.address} (TEMPORAL_ADDRESS): ${temporal.error ?? 'no answer'}`]),
        ...(nats.reachable
          ? []
          : [`NATS is unreachable at ${nats.servers.join(', ')} (NATS_URL): ${nats.error ?? 'no answer'}`]),
      ];
      const others = rows.filter(
        (r) =>
          r.level === 'fail' &&
          !(r.name === 'temporal' && !temporal.reachable) &&
          !(r.name === 'nats' && !nats.reachable),
      );
      throw new CliError([...down, ...others.map((r) => `${r.name}: ${r.detail}`)].join('; '));
    }
  },
};
