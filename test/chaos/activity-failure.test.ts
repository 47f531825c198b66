/**
 * Chaos (f): activities that fail.
 * - Publishing decisions while NATS is down for the worker (a TCP proxy between the worker and
 *   nats-server drops its connections and refuses new ones): the publishing activity fails and retries with
 *   backoff, then succeeds once NATS is back; a retry whose earlier attempt did reach JetStream is
 *   dropped by the Nats-Msg-Id dedupe.
 * - Poisoned correlations, started (signal-with-start, as a caller could) with a per-correlation
 *   policy the workflow refuses: each fails visibly (FAILED, CorrelationStatus "failed"), every
 *   correlation around them is decided normally, and `orch redrive` runs them again to a decision.
 */
import { workflowIdFor, agentSignal } from '../../src/shared/correlation-api';
import {
  decisionNobodyPublished,
  expectNothingLostNothingDuplicated,
  pollUntil,
  randomBetween,
  runOrchCli,
  runScenario,
  scaled,
  sleep,
  type Problem,
  type StoredEntry,
  waitDrained,
} from '../support/chaos';
import { envelope, momentum } from '../support/signals';

const CUT_MS = scaled(6_000, 20_000);
const POISONED = scaled(3, 10);
const POLICY_TIMEOUT_MS = scaled(15_000, 30_000);

it(
  `retries decisions through a ${CUT_MS / 1000}s worker-NATS cut and isolates ${POISONED} poisoned correlations, which orch redrive decides`,
  async () => {
    const poisonPrefix = `activity-failure-poison-${Date.now().toString(36)}-`;
    const poisoned = Array.from({ length: POISONED }, (_, i) => `${poisonPrefix}${i}`);
    let publishedAfterCut = 0;
    let redriveOutput = '';
    const timings: Record<string, number> = {};
    const report = await runScenario({
      scenario: 'activity-failure',
      policy: { version: 'chaos-activity-failure', timeout_ms: POLICY_TIMEOUT_MS, min_agents_threshold: 1 },
      workerNatsProxy: true,
      rate: scaled(12, 20),
      minCorrelations: scaled(200, 1000),
      async chaos({ stack, load, ledger, faults }) {
        // Poison, in the middle of the load.
        await sleep(randomBetween(500, 1_500));
        const poison = await faults.inject(
          'poisoned correlation (invalid policy)',
          async () => {
            for (const corrId of poisoned) {
              await stack.client.workflow.signalWithStart('correlationWorkflow', {
                workflowId: workflowIdFor(corrId),
                taskQueue: 'orchestrator',
                args: [{ corr_id: corrId, policy: { version: 'poison', timeout_ms: -1 } }],
                signal: agentSignal,
                signalArgs: [envelope(momentum(corrId), `poison-${corrId}`)],
              });
            }
          },
          `${POISONED} correlations`,
        );
        for (const corrId of poisoned) {
          const handle = stack.client.workflow.getHandle(workflowIdFor(corrId));
          await expect(handle.result()).rejects.toThrow('Workflow execution failed');
          expect((await handle.describe()).status.name).toBe('FAILED');
        }
        const failedQuery = `WorkflowId STARTS_WITH "corr-${poisonPrefix}" AND CorrelationStatus = "failed" AND ExecutionStatus = "Failed"`;
        await pollUntil(
          'the poisoned correlations listed as failed',
          async () => ((await stack.client.workflow.count(failedQuery)).count === POISONED ? true : undefined),
          60_000,
          500,
        );
        await faults.heal(poison, () => undefined);
        timings.poison_failed_visible_s = (Date.now() - poison.injectedAt) / 1000;

        // NATS gone for the worker: decisions made meanwhile cannot be published.
        await sleep(randomBetween(500, 1_500));
        const proxy = stack.proxies.workerNats!;
        const cut = await faults.inject(
          'decision publish failing (worker-NATS network cut)',
          () => proxy.cut(),
          `${CUT_MS / 1000}s`,
        );
        await sleep(CUT_MS);
        await faults.heal(cut, () => proxy.heal());
        await waitDrained(load, ledger, cut, 180_000);
        publishedAfterCut = load.correlations.filter((c) => {
          const decided = ledger.decidedAt.get(c.corrId);
          const arrived = ledger.firstArrival.get(c.corrId);
          return (
            decided !== undefined &&
            arrived !== undefined &&
            decided >= cut.injectedAt &&
            decided < (cut.healedAt as number) &&
            arrived > (cut.healedAt as number)
          );
        }).length;

        // The poisoned ones, re-driven by the operator while the load goes on.
        const redriveStarted = Date.now();
        const redrive = await runOrchCli(stack, [
          'redrive',
          '--status',
          'failed',
          '--query',
          `WorkflowId STARTS_WITH "corr-${poisonPrefix}"`,
          '--yes',
        ]);
        redriveOutput = redrive.stdout + redrive.stderr;
        expect(redrive.status).toBe(0);
        expect(redrive.stdout.trim().split('\n').at(-1)).toBe(
          `re-driven: ${POISONED} started, 0 skipped, 0 failed (task queue orchestrator)`,
        );
        for (const corrId of poisoned) {
          expect(
            (await stack.client.workflow.getHandle(`corr-${corrId}-redrive-1`).result()).redrive_of?.workflow_id,
          ).toBe(`corr-${corrId}`);
        }
        timings.redrive_to_decisions_s = (Date.now() - redriveStarted) / 1000;
      },
      verify: () => ({
        // The poisoned correlations: exactly one decision each, the re-driven one, on their recorded signal.
        otherCorrelations: (entries: StoredEntry[]): Problem[] => {
          const problems: Problem[] = [];
          for (const corrId of poisoned) {
            const mine = entries.filter((e) => e.decision?.corr_id === corrId);
            const redriveId = `corr-${corrId}-redrive-1`;
            if (mine.length !== 1)
              problems.push({
                corrId,
                problem: `${mine.length} decisions stored for a poisoned correlation (expected its re-drive's only)`,
              });
            else if (
              mine[0].msgId !== `${corrId}:${redriveId}` ||
              mine[0].decision?.redrive_of?.workflow_id !== `corr-${corrId}`
            ) {
              problems.push({
                corrId,
                problem: `re-driven decision stored as ${mine[0].msgId}, redrive_of ${JSON.stringify(mine[0].decision?.redrive_of)}`,
              });
            } else if (mine[0].decision?.provenance?.map((p) => p.message_id).join(',') !== `poison-${corrId}`) {
              problems.push({
                corrId,
                problem: `re-driven decision on ${JSON.stringify(mine[0].decision?.provenance)}`,
              });
            }
          }
          for (const e of entries.filter((x) => !poisoned.includes(x.decision?.corr_id ?? '')))
            problems.push(decisionNobodyPublished(e));
          return problems;
        },
        extra: { poisoned: POISONED, decided_during_cut_published_after: publishedAfterCut, ...timings },
      }),
    });
    if (report.problems.length > 0) console.log(redriveOutput);
    expectNothingLostNothingDuplicated(report);
    expect(report.faults_injected).toBe(2);
    // Decisions made while NATS was cut off were published after it came back: the retries worked.
    expect(publishedAfterCut).toBeGreaterThan(0);
  },
  scaled(240_000, 900_000),
);
