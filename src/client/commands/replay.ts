/**
 * `orch replay`: replays correlation histories against the current workflow code, the check a
 * worker does on every cache miss, so a change that would break correlations in flight is seen
 * before it is deployed. From Temporal (one correlation or a visibility query) or from files.
 */
import { resolve } from 'node:path';
import { type ConnectionConfig, loadConnectionConfig } from '../../config';
import {
  fetchHistory,
  type History,
  HistoryFileError,
  HistoryNotFoundError,
  historyWorkflowId,
  historyWorkflowType,
  readHistoryFile,
  writeHistoryFile,
} from '../../operations/history';
import { mapConcurrent, progressBar } from '../../operations/progress';
import type { ReplayItem, ReplayOutcome } from '../../operations/replay';
import { correlationQuery } from '../../operations/visibility';
import { WORKFLOW_TYPES, workflowIdFor } from '../../shared/correlation-api';
import {
  CliError,
  type Command,
  type CommandContext,
  errorMessage,
  findExecutions,
  openTemporal,
  parseCommandLine,
  UsageError,
} from './common';
import { corrIdArgument } from './state';

const NAME = 'replay';
const DEFAULT_REPLAY_LIMIT = 1_000;
/** Histories fetched at once for --query. */
const FETCH_CONCURRENCY = 8;

const replayUsage = `
Usage: orch replay <corr_id> [--run-id <id>] [--export <file>]
       orch replay --file <history.json> [--file <history.json> ...]
       orch replay --query '<visibility query>' [--limit <n>] [--verbose]

Replays correlation histories against the current workflow code, as a worker does when it resumes
a correlation: a history that does not replay means the code changed in a way that would break
correlations in flight (a non-deterministic change, not guarded with patched()).

  <corr_id>           the history of workflow corr-<corr_id>, fetched from Temporal
  --file <path>       a history exported with --export, \`temporal workflow show -o json\` or the
                      UI's download: replayed offline, no server needed. Repeat for several.
  --query <q>         every correlation workflow a visibility query matches, e.g.
                      'CorrelationStatus = "failed" AND StartTime > "2026-11-22T00:00:00Z"'

The workflow code is the prebuilt bundle in ORCH_WORKFLOW_BUNDLE when it is set (what the worker
runs), else the workflow sources next to this CLI (bundled first, a few seconds).

Options:
  --run-id <id>       with <corr_id>: that run instead of the latest
  --export <file>     with <corr_id>: also write the history to <file> as JSON, to debug the
                      correlation offline (orch replay --file <file>)
  --limit <n>         with --query: replay at most n workflows (default: ${DEFAULT_REPLAY_LIMIT})
  --verbose           with --query: a line for every history, not only for those that fail
  -h, --help          this help

Exit codes: 0 every history replayed; 1 a history did not replay (the error is printed), or no
such correlation; 2 bad usage, an unreadable file, or a query the server refuses.

Examples:
  orch replay evt-42
  orch replay evt-42 --export evt-42.json && orch replay --file evt-42.json
  ORCH_WORKFLOW_BUNDLE=dist/workflow-bundle.js orch replay --query 'StartTime > "2026-11-22T00:00:00Z"'
`;

interface ReplayOptions {
  corrId?: string;
  runId?: string;
  exportFile?: string;
  files: string[];
  query?: string;
  limit: number;
  verbose: boolean;
}

