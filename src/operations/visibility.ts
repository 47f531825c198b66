/**
 * Visibility queries over correlation workflows, as `orch replay --query`, `orch redrive` and
 * `orch what-if` build them: the same SQL-like filter a user types into the Temporal UI
 * (`temporal workflow list -q`). One quoting rule for all: values are escaped, never refused.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { CorrelationStatus } from '../contract/correlation-state';
import { WORKFLOW_TYPES } from '../shared/correlation-api';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';

/** A string literal in a visibility query. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Every correlation workflow, of either shape, whatever else a query says. */
const CORRELATION_WORKFLOWS = `WorkflowType IN (${WORKFLOW_TYPES.map(quote).join(', ')})`;

/** True when the whole clause is one parenthesised group, `(a OR b)` (not `(a) OR (b)`); quoted text is skipped. */
function isGrouped(clause: string): boolean {
  const c = clause.trim();
  if (!c.startsWith('(') || !c.endsWith(')')) return false;
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < c.length; i++) {
    const ch = c[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0 && i < c.length - 1) return false;
  }
  return true;
}

/** Clauses joined with AND; a clause with an OR in it is parenthesised, so AND cannot split it. */
export function allOf(...clauses: Array<string | undefined>): string {
  const present = clauses.map((c) => c?.trim()).filter((c): c is string => c !== undefined && c !== '');
  return present.map((c) => (present.length > 1 && /\sor\s/i.test(c) && !isGrouped(c) ? `(${c})` : c)).join(' AND ');
}

/** What `orch redrive --status` accepts, and the visibility clause each stands for. */
export const REDRIVE_STATUSES = {
  // A correlation that failed after its search attributes were set says so; one that failed before
  // (a bad policy, say) is only known to Temporal as a failed execution.
  failed: `${SEARCH_ATTRIBUTES.status.name} = "failed" OR ExecutionStatus = "Failed"`,
  // The partial-data timer fired: the decision was made without every expected agent.
  timed_out: `${SEARCH_ATTRIBUTES.status.name} = "timed_out" OR ExecutionStatus = "TimedOut"`,
  // Ended by an operator (`temporal workflow terminate`) before it decided.
  terminated: 'ExecutionStatus = "Terminated"',
} as const;
export type RedriveStatus = keyof typeof REDRIVE_STATUSES;
export const DEFAULT_REDRIVE_STATUSES: readonly RedriveStatus[] = ['failed', 'timed_out'];

export interface RedriveFilter {
  statuses: readonly RedriveStatus[];
  since?: Date;
  until?: Date;
  route?: string;
  action?: string;
  instrument?: string;
  /** A raw visibility query, ANDed with the rest. */
  query?: string;
}

/** The visibility query of `orch redrive`: closed correlation workflows that match every filter. */
export function redriveQuery(filter: RedriveFilter): string {
  const statuses = filter.statuses.map((s) => REDRIVE_STATUSES[s]).join(' OR ');
  return allOf(
    CORRELATION_WORKFLOWS,
    'ExecutionStatus != "Running"',
    statuses,
    filter.since ? `StartTime >= ${quote(filter.since.toISOString())}` : undefined,
    filter.until ? `StartTime < ${quote(filter.until.toISOString())}` : undefined,
    filter.route !== undefined ? `${SEARCH_ATTRIBUTES.route.name} = ${quote(filter.route)}` : undefined,
    filter.action !== undefined ? `${SEARCH_ATTRIBUTES.action.name} = ${quote(filter.action)}` : undefined,
    filter.instrument !== undefined ? `${SEARCH_ATTRIBUTES.instrument.name} = ${quote(filter.instrument)}` : undefined,
    filter.query,
  );
}

/**
 * A comma-separated list of statuses, each one of `allowed`, without repeats, in the order given.
 * Throws an Error naming the unknown ones and listing the allowed ones.
 */
