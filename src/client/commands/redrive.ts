/**
 * `orch redrive`: finds failed or timed-out correlations by a visibility query and runs each again
 * on the signals its run recorded, under a new workflow id `corr-<corr_id>-redrive-<n>` whose memo
 * and decision (`redrive_of`) link back to the run it re-drives.
 */
import { loadConfig } from '../../config';
import { mapConcurrent, progressBar } from '../../operations/progress';
import { formatTable } from '../../operations/table';
import {
  assignRedrive,
  newestPerCorrelation,
  planAgents,
  planRun,
  type RedrivePlan,
  startRedrive,
} from '../../operations/redrive';
import {
  DEFAULT_REDRIVE_STATUSES,
  parseStatusList,
  parseTimeBound,
  REDRIVE_STATUSES,
  type RedriveFilter,
  redriveQuery,
  type RedriveStatus,
} from '../../operations/visibility';
import { parseDuration } from '../../shared/duration';
import {
  CliError,
  type Command,
  errorMessage,
  findExecutions,
  openTemporal,
  parseCommandLine,
  UsageError,
} from './common';

const NAME = 'redrive';
const DEFAULT_REDRIVE_LIMIT = 1_000;
/** More correlations than this are only re-driven with --yes. */
const CONFIRM_ABOVE = 10;
/** Histories read and workflows started at once. */
const CONCURRENCY = 8;

const redriveUsage = `
Usage: orch redrive [--status failed,timed_out] [--since <time>] [--until <time>] [--route <route>]
                    [--action <action>] [--instrument <symbol>] [--query '<visibility query>']
                    [--limit <n>] [--dry-run] [--yes] [--force] [--json]

Finds correlations that failed or timed out, by a visibility query built from the options, and
runs each again on the agent signals its run recorded: a new workflow corr-<corr_id>-redrive-<n>
decides at once on them (no waiting for the partial-data timer) under the policy the run decided
under (or, when its history does not record one, ORCH_POLICY_FILE's), and publishes a decision
whose redrive_of names the run it re-drives (also in its memo). The signals are read from the
run's history: the first message per agent, as the workflow keeps them, late ones included.

A correlation is re-driven once: one with a re-drive already completed or still running is
skipped (--force re-drives it again), and so is one that recorded no signal. When several runs of
a correlation match, the newest is re-driven.

Options:
  --status <list>       comma-separated: failed (CorrelationStatus "failed", or a Failed
                        execution), timed_out (the partial-data timer fired), terminated
                        (default: ${DEFAULT_REDRIVE_STATUSES.join(',')})
  --since <time>        started at or after: a duration ago (30m, 1h, 24h) or an ISO-8601 time
  --until <time>        started before: the same forms
  --route <route>       DecisionRoute, e.g. crypto_high_risk
  --action <action>     DecisionAction, e.g. insufficient_data
  --instrument <symbol> Instrument, e.g. BTC/USD
  --query <q>           any visibility query, ANDed with the options above,
                        e.g. 'PolicyVersion = "2026-11-01"'
  --limit <n>           read at most n matching runs, newest first (default: ${DEFAULT_REDRIVE_LIMIT})
  --dry-run             list what would be re-driven and the new workflow ids; start nothing
  --yes                 confirm a batch of more than ${CONFIRM_ABOVE} correlations
  --force               re-drive also correlations already re-driven, or with no recorded signal
  --json                print the plan (and results) as JSON
  -h, --help            this help

A progress bar on stderr follows large batches. Exit codes: 0 every planned re-drive started (or
nothing to do); 1 a re-drive could not start or a run could not be read; 2 bad usage, a query
the server refuses, or more than ${CONFIRM_ABOVE} correlations without --yes.

Examples:
  orch redrive --dry-run
  orch redrive --status failed --since 1h
  orch redrive --status timed_out --instrument BTC/USD --since 2026-11-22T08:00:00Z --yes
  orch redrive --query 'CorrelationId = "evt-42"' --force
`;

interface RedriveOptions {
  filter: RedriveFilter;
  limit: number;
  dryRun: boolean;
  yes: boolean;
  force: boolean;
  json: boolean;
}

