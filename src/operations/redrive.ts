/**
 * Re-driving correlations: reading what a failed or timed-out run was given, and running the
 * correlation again on the same signals under a new workflow id that links back to it. The
 * workflow side of the contract: `CorrelationInput.redrive` (src/shared/correlation-api.ts).
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Policy } from '../contract/policy';
import {
  type AgentSignalEnvelope,
  type CorrelationStart,
  WORKFLOW_TYPE,
  workflowIdFor,
} from '../shared/correlation-api';
import { startVisibility } from '../shared/correlation-visibility';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { fetchDecodedHistory } from './history';
import { firstSignalPerAgent, readRecordedCorrelation } from './recorded-correlation';
import { listExecutions, quote } from './visibility';

/** `corr-<corr_id>-redrive-<n>`: the n-th re-drive of a correlation. */
function redriveWorkflowId(corrId: string, n: number): string {
  return `${redrivePrefix(corrId)}${n}`;
}

function redrivePrefix(corrId: string): string {
  return `${workflowIdFor(corrId)}-redrive-`;
}

/** The visibility query for every re-drive of a correlation. */
function redrivesQuery(corrId: string): string {
  return `WorkflowId STARTS_WITH ${quote(redrivePrefix(corrId))}`;
}

export interface EarlierRedrive {
  workflowId: string;
  n: number;
  status: string;
}

