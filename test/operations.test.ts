/**
 * The operator commands' parts that need no server: the queries they build, how they read times
 * and recorded histories, and their usage (the compiled CLI, run as a child process). Their
 * end-to-end cases are test/e2e/operations.cases.ts.
 */
import { join } from 'node:path';
import { readHistoryFile } from '../src/operations/history';
import { firstSignalPerAgent, readRecordedCorrelation } from '../src/operations/recorded-correlation';
import { correlationQuery, parseTimeBound, redriveQuery } from '../src/operations/visibility';
import { parseDuration } from '../src/shared/duration';
import { HISTORY_FIXTURES_DIR } from './support/paths';
import { runOrch } from './support/run-command';

describe('building blocks', () => {
  it('builds the re-drive query from the flags, grouping every OR', () => {
    expect(
      redriveQuery({
        statuses: ['failed', 'terminated'],
        since: new Date(0),
        until: new Date(1_000),
        route: 'r',
        action: 'a',
        instrument: 'BTC/USD',
        query: 'PolicyVersion = "x" OR PolicyVersion = "y"',
      }),
    ).toBe(
      'WorkflowType IN ("correlationWorkflow", "correlationWorkflowV2", "correlationWorkflowV3", "correlationWorkflowV4", "correlationWorkflowV5") AND ExecutionStatus != "Running" AND (CorrelationStatus = "failed" OR ExecutionStatus = "Failed" OR ExecutionStatus = "Terminated") ' +
        'AND StartTime >= "1970-01-01T00:00:00.000Z" AND StartTime < "1970-01-01T00:00:01.000Z" AND DecisionRoute = "r" AND DecisionAction = "a" AND Instrument = "BTC/USD" ' +
        'AND (PolicyVersion = "x" OR PolicyVersion = "y")',
    );
    expect(correlationQuery('(a = "x)") OR (b = 1)')).toBe(
      'WorkflowType IN ("correlationWorkflow", "correlationWorkflowV2", "correlationWorkflowV3", "correlationWorkflowV4", "correlationWorkflowV5") AND ((a = "x)") OR (b = 1))',
    );
    expect(correlationQuery('(a = 1 OR b = 2)')).toBe(
      'WorkflowType IN ("correlationWorkflow", "correlationWorkflowV2", "correlationWorkflowV3", "correlationWorkflowV4", "correlationWorkflowV5") AND (a = 1 OR b = 2)',
    );
  });

  it('reads --since as a duration ago or an ISO time', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    expect(parseTimeBound('90m', now, parseDuration).toISOString()).toBe('2026-11-22T10:30:00.000Z');
    expect(parseTimeBound('2026-11-22T08:00:00Z', now, parseDuration).toISOString()).toBe('2026-11-22T08:00:00.000Z');
    expect(() => parseTimeBound('2026-13-45', now, parseDuration)).toThrow('invalid time "2026-13-45"');
  });

  it('reads the signals a re-drive needs from a recorded history: the first per agent, as the workflow kept them', () => {
    const file = join(HISTORY_FIXTURES_DIR, 'risk-first-with-duplicates.json');
    const run = readRecordedCorrelation(readHistoryFile(file), file);
    expect(run.corrId).toBe('fixture-risk-first-with-duplicates');
    expect(run.received).toBe(4);
    expect(firstSignalPerAgent(run).map((s) => [s.signal.agent_name, s.message_id])).toEqual([
      ['risk', '5'],
      ['momentum', '6'],
    ]);
  });
});

describe('usage', () => {
  it.each([
    ['replay', ['Usage: orch replay <corr_id>', '--file', '--export', '--query', '--run-id', 'ORCH_WORKFLOW_BUNDLE']],
    [
      'redrive',
      [
        'Usage: orch redrive',
        '--status',
        '--since',
        '--route',
        '--action',
        '--dry-run',
        '--yes',
        'corr-<corr_id>-redrive-<n>',
      ],
    ],
    ['status', ['Usage: orch status', '--json', 'bridge consumer', 'DLQ']],
  ])('`orch %s --help` explains it, with options and examples', async (command, texts) => {
    const run = await runOrch([command, '--help']);
    expect(run.status).toBe(0);
    for (const text of [...texts, 'Options:', 'Examples:', `  orch ${command}`]) expect(run.stdout).toContain(text);
  });

  it('lists the three commands in `orch --help`', async () => {
    const run = await runOrch(['--help']);
    expect(run.stdout).toMatch(/^ {2}replay +replay correlation histories/m);
    expect(run.stdout).toMatch(/^ {2}redrive +run failed or timed-out correlations again/m);
    expect(run.stdout).toMatch(/^ {2}status +health of the deployment/m);
  });

  it.each([
    [['replay'], 'give a <corr_id>, --file or --query'],
    [['replay', 'x', '--query', 'a'], 'give only one of <corr_id>, --file and --query'],
    [['redrive', '--status', 'failed,lost'], '--status: unknown status "lost"'],
    [['redrive', '--since', 'yesterday'], '--since: invalid duration "yesterday"'],
  ])('refuses %j with exit code 2', async (args, message) => {
    const run = await runOrch(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`error: ${message}`);
  });
});
