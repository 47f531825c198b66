/**
 * `orch what-if --policy <file>`: recomputes recorded correlations' decisions under another policy
 * and prints what would change. Read-only: it lists and reads workflow histories (or history
 * files); it starts no workflow and publishes nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import { payloadCodecsOf, PayloadDecryptionError } from '../../codec';
import { ConfigError, loadConnectionConfig, loadPolicyFile } from '../../config';
import { CORRELATION_STATUSES } from '../../contract/correlation-state';
import type { Policy } from '../../contract/policy';
import { HistoryFileError, historyFiles } from '../../operations/history';
import { RecordedCorrelationError } from '../../operations/recorded-correlation';
import {
  parseStatusList,
  WHAT_IF_DEFAULT_SINCE_MS,
  type WhatIfSelection,
  whatIfQuery,
} from '../../operations/visibility';
import { compareAll, type Skipped } from '../../operations/what-if/compare';
import { type RecoveredCorrelation, recoverFromTemporal, recoverFromFiles } from '../../operations/what-if/recover';
import { buildReport, formatReport, type WhatIfReport } from '../../operations/what-if/report';
import { formatDuration, parseDuration } from '../../shared/duration';
import {
  CliError,
  type Command,
  errorMessage,
  findExecutions,
  openTemporal,
  parseCommandLine,
  UsageError,
} from './common';

const NAME = 'what-if';
const DEFAULT_SHOW = 20;
const DEFAULT_LIMIT = 10_000;
const DEFAULT_REPORT_DIR = join('.cache', 'what-if');

const whatIfUsage = `
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
  --since <duration>       closed at most this long ago, such as 30m, 6h (default: ${formatDuration(WHAT_IF_DEFAULT_SINCE_MS)},
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

/** Where the JSON report goes by default: `.cache/what-if/2026-11-22T04-16-51-123Z.json`. */
function defaultReportPath(now: Date): string {
  return join(DEFAULT_REPORT_DIR, `${now.toISOString().replace(/[:.]/g, '-')}.json`);
}

/** Reads exported histories; an unreadable file or one that is not a correlation's history is bad input. */
async function recoverFiles(paths: readonly string[], codecs: readonly PayloadCodec[]) {
  try {
    const files = paths.flatMap(historyFiles);
    return { files, recovered: await recoverFromFiles(files, codecs) };
  } catch (error) {
    if (
      error instanceof HistoryFileError ||
      error instanceof RecordedCorrelationError ||
      error instanceof PayloadDecryptionError
    )
      throw new CliError(error.message, 2, { cause: error });
    throw error;
  }
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
    const selection: WhatIfSelection = {};
    if (values.query !== undefined) selection.query = values.query;
    if (values['policy-version'] !== undefined) selection.policyVersion = values['policy-version'];
    try {
      if (values.since !== undefined) selection.sinceMs = parseDuration(values.since);
    } catch (error) {
      throw new UsageError(NAME, `--since: ${errorMessage(error)}`);
    }
    try {
      if (values.status !== undefined) selection.statuses = parseStatusList(values.status, CORRELATION_STATUSES);
    } catch (error) {
      throw new UsageError(NAME, `--status: ${errorMessage(error)}`);
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
      const codecs = payloadCodecsOf(loadConnectionConfig(ctx.env).temporal.dataConverter);
      const read = await recoverFiles(histories, codecs);
      const files = read.files;
      recovered = read.recovered;
      source = { kind: 'history', paths: files };
      sourceLine = `${files.length} history file(s) in ${histories.join(', ')}`;
    } else {
      const query = whatIfQuery(selection, now);
      const client = await openTemporal(loadConnectionConfig(ctx.env));
      try {
        const { executions, total } = await findExecutions(client, query, limit);
        const truncated = total > executions.length;
        const found = await recoverFromTemporal(client, executions).catch((error: unknown) => {
          throw new CliError(errorMessage(error), 1, { cause: error });
        });
        recovered = found.recovered;
        readSkipped = found.skipped;
        source = { kind: 'query', query, limit, truncated };
        sourceLine = `${query}${truncated ? ` (stopped at --limit ${limit}: narrow the selection)` : ''}`;
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