function parseRedriveStatuses(text: string): RedriveStatus[] {
  try {
    return parseStatusList(text, Object.keys(REDRIVE_STATUSES) as RedriveStatus[]);
  } catch (error) {
    throw new UsageError(NAME, `--status: ${errorMessage(error)}`);
  }
}

function parseOptions(argv: string[], now: Date): RedriveOptions {
  const { values, positionals } = parseCommandLine(NAME, {
    args: argv,
    options: {
      status: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      route: { type: 'string' },
      action: { type: 'string' },
      instrument: { type: 'string' },
      query: { type: 'string' },
      limit: { type: 'string' },
      'dry-run': { type: 'boolean' },
      yes: { type: 'boolean' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0)
    throw new UsageError(
      NAME,
      `unexpected argument: ${positionals.join(' ')} (select correlations with --query, e.g. --query 'CorrelationId = "evt-42"')`,
    );
  const time = (flag: 'since' | 'until'): Date | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    try {
      return parseTimeBound(text, now, parseDuration);
    } catch (error) {
      throw new UsageError(NAME, `--${flag}: ${errorMessage(error)}`);
    }
  };
  for (const flag of ['route', 'action', 'instrument', 'query'] as const) {
    if (values[flag] !== undefined && values[flag].trim() === '')
      throw new UsageError(NAME, `--${flag} must not be empty`);
  }
  const limit = values.limit === undefined ? DEFAULT_REDRIVE_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new UsageError(NAME, `--limit must be a whole number above 0, got ${JSON.stringify(values.limit)}`);
  return {
    filter: {
      statuses: values.status === undefined ? DEFAULT_REDRIVE_STATUSES : parseRedriveStatuses(values.status),
      since: time('since'),
      until: time('until'),
      route: values.route,
      action: values.action,
      instrument: values.instrument,
      query: values.query,
    },
    limit,
    dryRun: values['dry-run'] ?? false,
    yes: values.yes ?? false,
    force: values.force ?? false,
    json: values.json ?? false,
  };
}

/** `failed/FAILED`: the CorrelationStatus search attribute (- when unset) and Temporal's status. */
function originalStatus(plan: RedrivePlan): string {
  return `${plan.correlationStatus ?? '-'}/${plan.executionStatus}`;
}

function outcome(plan: RedrivePlan, dryRun: boolean): string {
  if (plan.error) return `FAILED: ${plan.error}`;
  if (plan.skip) return `skip: ${plan.skip}`;
  if (plan.started) return `started ${plan.started.workflowId}`;
  return dryRun ? `would start ${plan.newWorkflowId}` : `not started`;
}

/** The plan (or the results) as a table: one row per correlation. */
function formatPlan(plans: readonly RedrivePlan[], dryRun: boolean): string {
  const rows = [
    ['CORRELATION', 'ORIGINAL RUN', 'STATUS', 'SIGNALS', dryRun ? 'PLAN' : 'RESULT'],
    ...plans.map((plan) => [
      plan.corrId,
      `${plan.of.workflow_id} ${plan.of.run_id}${plan.runsMatched > 1 ? ` (${plan.runsMatched} runs matched)` : ''}`,
      originalStatus(plan),
      plan.signals.length > 0 ? planAgents(plan).join(',') : 'none',
      outcome(plan, dryRun),
    ]),
  ];
  return formatTable(rows).join('\n');
}

function planJson(plan: RedrivePlan) {
  return {
    corr_id: plan.corrId,
    redrive_of: {
      ...plan.of,
      start_time: plan.startTime.toISOString(),
      correlation_status: plan.correlationStatus ?? null,
      execution_status: plan.executionStatus,
    },
    runs_matched: plan.runsMatched,
    signals: plan.signals.map((s) => ({ agent: s.signal.agent_name, message_id: s.message_id })),
    earlier_redrives: plan.earlier.map((r) => ({ workflow_id: r.workflowId, status: r.status })),
    new_workflow_id: plan.started?.workflowId ?? plan.newWorkflowId ?? null,
    ...(plan.started ? { started_run_id: plan.started.runId } : {}),
    ...(plan.skip ? { skipped: plan.skip } : {}),
    ...(plan.error ? { error: plan.error } : {}),
  };
}

export const redriveCommand: Command = {
  name: NAME,
  summary: 'run failed or timed-out correlations again on their recorded signals',
  usage: redriveUsage,
  async run(argv, ctx) {
    const options = parseOptions(argv, new Date());
    const query = redriveQuery(options.filter);
    const config = loadConfig(ctx.env);
    const client = await openTemporal(config);
    const say = (text: string): void => {
      if (!options.json) ctx.out(text);
    };
    try {
      const { executions, total } = await findExecutions(client, query, options.limit);
      say(`query: ${query}`);

      const reading = progressBar('reading histories', executions.length, process.stderr);
      const runs = await mapConcurrent(executions, CONCURRENCY, async (execution) => {
        const plan = await planRun(client, execution);
        reading.tick();
        return plan;
      });
      reading.done();
      const plans = await mapConcurrent(newestPerCorrelation(runs), CONCURRENCY, (plan) =>
        assignRedrive(client, plan, { force: options.force }),
      );
      const toStart = plans.filter((p) => p.newWorkflowId !== undefined && !p.error);
      const unreadable = plans.filter((p) => p.error).length;
      const skipped = plans.filter((p) => p.skip).length;
      say(
        `found ${plans.length} correlation${plans.length === 1 ? '' : 's'} (${executions.length} run${executions.length === 1 ? '' : 's'}` +
          `${total > executions.length ? ` of ${total} matching: --limit ${options.limit}` : ''}): ` +
          `${toStart.length} to re-drive, ${skipped} skipped${unreadable > 0 ? `, ${unreadable} unreadable` : ''}`,
      );
      const needsConfirming = !options.dryRun && toStart.length > CONFIRM_ABOVE && !options.yes;
      // The plan now when nothing starts; otherwise the results once started.
      if (plans.length > 0 && (options.dryRun || needsConfirming || toStart.length === 0))
        say(`\n${formatPlan(plans, true)}\n`);

      const printJson = (): void => {
        if (options.json) {
          const summary = {
            started: plans.filter((p) => p.started).length,
            skipped,
            failed: plans.filter((p) => p.error).length,
          };
          ctx.out(
            JSON.stringify(
              { query, dry_run: options.dryRun, matched_runs: total, correlations: plans.map(planJson), summary },
              null,
              2,
            ),
          );
        }
      };

      if (options.dryRun) {
        printJson();
        say(
          `dry run: nothing started. ${toStart.length} correlation${toStart.length === 1 ? '' : 's'} would be re-driven.`,
        );
        if (unreadable > 0)
          throw new CliError(
            `${unreadable} matching run${unreadable === 1 ? '' : 's'} could not be read (see the table)`,
          );
        return;
      }
      if (needsConfirming) {
        printJson();
        throw new CliError(
          `${toStart.length} correlations would be re-driven: add --yes to start them (more than ${CONFIRM_ABOVE} need confirming), or --dry-run to review them`,
          2,
        );
      }

      const starting = progressBar('re-driving', toStart.length, process.stderr);
      await mapConcurrent(toStart, CONCURRENCY, async (plan) => {
        try {
          plan.started = await startRedrive(client, config.taskQueue, plan, config.policy);
        } catch (error) {
          plan.error = `could not start ${plan.newWorkflowId}: ${errorMessage(error)}`;
        }
        starting.tick();
      });
      starting.done();

      const started = toStart.filter((p) => p.started).length;
      const failed = plans.filter((p) => p.error).length;
      if (toStart.length > 0) say(`\n${formatPlan(plans, false)}\n`);
      printJson();
      say(`re-driven: ${started} started, ${skipped} skipped, ${failed} failed (task queue ${config.taskQueue})`);
      if (failed > 0)
        throw new CliError(`${failed} correlation${failed === 1 ? '' : 's'} could not be re-driven (see the table)`);
    } finally {
      await client.connection.close();
    }
  },
};
