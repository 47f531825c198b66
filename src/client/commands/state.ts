/** `orch state <corr_id>`: what a correlation's workflow knows right now, by its `state` query. */
import {
  type Client,
  isGrpcDeadlineError,
  type WorkflowExecutionDescription,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { corrIdSchema } from '../../contract/agent-signal';
import type { CorrelationState } from '../../contract/correlation-state';
import { loadConnectionConfig } from '../../config';
import { stateQuery, workflowIdFor } from '../../shared/correlation-api';
import {
  CliError,
  type Command,
  errorMessage,
  onePositional,
  openTemporal,
  parseCommandLine,
  UsageError,
} from './common';

const NAME = 'state';
/** Queries are answered by a worker replaying the workflow; without one the server would wait. */
const QUERY_TIMEOUT_MS = 10_000;

const stateUsage = `
Usage: orch state <corr_id> [--json]

Shows the state of a correlation: the \`state\` query of its workflow corr-<corr_id>. A worker
answers the query, so the orchestrator worker must be running.

Options:
  --json       print the whole state as JSON (schemas/correlation_state.schema.json)
  -h, --help   this help

Exit codes: 0 shown; 1 no such correlation, or no worker answered; 2 bad usage.

Examples:
  orch state evt-42
  orch state evt-42 --json | jq .decision.decision
`;

/** The correlation id argument, checked as the contract defines it. */
export function corrIdArgument(command: string, positionals: string[]): string {
  const corrId = onePositional(command, positionals, '<corr_id>');
  const result = corrIdSchema.safeParse(corrId);
  if (!result.success)
    throw new UsageError(
      command,
      `invalid corr_id ${JSON.stringify(corrId)}: ${result.error.issues[0]?.message ?? 'invalid'}`,
    );
  return corrId;
}

/** The CliError for a correlation whose workflow does not exist. */
export function notFound(corrId: string, namespace: string): CliError {
  return new CliError(
    `no correlation ${JSON.stringify(corrId)}: workflow ${workflowIdFor(corrId)} does not exist in namespace ${namespace}`,
  );
}

function list(items: readonly string[]): string {
  return items.length > 0 ? items.join(', ') : 'none';
}

function until(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return '';
  const s = Math.round(Math.abs(ms) / 1_000);
  const text = s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
  return ms >= 0 ? ` (in ${text})` : ` (${text} ago)`;
}

/** Temporal's view of the workflow, shown next to the correlation's own status. */
export interface ExecutionSummary {
  status: string;
  taskQueue: string;
}

/** A short, human summary of a correlation's state. */
function formatState(state: CorrelationState, execution?: ExecutionSummary, now = new Date()): string {
  const reported = Object.keys(state.signals).sort();
  const expected = state.metadata.expected_agents;
  const missing = expected?.filter((agent) => !(agent in state.signals)).sort();
  const rows: Array<[string, string]> = [
    ['correlation', state.corr_id],
    [
      'workflow',
      `${workflowIdFor(state.corr_id)}${execution ? ` (${execution.status}, task queue ${execution.taskQueue})` : ''}`,
    ],
    ['status', state.status],
    ['expected', expected ? list(expected) : 'not known yet (policy not resolved)'],
    ['reported', list(reported)],
    ['missing', missing ? list(missing) : 'not known yet'],
    ['created_at', state.metadata.created_at],
    [
      'timeout_at',
      state.metadata.timeout_at
        ? `${state.metadata.timeout_at}${state.status === 'collecting' ? until(state.metadata.timeout_at, now) : ''}`
        : 'not set yet',
    ],
    ['duplicates', String(state.duplicates ?? 0)],
    ['late', String(state.late_count ?? 0)],
    ['rejected', String(state.rejected_count ?? 0)],
  ];
  if (state.metadata.policy_version !== undefined) rows.push(['policy', state.metadata.policy_version]);
  const decision = state.decision;
  if (decision) {
    rows.push(['action', decision.decision.action]);
    rows.push(['confidence', String(decision.decision.confidence)]);
    rows.push(['reasoning', decision.decision.reasoning]);
    rows.push(['route', decision.route ?? 'none']);
    if (decision.partial_data) rows.push(['partial_data', `yes (missing ${list(decision.missing_agents ?? [])})`]);
    rows.push(['decided_at', decision.orchestrated_at]);
  } else {
    rows.push(['decision', 'none yet']);
  }
  return rows.map(([label, value]) => `${label.padEnd(12)} ${value}`).join('\n');
}

/** Describes the workflow (no worker needed) and queries its state (a worker replays it). */
async function fetchState(
  client: Client,
  corrId: string,
  queryTimeoutMs = QUERY_TIMEOUT_MS,
): Promise<{ state: CorrelationState; execution: ExecutionSummary }> {
  const handle = client.workflow.getHandle(workflowIdFor(corrId));
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound(corrId, client.options.namespace);
    throw new CliError(`cannot look up correlation ${JSON.stringify(corrId)}: ${errorMessage(error)}`);
  }
  const execution = { status: description.status.name, taskQueue: description.taskQueue };
  try {
    const state = await client.withDeadline(Date.now() + queryTimeoutMs, () => handle.query(stateQuery));
    return { state, execution };
  } catch (error) {
    if (isGrpcDeadlineError(error)) {
      throw new CliError(
        `no worker answered the state query of ${workflowIdFor(corrId)} (${execution.status}) within ${queryTimeoutMs / 1000}s: ` +
          `is the orchestrator worker running on task queue ${execution.taskQueue}?`,
      );
    }
    throw new CliError(
      `the state query of ${workflowIdFor(corrId)} (${execution.status}) failed: ${errorMessage(error)}`,
    );
  }
}

export const stateCommand: Command = {
  name: NAME,
  summary: "show a correlation's state (its workflow's state query)",
  usage: stateUsage,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandLine(NAME, {
      args: argv,
      options: { json: { type: 'boolean' } },
      allowPositionals: true,
    });
    const corrId = corrIdArgument(NAME, positionals);
    const client = await openTemporal(loadConnectionConfig(ctx.env));
    try {
      const { state, execution } = await fetchState(client, corrId);
      ctx.out(values.json ? JSON.stringify(state, null, 2) : formatState(state, execution));
    } finally {
      await client.connection.close();
    }
  },
};
