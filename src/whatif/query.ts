/** The visibility query that selects the recorded correlations a what-if runs over. Pure. */
import { CORRELATION_STATUSES, type CorrelationStatus } from '../contract/correlation-state';
import { WORKFLOW_TYPES } from '../shared/correlation-api';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';

/** Without --query or --since: the correlations that closed in the last 24 hours. */
export const DEFAULT_SINCE_MS = 24 * 3_600_000;

export interface Selection {
  /** A visibility query of the user's, ANDed with the rest. */
  query?: string;
  /** Closed at most this long ago. */
  sinceMs?: number;
  /** CorrelationStatus is one of these. */
  statuses?: CorrelationStatus[];
  /** PolicyVersion (the policy the correlation was decided under) is this. */
  policyVersion?: string;
}

/** A value inside a query's double quotes: quotes and backslashes are refused, not escaped. */
export function quoteValue(value: string, what: string): string {
  if (/["\\]/.test(value) || value === '')
    throw new Error(`${what} ${JSON.stringify(value)}: must be non-empty, without " or \\`);
  return `"${value}"`;
}

/** Parses `completed,timed_out` into statuses; throws naming the unknown one. */
export function parseStatuses(text: string): CorrelationStatus[] {
  const statuses = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (statuses.length === 0) throw new Error('expected one or more of ' + CORRELATION_STATUSES.join(', '));
  for (const status of statuses) {
    if (!(CORRELATION_STATUSES as readonly string[]).includes(status)) {
      throw new Error(
        `unknown correlation status ${JSON.stringify(status)}: expected ${CORRELATION_STATUSES.join(', ')}`,
      );
    }
  }
  return [...new Set(statuses)] as CorrelationStatus[];
}

/**
 * Closed correlation workflows (a running one has no decision yet), narrowed by the selection.
 * With neither a query nor `sinceMs`, the last 24 hours.
 */
export function visibilityQuery(selection: Selection, now: Date): string {
  const clauses = [
    `WorkflowType IN (${WORKFLOW_TYPES.map((t) => quoteValue(t, 'workflow type')).join(', ')})`,
    'ExecutionStatus != "Running"',
  ];
  const sinceMs = selection.sinceMs ?? (selection.query === undefined ? DEFAULT_SINCE_MS : undefined);
  if (sinceMs !== undefined) clauses.push(`CloseTime >= "${new Date(now.getTime() - sinceMs).toISOString()}"`);
  const statuses = selection.statuses ?? [];
  if (statuses.length === 1) clauses.push(`${SEARCH_ATTRIBUTES.status.name} = "${statuses[0]}"`);
  if (statuses.length > 1)
    clauses.push(`${SEARCH_ATTRIBUTES.status.name} IN (${statuses.map((s) => `"${s}"`).join(', ')})`);
  if (selection.policyVersion !== undefined)
    clauses.push(`${SEARCH_ATTRIBUTES.policyVersion.name} = ${quoteValue(selection.policyVersion, 'policy version')}`);
  if (selection.query !== undefined && selection.query.trim() !== '') clauses.push(`(${selection.query.trim()})`);
  return clauses.join(' AND ');
}