function parseOptions(argv: string[]): ReplayOptions {
  const { values, positionals } = parseCommandLine(NAME, {
    args: argv,
    options: {
      'run-id': { type: 'string' },
      export: { type: 'string' },
      file: { type: 'string', multiple: true },
      query: { type: 'string' },
      limit: { type: 'string' },
      verbose: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  const files = values.file ?? [];
  const sources = [positionals.length > 0, files.length > 0, values.query !== undefined].filter(Boolean).length;
  if (sources !== 1)
    throw new UsageError(
      NAME,
      sources === 0 ? 'give a <corr_id>, --file or --query' : 'give only one of <corr_id>, --file and --query',
    );
  const corrId = positionals.length > 0 ? corrIdArgument(NAME, positionals) : undefined;
  if (corrId === undefined && values['run-id'] !== undefined)
    throw new UsageError(NAME, '--run-id goes with a <corr_id>');
  if (corrId === undefined && values.export !== undefined) throw new UsageError(NAME, '--export goes with a <corr_id>');
  if (values.query === undefined && values.limit !== undefined) throw new UsageError(NAME, '--limit goes with --query');
  if (values.query !== undefined && values.query.trim() === '') throw new UsageError(NAME, '--query must not be empty');
  const limit = values.limit === undefined ? DEFAULT_REPLAY_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new UsageError(NAME, `--limit must be a whole number above 0, got ${JSON.stringify(values.limit)}`);
  return {
    corrId,
    runId: values['run-id'],
    exportFile: values.export,
    files,
    query: values.query,
    limit,
    verbose: values.verbose ?? false,
  };
}

function shortRun(runId: string | undefined): string {
  return runId ? `run ${runId}` : 'latest run';
}

/** `OK corr-x (run …): 19 events replayed` or `FAILED corr-x (…): …` with the error under it. */
function formatOutcome(outcome: ReplayOutcome): string {
  if (!outcome.error) return `OK      ${outcome.workflowId} (${outcome.source}): ${outcome.events} events replayed`;
  const what = {
    nondeterminism: 'non-deterministic against the current workflow code',
    replay: 'replay failed',
    fetch: 'not replayed',
  }[outcome.error.kind];
  return [
    `FAILED  ${outcome.workflowId} (${outcome.source}): ${outcome.events} events, ${what}`,
    ...outcome.error.message.split('\n').map((line) => `        ${line}`),
  ].join('\n');
}

/** The CliError after a batch in which some histories did not replay. */
function failedError(outcomes: readonly ReplayOutcome[]): CliError | undefined {
  const failed = outcomes.filter((o) => o.error);
  if (failed.length === 0) return undefined;
  const nondeterministic = failed.some((o) => o.error?.kind === 'nondeterminism');
  const which =
    outcomes.length === 1
      ? `${failed[0].workflowId} did not replay`
      : `${failed.length} of ${outcomes.length} histories did not replay`;
  return new CliError(
    nondeterministic
      ? `${which}: the workflow code changed in a way that is not compatible with ${outcomes.length === 1 ? 'its history' : 'them'}. ` +
          'Guard the change with patched() (see "Replay fixtures" in the README), or keep the old code running until these correlations have closed.'
      : `${which} (see above)`,
  );
}

/**
 * Replays on the configured workflow code (ORCH_WORKFLOW_BUNDLE) with the configured data converter (encrypted
 * histories decode).
 */
async function replay(
  items: AsyncIterable<ReplayItem> | Iterable<ReplayItem>,
  config: ConnectionConfig,
  onOutcome: (o: ReplayOutcome) => void,
): Promise<ReplayOutcome[]> {
  // Loaded only here: the replay worker brings the SDK's native runtime with it.
  const { replayHistories, workflowCode } = await import('../../operations/replay');
  const code = workflowCode(config.workflowBundlePath, config.temporal.dataConverter);
  const outcomes: ReplayOutcome[] = [];
  try {
    for await (const outcome of replayHistories(code, items)) {
      outcomes.push(outcome);
      onOutcome(outcome);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot replay against ${code.description}: ${errorMessage(error)}`, 1, { cause: error });
  }
  return outcomes;
}

async function replayOne(options: ReplayOptions & { corrId: string }, ctx: CommandContext): Promise<void> {
  const config = loadConnectionConfig(ctx.env);
  const client = await openTemporal(config);
  let history: History;
  try {
    history = await fetchHistory(client, workflowIdFor(options.corrId), options.runId);
  } catch (error) {
    if (error instanceof HistoryNotFoundError)
      throw new CliError(`no correlation ${JSON.stringify(options.corrId)}: ${error.message}`, 1, { cause: error });
    throw new CliError(`cannot fetch the history of ${workflowIdFor(options.corrId)}: ${errorMessage(error)}`, 1, {
      cause: error,
    });
  } finally {
    await client.connection.close();
  }
  const runId =
    options.runId ?? history.events?.[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? undefined;
  if (options.exportFile !== undefined) {
    try {
      writeHistoryFile(options.exportFile, history);
    } catch (error) {
      throw new CliError(`cannot write ${options.exportFile}: ${errorMessage(error)}`, 2, { cause: error });
    }
    ctx.out(
      `exported ${history.events?.length ?? 0} events of ${workflowIdFor(options.corrId)} (${shortRun(runId)}) to ${resolve(options.exportFile)}`,
    );
  }
  const outcomes = await replay(
    [{ workflowId: workflowIdFor(options.corrId), source: shortRun(runId), history }],
    config,
    (o) => ctx.out(formatOutcome(o)),
  );
  const failed = failedError(outcomes);
  if (failed) throw failed;
}

async function replayFiles(options: ReplayOptions, ctx: CommandContext): Promise<void> {
  // Offline: no connection, only the settings that say which workflow code to use.
  const config = loadConnectionConfig(ctx.env);
  const items: ReplayItem[] = options.files.map((file) => {
    let history: History;
    try {
      history = readHistoryFile(file);
    } catch (error) {
      throw new CliError(
        error instanceof HistoryFileError ? error.message : `cannot read ${file}: ${errorMessage(error)}`,
        2,
        { cause: error },
      );
    }
    const type = historyWorkflowType(history);
    if (type === undefined || !WORKFLOW_TYPES.includes(type)) {
      throw new CliError(
        `${file} is the history of a ${JSON.stringify(type)} workflow, not of a correlation (${WORKFLOW_TYPES.join(' or ')})`,
        2,
      );
    }
    return { workflowId: historyWorkflowId(history) ?? file, source: `file ${file}`, history };
  });
  const outcomes = await replay(items, config, (o) => ctx.out(formatOutcome(o)));
  if (outcomes.length > 1) ctx.out(summary(outcomes));
  const failed = failedError(outcomes);
  if (failed) throw failed;
}

function summary(outcomes: readonly ReplayOutcome[]): string {
  const failed = outcomes.filter((o) => o.error).length;
  return `replayed ${outcomes.length} ${outcomes.length === 1 ? 'history' : 'histories'}: ${outcomes.length - failed} ok, ${failed} failed`;
}

async function replayQuery(options: ReplayOptions & { query: string }, ctx: CommandContext): Promise<void> {
  const config = loadConnectionConfig(ctx.env);
  const client = await openTemporal(config);
  try {
    const query = correlationQuery(options.query);
    const { executions, total } = await findExecutions(client, query, options.limit);
    ctx.out(`query: ${query}`);
    if (executions.length === 0) {
      ctx.out('no correlation workflow matches: nothing to replay');
      return;
    }
    ctx.out(
      total > executions.length
        ? `replaying the newest ${executions.length} of ${total} matching workflows (--limit ${options.limit})`
        : `replaying ${executions.length} matching workflow${executions.length === 1 ? '' : 's'}`,
    );
    const progress = progressBar('replaying', executions.length, process.stderr);
    const fetchFailures: ReplayOutcome[] = [];
    const report = (outcome: ReplayOutcome): void => {
      progress.tick();
      if (outcome.error || options.verbose) ctx.out(formatOutcome(outcome));
    };
    const histories = async function* (): AsyncGenerator<ReplayItem> {
      // Fetch ahead in small batches while the replay worker works through the previous ones.
      for (let start = 0; start < executions.length; start += FETCH_CONCURRENCY) {
        const batch = executions.slice(start, start + FETCH_CONCURRENCY);
        const fetched = await mapConcurrent(
          batch,
          FETCH_CONCURRENCY,
          async (execution): Promise<ReplayItem | undefined> => {
            const source = shortRun(execution.runId);
            try {
              return {
                workflowId: execution.workflowId,
                source,
                history: await fetchHistory(client, execution.workflowId, execution.runId),
              };
            } catch (error) {
              const failure: ReplayOutcome = {
                workflowId: execution.workflowId,
                source,
                events: 0,
                error: { kind: 'fetch', message: `cannot fetch its history: ${errorMessage(error)}` },
              };
              fetchFailures.push(failure);
              report(failure);
              return undefined;
            }
          },
        );
        for (const item of fetched) if (item) yield item;
      }
    };
    const outcomes = [...(await replay(histories(), config, report)), ...fetchFailures];
    progress.done();
    ctx.out(summary(outcomes));
    const failed = failedError(outcomes);
    if (failed) throw failed;
  } finally {
    await client.connection.close();
  }
}

export const replayCommand: Command = {
  name: NAME,
  summary: 'replay correlation histories against the current workflow code',
  usage: replayUsage,
  async run(argv, ctx) {
    const options = parseOptions(argv);
    if (options.corrId !== undefined) await replayOne({ ...options, corrId: options.corrId }, ctx);
    else if (options.query !== undefined) await replayQuery({ ...options, query: options.query }, ctx);
    else await replayFiles(options, ctx);
  },
};