/** Earlier re-drives of a correlation, by number. */
async function earlierRedrives(client: Client, corrId: string): Promise<EarlierRedrive[]> {
  // STARTS_WITH also matches the re-drives of a correlation whose own id continues `<corr_id>-redrive-…`.
  const prefix = redrivePrefix(corrId);
  const own = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)$`);
  const found = new Map<string, EarlierRedrive>();
  for (const execution of await listExecutions(client, redrivesQuery(corrId), 1_000)) {
    const match = own.exec(execution.workflowId);
    // The newest run of each id (the list is newest first).
    if (match && !found.has(execution.workflowId))
      found.set(execution.workflowId, {
        workflowId: execution.workflowId,
        n: Number(match[1]),
        status: execution.status.name,
      });
  }
  return [...found.values()].sort((a, b) => a.n - b.n);
}

/** One correlation to re-drive (or not, and why), from the newest of its runs that matched. */
export interface RedrivePlan {
  corrId: string;
  of: { workflow_id: string; run_id: string };
  startTime: Date;
  /** The CorrelationStatus search attribute of the run, when it had one. */
  correlationStatus?: string;
  /** Temporal's status of the run: FAILED, COMPLETED, TIMED_OUT, TERMINATED. */
  executionStatus: string;
  /** The signals the re-drive is given: the first per agent, as the run kept them. */
  signals: AgentSignalEnvelope[];
  /** The policy the run decided under, when its history records it; the re-drive decides under it. */
  policy?: Policy;
  /** Runs of this correlation the query matched (the newest is re-driven). */
  runsMatched: number;
  earlier: EarlierRedrive[];
  /** The workflow id the re-drive gets. */
  newWorkflowId?: string;
  /** Why it is not re-driven. */
  skip?: string;
  /** The run could not be read or the re-drive could not start. */
  error?: string;
  /** The re-drive, once started. */
  started?: { workflowId: string; runId: string };
  /** The newest matched run of the correlation's own workflow (not of a re-drive), when one matched. */
  original?: Pick<RedrivePlan, 'of' | 'startTime' | 'correlationStatus' | 'executionStatus'>;
}

export interface PlanOptions {
  /** Re-drive even a correlation already re-driven, or one with no recorded signal. */
  force: boolean;
}

/** The agents whose signals a plan carries, sorted. */
export function planAgents(plan: Pick<RedrivePlan, 'signals'>): string[] {
  return plan.signals.map((s) => s.signal.agent_name).sort();
}

/**
 * Reads one matched run's history and decides what to do with it: a correlation with a re-drive
 * running or completed is skipped (unless forced), so re-running the same command does not
 * decide a correlation twice.
 */
export async function planRun(client: Client, execution: WorkflowExecutionInfo): Promise<RedrivePlan> {
  const base = {
    of: { workflow_id: execution.workflowId, run_id: execution.runId },
    startTime: execution.startTime,
    correlationStatus: execution.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status),
    executionStatus: execution.status.name,
    runsMatched: 1,
    earlier: [],
  };
  try {
    const history = await fetchDecodedHistory(client, execution.workflowId, execution.runId);
    const run = readRecordedCorrelation(history, execution.workflowId, execution.runId);
    const signals = firstSignalPerAgent(run);
    return { ...base, corrId: run.corrId, signals, ...(run.policy ? { policy: run.policy } : {}) };
  } catch (error) {
    return {
      ...base,
      corrId: execution.workflowId,
      signals: [],
      error: `cannot read its history: ${(error as Error).message}`,
    };
  }
}

/** Whether a workflow id is one of the correlation's re-drives, rather than the correlation itself. */
function isRedriveOf(corrId: string, workflowId: string): boolean {
  return workflowId.startsWith(redrivePrefix(corrId)) && /^\d+$/.test(workflowId.slice(redrivePrefix(corrId).length));
}

/**
 * One plan per correlation: the newest matched run of each is the one a re-drive starts from. The
 * newest matched run of the correlation itself (not a re-drive) is kept too, to show when the
 * correlation is skipped because a re-drive of it already completed.
 */
export function newestPerCorrelation(plans: readonly RedrivePlan[]): RedrivePlan[] {
  const byCorrelation = new Map<string, RedrivePlan>();
  for (const plan of plans) {
    const seen = byCorrelation.get(plan.corrId);
    const ownRun = isRedriveOf(plan.corrId, plan.of.workflow_id) ? undefined : plan;
    if (!seen) {
      byCorrelation.set(plan.corrId, { ...plan, original: ownRun });
      continue;
    }
    const newest = plan.startTime > seen.startTime ? { ...plan, original: seen.original } : seen;
    if (ownRun && (!newest.original || ownRun.startTime > newest.original.startTime)) newest.original = ownRun;
    newest.runsMatched = seen.runsMatched + 1;
    byCorrelation.set(plan.corrId, newest);
  }
  return [...byCorrelation.values()];
}

/** Looks up the correlation's earlier re-drives and assigns the re-drive its workflow id, or says why it is skipped. */
export async function assignRedrive(client: Client, plan: RedrivePlan, options: PlanOptions): Promise<RedrivePlan> {
  if (plan.error) return plan;
  const earlier = await earlierRedrives(client, plan.corrId);
  const next = earlier.reduce((n, r) => Math.max(n, r.n), 0) + 1;
  const assigned: RedrivePlan = { ...plan, earlier, newWorkflowId: redriveWorkflowId(plan.corrId, next) };
  if (options.force) return assigned;
  const running = earlier.find((r) => r.status === 'RUNNING');
  const completed = earlier.find((r) => r.status === 'COMPLETED');
  if (running) assigned.skip = `re-drive ${running.workflowId} is still running`;
  else if (completed) assigned.skip = `already re-driven: ${completed.workflowId} completed`;
  else if (plan.signals.length === 0) assigned.skip = 'no agent signal recorded: nothing to decide on';
  if (assigned.skip) {
    delete assigned.newWorkflowId;
    // Skipped: the correlation's own failed or timed-out run says more than its re-drive's.
    if (assigned.original) Object.assign(assigned, pick(assigned.original));
  }
  return assigned;
}

/** How many times a start retries with the next number when another re-drive took the id first. */
const ID_ATTEMPTS = 5;

/**
 * Starts the re-drive: the current workflow type with `{ corr_id, policy, redrive: { of, signals } }`
 * under `newWorkflowId`, deciding under the policy the run decided under, or `fallbackPolicy` when
 * its history does not say (a run of the first shape whose policy failed to resolve). The id is
 * never reused (REJECT_DUPLICATE): if another re-drive took it since the plan was made, the next
 * number is used.
 */
export async function startRedrive(
  client: Client,
  taskQueue: string,
  plan: RedrivePlan,
  fallbackPolicy: Policy,
): Promise<{ workflowId: string; runId: string }> {
  if (!plan.newWorkflowId) throw new Error(`no re-drive planned for ${plan.corrId}`);
  const input: CorrelationStart = {
    corr_id: plan.corrId,
    policy: plan.policy ?? fallbackPolicy,
    redrive: { of: plan.of, signals: plan.signals },
  };
  let n = Number(/-redrive-(\d+)$/.exec(plan.newWorkflowId)![1]);
  for (let attempt = 1; ; attempt++) {
    const workflowId = redriveWorkflowId(plan.corrId, n);
    try {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        workflowId,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        ...startVisibility(input),
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError) || attempt >= ID_ATTEMPTS) throw error;
      n++;
    }
  }
}

function pick({ of, startTime, correlationStatus, executionStatus }: NonNullable<RedrivePlan['original']>) {
  return { of, startTime, correlationStatus, executionStatus };
}
