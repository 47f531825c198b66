/**
 * `orch what-if --policy <file>`: recomputes recorded correlations' decisions under another policy
 * and prints what would change. Read-only: it lists and reads workflow histories (or history
 * files); it starts no workflow and publishes nothing.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Client, isGrpcServiceError, type WorkflowExecutionInfo } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { decodeHistory, payloadCodecsOf, PayloadDecryptionError } from '../../codec';
import { ConfigError, loadConfig, loadPolicyFile } from '../../config';
import type { Policy } from '../../contract/policy';
import { compareCorrelation, type CorrelationDiff, isSkipped, type Skipped } from '../../whatif/compare';
import { HistoryError, type RecoveredCorrelation, recoverCorrelation } from '../../whatif/history';
import { DEFAULT_SINCE_MS, parseStatuses, quoteValue, type Selection, visibilityQuery } from '../../whatif/query';
import { buildReport, formatReport, type WhatIfReport } from '../../whatif/report';
import { fetchDecodedHistory } from '../../operations/history';
import { formatDuration, parseDuration } from '../../shared/duration';
import { CliError, type Command, errorMessage, openTemporal, parseCommandLine, UsageError } from './common';

const NAME = 'what-if';
export const DEFAULT_SHOW = 20;
export const DEFAULT_LIMIT = 10_000;
/** Histories read from Temporal at once. */
export const HISTORY_CONCURRENCY = 8;
export const DEFAULT_REPORT_DIR = join('.cache', 'what-if');

export const whatIfUsage = `
Usage: orch what-if --policy <file> [--since <duration>] [--status <list>] [--policy-version <v>] [--query <q>]
       orch what-if --policy <file> --history <file-or-dir> [--history …]

Recomputes the decisions of recorded correlations under another policy, with the orchestrator's
own decision rules, and prints what would change: how many actions change and from what to what,
route changes, the confidence shift, and the first changed correlations. A JSON report lists every
correlation's old and new action, confidence and route.

It reads only: the recorded signals and decision come from each workflow's history (the
agentSignal signals, the first per agent as the workflow keeps them, and the workflow's result).
No workflow is started and nothing is published. The signals are the ones each correlation decided
on: a policy with another timeout or other expected agents is not re-simulated in time.

As a check, each correlation is also recomputed under the policy it was decided with (recorded in
its history): "baseline" says how many give their recorded decision back.

Which correlations (a visibility query over closed correlation workflows, ANDed together):
  --since <duration>       closed at most this long ago, such as 30m, 6h (default: ${formatDuration(DEFAULT_SINCE_MS)},
                           unless --query is given)
  --status <list>          CorrelationStatus: completed, timed_out, failed (comma-separated)
  --policy-version <v>     PolicyVersion: decided under this policy version
  --query <query>          any visibility query, e.g. 'Instrument = "BTC/USD" AND DecisionAction = "monitor"'
  --limit <n>              read at most this many correlations (default: ${DEFAULT_LIMIT})
Or from exported histories instead of Temporal:
  --history <path>         a history file (temporal workflow show -w corr-<id> -o json > corr.json) or a
                           folder of them (*.json); repeatable

Options:
  --policy <file>          the policy to try (JSON, schemas/policy.schema.json); required
  --show <n>               list the first n changed correlations (default: ${DEFAULT_SHOW}; 0 for none)
  --json-out <file>        where to write the JSON report (default: ${DEFAULT_REPORT_DIR}/<timestamp>.json)
  -h, --help               this help

Exit codes: 0 compared (whatever changed); 1 Temporal unreachable, or no correlation found; 2 bad
usage, a bad policy (the error names the field), a bad query or an unreadable history file.

Examples:
  orch what-if --policy policy-v2.json
  orch what-if --policy policy-v2.json --since 1h --status timed_out,completed --show 50
  orch what-if --policy policy-v2.json --query 'Instrument = "BTC/USD"' --json-out btc.json
  orch what-if --policy policy-v2.json --history test/fixtures/histories/
`;

