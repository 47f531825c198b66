/**
 * Replays real histories of finished correlations (test/fixtures/histories, recorded by
 * `npm run fixtures:record`) against the current workflow code: a change that would break
 * correlations in flight fails here, before it reaches a worker.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { HISTORY_FIXTURES_DIR, WORKFLOW_BUNDLE_PATH } from './support/paths';

/**
 * The current shape's histories in v5/ (correlationWorkflowV5: per-agent waiting, and the agents'
 * circuit breaker), the fourth in v4/ (correlationWorkflowV4, started with its first messages in
 * its input), the third shape's in v3/ (started by signal-with-start), the second shape's in v2/
 * (correlationWorkflowV2); the first shape's at the top (correlationWorkflow), with those recorded
 * before its `publish-local-v1` patch in pre-local-publish/ and before its `visibility-v1` patch in
 * pre-visibility/.
 */
const fixtures = readdirSync(HISTORY_FIXTURES_DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort();

function histories() {
  return fixtures.map((file) => ({
    workflowId: file,
    history: JSON.parse(readFileSync(join(HISTORY_FIXTURES_DIR, file), 'utf8')),
  }));
}

describe('replay of recorded correlations', () => {
  it('has fixtures of every path of each shape, and of the first shape before each of its patches', () => {
    const paths = [
      'full-fan-in.json',
      'risk-first-with-duplicates.json',
      'timeout-insufficient-data.json',
      'timeout-partial-decision.json',
    ];
    const batched = ['v2', 'v3', 'v4', 'v5'].flatMap((dir) =>
      [...paths, 'redrive.json', 'single-signals.json', 'spread-fan-in.json'].map((p) => join(dir, p)),
    );
    const perAgent = [
      'agent-deadline.json',
      'optional-agent.json',
      'decisive-signal.json',
      'degraded-agent.json',
      'breaker-open-half-open-closed.json',
    ].map((p) => join('v5', p));
    expect(fixtures).toEqual(
      [
        ...paths,
        ...['pre-local-publish', 'pre-visibility'].flatMap((dir) => paths.map((p) => join(dir, p))),
        ...batched,
        ...perAgent,
      ].sort(),
    );
  });

  it('replays every recorded history against the current workflow code', async () => {
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } },
      histories(),
    )) {
      results.push({ workflowId: result.workflowId, error: result.error?.message });
    }
    expect(results).toEqual(fixtures.map((workflowId) => ({ workflowId, error: undefined })));
  });

  it('catches a non-deterministic change to the workflow', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/nondeterministic-workflow'),
    });
    const errors = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { code } }, histories()))
      errors.push(result.error);
    expect(errors).toHaveLength(fixtures.length);
    for (const error of errors) expect(error).toBeInstanceOf(DeterminismViolationError);
  });
});