export function parseStatusList<S extends string>(text: string, allowed: readonly S[]): S[] {
  const statuses = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = statuses.filter((s) => !(allowed as readonly string[]).includes(s));
  if (statuses.length === 0 || unknown.length > 0) {
    throw new Error(
      `${unknown.length > 0 ? `unknown status ${unknown.map((s) => JSON.stringify(s)).join(', ')}` : 'empty'}; expected a comma-separated list of ${allowed.join(', ')}`,
    );
  }
  return [...new Set(statuses)] as S[];
}

/** Without --query or --since, `orch what-if` reads the correlations that closed in the last 24 hours. */
export const WHAT_IF_DEFAULT_SINCE_MS = 24 * 3_600_000;

/** The correlations `orch what-if` reads, besides being closed correlation workflows. */
export interface WhatIfSelection {
  /** A visibility query of the user's, ANDed with the rest. */
  query?: string;
  /** Closed at most this long ago. */
  sinceMs?: number;
  /** CorrelationStatus is one of these. */
  statuses?: readonly CorrelationStatus[];
  /** PolicyVersion (the policy the correlation was decided under) is this. */
  policyVersion?: string;
}

/**
 * The visibility query of `orch what-if`: closed correlation workflows (a running one has no
 * decision yet), narrowed by the selection; with neither a query nor `sinceMs`, the last 24 hours.
 */
export function whatIfQuery(selection: WhatIfSelection, now: Date): string {
  const sinceMs = selection.sinceMs ?? (selection.query === undefined ? WHAT_IF_DEFAULT_SINCE_MS : undefined);
  const statuses = selection.statuses ?? [];
  return allOf(
    CORRELATION_WORKFLOWS,
    'ExecutionStatus != "Running"',
    sinceMs !== undefined ? `CloseTime >= ${quote(new Date(now.getTime() - sinceMs).toISOString())}` : undefined,
    statuses.length > 0 ? `${SEARCH_ATTRIBUTES.status.name} IN (${statuses.map(quote).join(', ')})` : undefined,
    selection.policyVersion !== undefined
      ? `${SEARCH_ATTRIBUTES.policyVersion.name} = ${quote(selection.policyVersion)}`
      : undefined,
    selection.query,
  );
}

/** A user's query, narrowed to correlation workflows (other workflow types cannot replay against this code). */
export function correlationQuery(query: string): string {
  return allOf(CORRELATION_WORKFLOWS, query);
}

/**
 * `--since 1h` (that long ago) or `--since 2026-11-22T10:00:00Z` (an ISO-8601 time).
 * Throws an Error quoting the input when it is neither.
 */
export function parseTimeBound(text: string, now: Date, parseDuration: (text: string) => number): Date {
  if (/^\d{4}-\d\d-\d\d/.test(text.trim())) {
    const at = new Date(text.trim());
    if (Number.isNaN(at.getTime()))
      throw new Error(`invalid time "${text}": expected an ISO-8601 time such as 2026-11-22T10:00:00Z`);
    return at;
  }
  try {
    return new Date(now.getTime() - parseDuration(text));
  } catch (error) {
    throw new Error(`${(error as Error).message}, or an ISO-8601 time such as 2026-11-22T10:00:00Z`, { cause: error });
  }
}

/** The executions a query matches, newest first as the server orders them, at most `limit`. */
export async function listExecutions(client: Client, query: string, limit: number): Promise<WorkflowExecutionInfo[]> {
  const found: WorkflowExecutionInfo[] = [];
  if (limit <= 0) return found;
  for await (const execution of client.workflow.list({ query, pageSize: Math.min(limit, 1_000) })) {
    found.push(execution);
    if (found.length >= limit) break;
  }
  return found;
}

/** How many executions a query matches (cheap: the server counts). */
export async function countExecutions(client: Client, query: string): Promise<number> {
  return (await client.workflow.count(query)).count;
}

/** gRPC's status code INVALID_ARGUMENT. */
const INVALID_ARGUMENT = 3;

/** gRPC INVALID_ARGUMENT: the server refused the query itself (a typo, an unknown search attribute). */
export function isInvalidQuery(error: unknown): boolean {
  for (
    let current = error as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    current && depth < 5;
    current = current.cause as typeof current, depth++
  ) {
    if (current.code === INVALID_ARGUMENT) return true;
  }
  return false;
}