/** The history files a --history path names: the file, or the folder's *.json files (not recursive), sorted. */
export function historyFiles(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (error) {
    throw new CliError(`cannot read history ${path}: ${errorMessage(error)}`, 2);
  }
  if (!isDir) return [path];
  const files = readdirSync(path)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(path, name))
    .filter((file) => statSync(file).isFile());
  if (files.length === 0) throw new CliError(`no history files (*.json) in ${path}`, 2);
  return files;
}

/**
 * Reads one exported history, its payloads decoded through `codecs` (an export of an encrypted
 * history is encrypted); a file that is not a correlation's history is an input error.
 */
export async function readHistoryFile(
  file: string,
  codecs: readonly PayloadCodec[] = [],
): Promise<RecoveredCorrelation> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read history file ${file}: ${errorMessage(error)}`, 2);
  }
  try {
    return recoverCorrelation(await decodeHistory(historyFromJSON(json), codecs), file);
  } catch (error) {
    if (error instanceof HistoryError) throw new CliError(error.message, 2);
    if (error instanceof PayloadDecryptionError) throw new CliError(`${file}: ${error.message}`, 2);
    throw new CliError(
      `${file}: not a workflow history as \`temporal workflow show -o json\` exports it: ${errorMessage(error)}`,
      2,
    );
  }
}

/** Maps `items` with at most `concurrency` calls in flight, keeping their order. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The correlations a visibility query finds, read from their histories: listing and reading only. */
export async function recoverFromTemporal(
  client: Client,
  query: string,
  limit: number,
): Promise<{ recovered: RecoveredCorrelation[]; skipped: Skipped[]; truncated: boolean }> {
  const infos: WorkflowExecutionInfo[] = [];
  let truncated = false;
  try {
    for await (const info of client.workflow.list({ query })) {
      if (infos.length >= limit) {
        truncated = true;
        break;
      }
      infos.push(info);
    }
  } catch (error) {
    // 3: INVALID_ARGUMENT, e.g. a syntax error or a search attribute the namespace does not know.
    const cause = (error as Error).cause;
    if ((isGrpcServiceError(error) && error.code === 3) || (isGrpcServiceError(cause) && cause.code === 3)) {
      throw new CliError(`invalid visibility query: ${errorMessage(error)}\n  query: ${query}`, 2);
    }
    throw new CliError(`listing correlations failed: ${errorMessage(error)}`);
  }
  const skipped: Skipped[] = [];
  const recovered = await mapConcurrently(infos, HISTORY_CONCURRENCY, async (info) => {
    try {
      const history = await fetchDecodedHistory(client, info.workflowId, info.runId);
      return recoverCorrelation(history, `${info.workflowId} (run ${info.runId})`, info.runId);
    } catch (error) {
      if (!(error instanceof HistoryError))
        throw new CliError(
          `reading the history of ${info.workflowId} (run ${info.runId}) failed: ${errorMessage(error)}`,
        );
      skipped.push({
        workflow_id: info.workflowId,
        run_id: info.runId,
        reason: `unreadable history: ${error.message}`,
      });
      return undefined;
    }
  });
  return { recovered: recovered.filter((r): r is RecoveredCorrelation => r !== undefined), skipped, truncated };
}

/** Compares every recovered correlation under `policy`. */
export function compareAll(
  recovered: readonly RecoveredCorrelation[],
  policy: Policy,
): { diffs: CorrelationDiff[]; skipped: Skipped[] } {
  const diffs: CorrelationDiff[] = [];
  const skipped: Skipped[] = [];
  for (const correlation of recovered) {
    const result = compareCorrelation(correlation, policy);
    if (isSkipped(result)) skipped.push(result);
    else diffs.push(result);
  }
  return { diffs, skipped };
}

/** Where the JSON report goes by default: `.cache/what-if/2026-11-22T04-16-51-123Z.json`. */
export function defaultReportPath(now: Date): string {
  return join(DEFAULT_REPORT_DIR, `${now.toISOString().replace(/[:.]/g, '-')}.json`);
}

