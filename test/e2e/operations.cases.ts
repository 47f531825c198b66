/**
 * The operator commands, as people run them: `orch replay`, `orch redrive` and `orch status` from
 * the compiled CLI as a child process, against the whole orchestrator (either engine, with
 * the search attributes, nats-server, worker and bridge processes).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { progressLine } from '../../src/operations/progress';
import { agentSignal, workflowIdFor } from '../../src/shared/correlation-api';
import { storedDecisions } from '../support/decisions';
import type { EngineKind } from '../../src/devstack/local-stack';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { envelope, momentum, risk, uniqueCorrId } from '../support/signals';
import { WORKFLOW_BUNDLE_PATH } from '../support/paths';
import { runOrch, type CommandRun } from '../support/run-command';

/**
 * The operator commands' end-to-end cases, on one engine (test/e2e/operations.test.ts: dev;
 * test/cluster/operations.test.ts: cluster).
 */
export function operationsCases(engine: EngineKind): void {
  const TIMEOUT_MS = 3_000;
  const workDir = mkdtempSync(join(tmpdir(), 'orch-ops-'));
  const ignore = (): void => undefined;
  const quietLogger = { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };
  let stack: E2EStack;
  let env: Record<string, string>;

  /** Runs the compiled CLI with the stack's settings (and `extraEnv`). */
  function runCli(args: string[], extraEnv: Record<string, string> = {}): Promise<CommandRun> {
    return runOrch(args, { ...env, ...extraEnv });
  }

  /**
   * A correlation decided end to end: momentum and risk published on NATS, as agents do; returned
   * once its run has closed. The decision is published a moment before the run completes, and a
   * history read in between is shorter (and replays against any code, having no command yet).
   */
  async function decidedCorrelation(prefix: string): Promise<string> {
    const corrId = uniqueCorrId(prefix);
    await stack.publish(
      'momentum',
      momentum(corrId, { trend_direction: 'bullish', momentum_strength: 0.78, confidence: 0.85 }),
    );
    await stack.publish('risk', risk(corrId));
    await stack.decisionsFor(corrId);
    const handle = stack.client.workflow.getHandle(workflowIdFor(corrId));
    await waitFor(`the run of ${corrId} to close`, async () =>
      (await handle.describe()).status.name === 'COMPLETED' ? true : undefined,
    );
    return corrId;
  }

  /**
   * A correlation whose workflow fails on purpose: a policy override it refuses (InvalidPolicy), after recording a
   * momentum signal.
   */
  async function failedCorrelation(corrId: string): Promise<string> {
    const handle = await stack.client.workflow.signalWithStart('correlationWorkflow', {
      workflowId: workflowIdFor(corrId),
      taskQueue: 'orchestrator',
      args: [{ corr_id: corrId, policy: { version: 'bad', timeout_ms: -1 } }],
      signal: agentSignal,
      signalArgs: [envelope(momentum(corrId), `m-${corrId}`)],
    });
    await expect(handle.result()).rejects.toThrow('Workflow execution failed');
    return handle.signaledRunId;
  }

  async function exists(workflowId: string): Promise<boolean> {
    try {
      await stack.client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  beforeAll(async () => {
    stack = await startE2EStack({ version: 'ops-1', timeout_ms: TIMEOUT_MS }, {}, { engine });
    env = { TEMPORAL_ADDRESS: stack.temporalAddress, NATS_URL: stack.natsUrl };
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  });

  describe('orch replay', () => {
    let corrId: string;
    let events: number;

    beforeAll(async () => {
      corrId = await decidedCorrelation('ops-replay');
      events = (await stack.client.workflow.getHandle(workflowIdFor(corrId)).fetchHistory()).events!.length;
    });

    it('replays a decided correlation against the current workflow code: OK with its event count', async () => {
      const run = await runCli(['replay', corrId]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout.trim()).toMatch(
        new RegExp(`^OK +corr-${corrId} \\(run [0-9a-f-]{36}\\): ${events} events replayed$`),
      );
    });

    it('--export writes the history; --file replays that file offline, with no server', async () => {
      const file = join(workDir, `${corrId}.json`);
      const exported = await runCli(['replay', corrId, '--export', file]);
      expect(exported.status).toBe(0);
      expect(exported.stdout).toContain(`exported ${events} events of corr-${corrId} (run `);
      const json = JSON.parse(readFileSync(file, 'utf8')) as { events: Array<{ eventType: string }> };
      expect(json.events).toHaveLength(events);
      expect(json.events[0].eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');

      const offline = await runCli(['replay', '--file', file], {
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        NATS_URL: 'nats://127.0.0.1:1',
      });
      expect(offline.stderr).toBe('');
      expect(offline.status).toBe(0);
      expect(offline.stdout.trim()).toBe(`OK      corr-${corrId} (file ${file}): ${events} events replayed`);
    });

    it('fails with the nondeterminism error, exit 1, against a deliberately changed workflow', async () => {
      const { code } = await bundleWorkflowCode({
        workflowsPath: require.resolve('../fixtures/nondeterministic-workflow'),
        logger: quietLogger,
      });
      const bundle = join(workDir, 'nondeterministic-bundle.js');
      writeFileSync(bundle, code);

      const run = await runCli(['replay', corrId], { ORCH_WORKFLOW_BUNDLE: bundle });
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(
        new RegExp(
          `^FAILED +corr-${corrId} \\(run [0-9a-f-]{36}\\): ${events} events, non-deterministic against the current workflow code$`,
          'm',
        ),
      );
      expect(run.stdout).toContain('DeterminismViolationError: Replay failed with a nondeterminism error.');
      expect(run.stdout).toContain('[TMPRL1100] Nondeterminism error');
      expect(run.stderr.trim()).toBe(
        `error: corr-${corrId} did not replay: the workflow code changed in a way that is not compatible with its history. ` +
          'Guard the change with patched() (see "Replay fixtures" in the README), or keep the old code running until these correlations have closed.',
      );
    });

    it('--query replays every correlation a visibility query matches and sums up', async () => {
      const other = await decidedCorrelation('ops-replay-q');
      const query = `WorkflowId = "corr-${corrId}" OR WorkflowId = "corr-${other}"`;
      const run = await runCli(['replay', '--query', query, '--verbose'], {
        ORCH_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(
        `query: WorkflowType IN ("correlationWorkflow", "correlationWorkflowV2", "correlationWorkflowV3", "correlationWorkflowV4", "correlationWorkflowV5") AND (${query})\n`,
      );
      expect(run.stdout).toContain('replaying 2 matching workflows');
      expect(run.stdout).toMatch(new RegExp(`^OK +corr-${corrId} \\(run `, 'm'));
      expect(run.stdout).toMatch(new RegExp(`^OK +corr-${other} \\(run `, 'm'));
      expect(run.stdout.trim().split('\n').at(-1)).toBe('replayed 2 histories: 2 ok, 0 failed');
    });

    it('says so, exit 1, for a correlation that does not exist', async () => {
      const run = await runCli(['replay', 'ops-nobody']);
      expect(run.status).toBe(1);
      expect(run.stderr.trim()).toBe(
        'error: no correlation "ops-nobody": workflow corr-ops-nobody does not exist in namespace default',
      );
    });
  });

  describe('orch redrive', () => {
    it('finds a correlation that failed on purpose (the dry run starts nothing), then re-drives it under a new id that links back', async () => {
      const since = new Date(Date.now() - 1_000).toISOString();
      const corrId = uniqueCorrId('ops-fail');
      const failedRun = await failedCorrelation(corrId);
      const newId = `corr-${corrId}-redrive-1`;

      const dry = await runCli(['redrive', '--status', 'failed', '--since', since, '--dry-run']);
      expect(dry.stderr).toBe('');
      expect(dry.status).toBe(0);
      expect(dry.stdout).toContain(
        `query: WorkflowType IN ("correlationWorkflow", "correlationWorkflowV2", "correlationWorkflowV3", "correlationWorkflowV4", "correlationWorkflowV5") AND ExecutionStatus != "Running" AND (CorrelationStatus = "failed" OR ExecutionStatus = "Failed") AND StartTime >= "${since}"`,
      );
      expect(dry.stdout).toContain('found 1 correlation (1 run): 1 to re-drive, 0 skipped');
      expect(dry.stdout).toMatch(
        new RegExp(`^${corrId} +corr-${corrId} ${failedRun} +failed/FAILED +momentum +would start ${newId}$`, 'm'),
      );
      expect(dry.stdout.trim().split('\n').at(-1)).toBe('dry run: nothing started. 1 correlation would be re-driven.');
      expect(await exists(newId)).toBe(false);

      const run = await runCli(['redrive', '--status', 'failed', '--since', since]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(
        new RegExp(`^${corrId} +corr-${corrId} ${failedRun} +failed/FAILED +momentum +started ${newId}$`, 'm'),
      );
      expect(run.stdout.trim().split('\n').at(-1)).toBe(
        're-driven: 1 started, 0 skipped, 0 failed (task queue orchestrator)',
      );

      // Its decision is published as a second one for the correlation, linked to the failed run.
      const [stored, ...extra] = await stack.decisionsFor(corrId);
      expect(extra).toEqual([]);
      expect(stored.msgId).toBe(`${corrId}:${newId}`);
      expect(stored.decision.redrive_of).toEqual({ workflow_id: `corr-${corrId}`, run_id: failedRun });
      expect(stored.decision.provenance?.map((p) => [p.agent, p.message_id])).toEqual([['momentum', `m-${corrId}`]]);
      const description = await stack.client.workflow.getHandle(newId).describe();
      expect(description.status.name).toBe('COMPLETED');
      expect(description.memo?.redrive_of).toEqual({ workflow_id: `corr-${corrId}`, run_id: failedRun });

      // Run again, it leaves the correlation alone: it has a completed re-drive.
      const again = await runCli(['redrive', '--status', 'failed', '--since', since]);
      expect(again.status).toBe(0);
      expect(again.stdout).toContain(`skip: already re-driven: ${newId} completed`);
      expect(again.stdout.trim().split('\n').at(-1)).toBe(
        're-driven: 0 started, 1 skipped, 0 failed (task queue orchestrator)',
      );
      expect(await exists(`corr-${corrId}-redrive-2`)).toBe(false);
    });

    it('re-drives a timed-out correlation, which decides at once on its recorded signals: no timer', async () => {
      const corrId = uniqueCorrId('ops-timeout');
      const seq = await stack.publish(
        'momentum',
        momentum(corrId, { confidence: 0.8 }, { source_signal: { instrument: 'BTC/USD' } }),
      );
      const [original] = await stack.decisionsFor(corrId);
      expect(original.decision).toMatchObject({ decision: { action: 'insufficient_data' }, missing_agents: ['risk'] });
      const query = `CorrelationId = "${corrId}"`;
      await waitFor('the timed-out status in visibility', async () => {
        for await (const w of stack.client.workflow.list({ query: `${query} AND CorrelationStatus = "timed_out"` }))
          return w;
        return undefined;
      });

      const run = await runCli(['redrive', '--status', 'timed_out', '--instrument', 'BTC/USD', '--query', query]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const newId = `corr-${corrId}-redrive-1`;
      expect(run.stdout).toMatch(
        new RegExp(`^${corrId} +corr-${corrId} [0-9a-f-]{36} +timed_out/COMPLETED +momentum +started ${newId}$`, 'm'),
      );

      const decisions = await stack.decisionsFor(corrId, 2);
      expect(decisions).toHaveLength(2);
      const redriven = decisions[1];
      expect(redriven.msgId).toBe(`${corrId}:${newId}`);
      expect(redriven.decision.redrive_of?.workflow_id).toBe(`corr-${corrId}`);
      expect(redriven.decision.provenance?.map((p) => p.message_id)).toEqual([String(seq)]);
      const handle = stack.client.workflow.getHandle(newId);
      const started = (await handle.describe()).startTime.getTime();
      // Decided before its own partial-data timer could have fired, and it never started one.
      expect(Date.parse(redriven.decision.orchestrated_at) - started).toBeLessThan(TIMEOUT_MS);
      const history = await handle.fetchHistory();
      expect(history.events!.some((e) => e.timerStartedEventAttributes)).toBe(false);
    });

    it('asks for --yes above 10 correlations, then re-drives a batch of 20 with progress on stderr', async () => {
      const prefix = uniqueCorrId('ops-batch');
      const corrIds = Array.from({ length: 20 }, (_, i) => `${prefix}-${i}`);
      await Promise.all(corrIds.map((c) => failedCorrelation(c)));
      const args = ['redrive', '--query', `WorkflowId STARTS_WITH "corr-${prefix}-"`];
      await waitFor('visibility to list the 20 failed runs', async () =>
        (await stack.client.workflow.count(`WorkflowId STARTS_WITH "corr-${prefix}-" AND ExecutionStatus = "Failed"`))
          .count === 20
          ? true
          : undefined,
      );

      const refused = await runCli(args);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain(
        'error: 20 correlations would be re-driven: add --yes to start them (more than 10 need confirming), or --dry-run to review them',
      );
      expect(refused.stdout).toContain('found 20 correlations (20 runs): 20 to re-drive, 0 skipped');
      expect((await stack.client.workflow.count(`WorkflowId STARTS_WITH "corr-${prefix}-0-redrive-"`)).count).toBe(0);

      const run = await runCli([...args, '--yes']);
      expect(run.status).toBe(0);
      expect(run.stdout.trim().split('\n').at(-1)).toBe(
        're-driven: 20 started, 0 skipped, 0 failed (task queue orchestrator)',
      );
      for (const c of corrIds) expect(run.stdout).toContain(`started corr-${c}-redrive-1`);
      // Not a terminal: a line at every 10%.
      const bars = run.stderr.trim().split('\n');
      expect(bars.filter((l) => l.startsWith('reading histories ['))).toHaveLength(10);
      expect(bars.filter((l) => l.startsWith('re-driving ['))).toHaveLength(10);
      expect(bars).toContain(progressLine('re-driving', 4, 20));
      expect(progressLine('re-driving', 4, 20)).toBe('re-driving [######........................] 4/20');
      expect(bars.at(-1)).toBe('re-driving [##############################] 20/20');

      await waitFor('the 20 re-driven decisions', async () => {
        const redriven = (await storedDecisions(stack.nats.jsm)).filter(
          (d) => d.decision.corr_id.startsWith(prefix) && d.decision.redrive_of,
        );
        return redriven.length === 20 ? redriven : undefined;
      });
    });
  });

  describe('orch status', () => {
    it('shows Temporal, the pollers, the streams, the bridge consumer and the DLQ; exit 0; --json parses', async () => {
      await stack.publish('risk', 'not json at all');
      await waitFor('the DLQ entry', async () => ((await stack.dlqEntries()).length > 0 ? true : undefined));

      const run = await runCli(['status']);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const out = run.stdout;
      expect(out).toMatch(/^CHECK +STATUS +DETAIL$/m);
      expect(out).toMatch(
        new RegExp(
          `^temporal +ok +${stack.temporalAddress}, namespace default: SERVING, server \\d+\\.\\d+\\.\\d+$`,
          'm',
        ),
      );
      expect(out).toMatch(/^search attributes +ok +8 of 8 registered$/m);
      expect(out).toMatch(/^workflow pollers +ok +1 poller on orchestrator; backlog \d+/m);
      expect(out).toMatch(/^activity pollers +ok +1 poller on orchestrator; backlog \d+/m);
      expect(out).toMatch(new RegExp(`^ +${stack.worker.pid}@\\S+ +last poll (\\d+\\.\\ds|\\d+m) ago$`, 'm'));
      expect(out).toMatch(
        new RegExp(`^nats +ok +${stack.natsUrl.split(',').join(', ')}, server \\d+\\.\\d+\\.\\d+, JetStream on$`, 'm'),
      );
      expect(out).toMatch(/^SIGNALS stream +ok +\d+ messages \(/m);
      expect(out).toMatch(
        /^bridge consumer +ok +orchestrator-bridge: \d+ pending, \d+ ack pending, \d+ redelivered, \d+ waiting pulls?$/m,
      );
      expect(out).toMatch(/^DECISIONS stream +ok +\d+ messages \(/m);
      expect(out).toMatch(
        new RegExp(
          `^DLQ +warn +1 message in SIGNALS_DLQ; last 1 by reason: not_json 1${engine === 'cluster' ? '; R3, leader nats-\\d, replicas nats-\\d current, nats-\\d current' : ''}$`,
          'm',
        ),
      );
      expect(out.trim().split('\n').at(-1)).toBe('status: OK (1 warning)');

      const json = await runCli(['status', '--json']);
      expect(json.status).toBe(0);
      const report = JSON.parse(json.stdout);
      expect(report).toMatchObject({
        ok: true,
        problems: [],
        temporal: {
          reachable: true,
          health: 'SERVING',
          namespace: 'default',
          search_attributes: { missing: [] },
          task_queue: { name: 'orchestrator' },
        },
        nats: {
          reachable: true,
          jetstream: true,
          bridge_consumer: { name: 'orchestrator-bridge' },
          dlq_reasons: { sampled: 1, by_reason: { not_json: 1 } },
        },
      });
      expect(report.temporal.task_queue.workflow.pollers).toEqual([
        expect.objectContaining({ identity: expect.stringMatching(new RegExp(`^${stack.worker.pid}@`)) }),
      ]);
      expect(report.temporal.task_queue.activity.pollers).toHaveLength(1);
      expect(report.temporal.task_queue.workflow.backlog).toEqual({
        count: expect.any(Number),
        age_seconds: expect.any(Number),
      });
      expect(typeof report.nats.bridge_consumer.num_pending).toBe('number');
      expect(report.nats.streams.SIGNALS.messages).toBeGreaterThan(0);
      expect(report.nats.streams.SIGNALS_DLQ.messages).toBe(1);
    });

    // A cluster stays reachable with a node down: test/cluster/status.test.ts has that case.
    if (engine === 'dev') {
      it('exits 1 naming NATS when nats-server is stopped', async () => {
        await stack.nats.server.stop();
        try {
          const run = await runCli(['status']);
          expect(run.status).toBe(1);
          expect(run.stdout).toMatch(/^temporal +ok /m);
          expect(run.stdout).toMatch(new RegExp(`^nats +FAIL +unreachable at ${stack.nats.server.url}: `, 'm'));
          expect(run.stdout.trim().split('\n').at(-1)).toBe('status: FAIL (1 check failed)');
          expect(run.stderr).toMatch(
            new RegExp(`^error: NATS is unreachable at ${stack.nats.server.url} \\(NATS_URL\\): `),
          );

          const json = await runCli(['status', '--json']);
          expect(json.status).toBe(1);
          expect(JSON.parse(json.stdout)).toMatchObject({
            ok: false,
            nats: { reachable: false },
            temporal: { reachable: true },
          });
        } finally {
          await stack.nats.server.start();
        }
      });
    }
  });
}