function nonNegativeInt(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new UsageError(NAME, `${flag}: expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

export const whatIfCommand: Command = {
  name: NAME,
  summary: 'recompute recorded decisions under another policy and show what changes',
  usage: whatIfUsage,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandLine(NAME, {
      args: argv,
      options: {
        policy: { type: 'string' },
        history: { type: 'string', multiple: true },
        query: { type: 'string' },
        since: { type: 'string' },
        status: { type: 'string' },
        'policy-version': { type: 'string' },
        limit: { type: 'string', default: String(DEFAULT_LIMIT) },
        show: { type: 'string', default: String(DEFAULT_SHOW) },
        'json-out': { type: 'string' },
      },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(NAME, `unexpected argument: ${positionals.join(' ')}`);
    if (values.policy === undefined) throw new UsageError(NAME, 'missing --policy <file>: the policy to try');
    const histories = values.history ?? [];
    const selectionFlags = (['query', 'since', 'status', 'policy-version'] as const).filter(
      (flag) => values[flag] !== undefined,
    );
    if (histories.length > 0 && selectionFlags.length > 0) {
      throw new UsageError(
        NAME,
        `--history reads exported files; it does not combine with --${selectionFlags.join(', --')}`,
      );
    }
    const show = nonNegativeInt('--show', values.show);
    const limit = nonNegativeInt('--limit', values.limit);
    if (limit === 0) throw new UsageError(NAME, '--limit must be at least 1');
    const selection: Selection = {};
    try {
      if (values.query !== undefined) selection.query = values.query;
      if (values.since !== undefined) selection.sinceMs = parseDuration(values.since);
      if (values.status !== undefined) selection.statuses = parseStatuses(values.status);
      const policyVersion = values['policy-version'];
      if (policyVersion !== undefined) {
        quoteValue(policyVersion, '--policy-version');
        selection.policyVersion = policyVersion;
      }
    } catch (error) {
      throw new UsageError(NAME, errorMessage(error));
    }

    let policy: Policy;
    try {
      policy = loadPolicyFile(values.policy);
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message, 2);
      throw error;
    }

    const now = new Date();
    let recovered: RecoveredCorrelation[];
    let readSkipped: Skipped[] = [];
    let source: WhatIfReport['source'];
    let sourceLine: string;
    if (histories.length > 0) {
      const files = histories.flatMap(historyFiles);
      const codecs = payloadCodecsOf(loadConfig(ctx.env).temporal.dataConverter);
      recovered = [];
      for (const file of files) recovered.push(await readHistoryFile(file, codecs));
      source = { kind: 'history', paths: files };
      sourceLine = `${files.length} history file(s) in ${histories.join(', ')}`;
    } else {
      const query = visibilityQuery(selection, now);
      const client = await openTemporal(loadConfig(ctx.env));
      try {
        const found = await recoverFromTemporal(client, query, limit);
        recovered = found.recovered;
        readSkipped = found.skipped;
        source = { kind: 'query', query, limit, truncated: found.truncated };
        sourceLine = `${query}${found.truncated ? ` (stopped at --limit ${limit}: narrow the selection)` : ''}`;
      } finally {
        await client.connection.close();
      }
      if (recovered.length + readSkipped.length === 0) {
        throw new CliError(
          `no closed correlation matches the query: ${query}\n  widen --since, or check --status, --policy-version and --query`,
        );
      }
    }

    const { diffs, skipped } = compareAll(recovered, policy);
    const report = buildReport(
      diffs,
      [...readSkipped, ...skipped],
      { version: policy.version, file: values.policy },
      source,
      now,
    );
    const reportPath = values['json-out'] ?? defaultReportPath(now);
    try {
      mkdirSync(dirname(resolve(reportPath)), { recursive: true });
      writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    } catch (error) {
      throw new CliError(`cannot write the JSON report to ${reportPath}: ${errorMessage(error)}`, 2);
    }
    ctx.out(formatReport(report, { show, sourceLine, reportPath }));
  },
};
