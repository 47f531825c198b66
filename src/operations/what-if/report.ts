/** The what-if's summary, its diff table for people and its JSON report. Pure. */
import { ACTIONS, type Action } from '../../contract/decision';
import { formatTable } from '../table';
import type { CorrelationDiff, Skipped } from './compare';

export interface Transition {
  from: string;
  to: string;
  count: number;
}

export interface WhatIfSummary {
  policy_version: string;
  /** Correlations compared (each had a recorded decision). */
  correlations: number;
  /** Action or route changed. */
  changed: number;
  actions: {
    changed: number;
    /** from → to, most frequent first. */
    transitions: Transition[];
    before: Record<Action, number>;
    after: Record<Action, number>;
  };
  routes: { changed: number; transitions: Transition[] };
  confidence: {
    changed: number;
    /** Mean of new − old, over every compared correlation. */
    mean_shift: number;
    mean_abs_shift: number;
    /** The largest shift by size, with its sign, and whose it is. */
    max_shift: { value: number; corr_id: string } | null;
  };
  /** The policy versions the correlations were decided under, with how many each. */
  recorded_policy_versions: Record<string, number>;
  /** Whether today's rules reproduce each recorded decision under its recorded policy. */
  baseline: { reproduced: number; differs: number; unknown: number };
  skipped: { total: number; reasons: Record<string, number> };
}

export interface WhatIfReport {
  generated_at: string;
  policy: { version: string; file: string };
  source: { kind: 'query'; query: string; limit: number; truncated: boolean } | { kind: 'history'; paths: string[] };
  summary: WhatIfSummary;
  /** Every compared correlation, by corr_id. */
  correlations: CorrelationDiff[];
  skipped: Skipped[];
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

function countBy(items: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

function transitions(pairs: ReadonlyArray<[string, string]>): Transition[] {
  const counts = new Map<string, Transition>();
  for (const [from, to] of pairs) {
    const key = `${from}\u0000${to}`;
    const t = counts.get(key) ?? { from, to, count: 0 };
    t.count++;
    counts.set(key, t);
  }
  return [...counts.values()].sort(
    (a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to),
  );
}

function actionCounts(actions: readonly Action[]): Record<Action, number> {
  const counts = Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<Action, number>;
  for (const action of actions) counts[action]++;
  return counts;
}

/** Compares ids with their numbers as numbers: `feed-9` before `feed-10`. */
const byId = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/** Sorted by corr_id, then workflow and run id, so reports of the same input compare line by line. */
function sortDiffs(diffs: readonly CorrelationDiff[]): CorrelationDiff[] {
  return [...diffs].sort(
    (a, b) => byId(a.corr_id, b.corr_id) || byId(a.workflow_id, b.workflow_id) || byId(a.run_id ?? '', b.run_id ?? ''),
  );
}

export function summarize(
  diffs: readonly CorrelationDiff[],
  skipped: readonly Skipped[],
  policyVersion: string,
): WhatIfSummary {
  const actionChanges = diffs.filter((d) => d.action_changed);
  const routeChanges = diffs.filter((d) => d.route_changed);
  let max: WhatIfSummary['confidence']['max_shift'] = null;
  for (const d of sortDiffs(diffs)) {
    if (d.confidence_shift !== 0 && (max === null || Math.abs(d.confidence_shift) > Math.abs(max.value)))
      max = { value: d.confidence_shift, corr_id: d.corr_id };
  }
  const n = diffs.length;
  const sum = diffs.reduce((s, d) => s + d.confidence_shift, 0);
  const sumAbs = diffs.reduce((s, d) => s + Math.abs(d.confidence_shift), 0);
  const baseline = { reproduced: 0, differs: 0, unknown: 0 };
  for (const d of diffs) baseline[d.baseline]++;
  return {
    policy_version: policyVersion,
    correlations: n,
    changed: diffs.filter((d) => d.action_changed || d.route_changed).length,
    actions: {
      changed: actionChanges.length,
      transitions: transitions(actionChanges.map((d) => [d.old.action, d.new.action])),
      before: actionCounts(diffs.map((d) => d.old.action)),
      after: actionCounts(diffs.map((d) => d.new.action)),
    },
    routes: {
      changed: routeChanges.length,
      transitions: transitions(routeChanges.map((d) => [d.old.route, d.new.route])),
    },
    confidence: {
      changed: diffs.filter((d) => d.confidence_shift !== 0).length,
      mean_shift: n > 0 ? round4(sum / n) : 0,
      mean_abs_shift: n > 0 ? round4(sumAbs / n) : 0,
      max_shift: max,
    },
    recorded_policy_versions: countBy(diffs.map((d) => d.old.policy_version)),
    baseline,
    skipped: { total: skipped.length, reasons: countBy(skipped.map((s) => s.reason)) },
  };
}

export function buildReport(
  diffs: readonly CorrelationDiff[],
  skipped: readonly Skipped[],
  policy: { version: string; file: string },
  source: WhatIfReport['source'],
  now: Date,
): WhatIfReport {
  return {
    generated_at: now.toISOString(),
    policy,
    source,
    summary: summarize(diffs, skipped, policy.version),
    correlations: sortDiffs(diffs),
    skipped: [...skipped].sort((a, b) => byId(a.workflow_id, b.workflow_id)),
  };
}

const pct = (part: number, whole: number): string => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '0%');
const signed = (x: number): string => `${x < 0 ? '-' : '+'}${Math.abs(x).toFixed(4)}`;
const fmt = (x: number): string => x.toFixed(4);

function transitionLines(list: readonly Transition[]): string[] {
  return formatTable(
    list.map((t) => [`${t.from} → ${t.to}`, String(t.count)]),
    { align: ['l', 'r'], indent: '  ' },
  );
}

const arrow = (from: string, to: string): string => (from === to ? from : `${from} → ${to}`);

export interface FormatOptions {
  /** How many changed correlations to list. */
  show: number;
  /** Where the correlations came from, in words. */
  sourceLine: string;
  /** Where the JSON report was written. */
  reportPath?: string;
}

/** The diff table printed by `orch what-if`. */
export function formatReport(report: WhatIfReport, options: FormatOptions): string {
  const s = report.summary;
  const lines: string[] = [];
  lines.push(
    `what-if: policy ${report.policy.version} (${report.policy.file}) against ${s.correlations} recorded correlation(s)`,
  );
  lines.push(`source:  ${options.sourceLine}`);
  const versions = Object.entries(s.recorded_policy_versions)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([v, n]) => `${v} (${n})`)
    .join(', ');
  lines.push(`recorded under policy: ${versions || 'none'}`);
  const check = [`${s.baseline.reproduced} reproduce their recorded decision under it`];
  if (s.baseline.differs > 0)
    check.push(`${s.baseline.differs} DO NOT (the decision rules changed since: their diff is not the policy's alone)`);
  if (s.baseline.unknown > 0) check.push(`${s.baseline.unknown} carry no policy to check`);
  lines.push(`baseline: ${check.join('; ')}`);
  lines.push('');

  lines.push(
    `actions     ${s.actions.changed} of ${s.correlations} change (${pct(s.actions.changed, s.correlations)})`,
  );
  lines.push(...transitionLines(s.actions.transitions));
  lines.push(`routes      ${s.routes.changed} of ${s.correlations} change (${pct(s.routes.changed, s.correlations)})`);
  lines.push(...transitionLines(s.routes.transitions));
  const max = s.confidence.max_shift;
  lines.push(
    `confidence  ${s.confidence.changed} of ${s.correlations} change; mean shift ${signed(s.confidence.mean_shift)}, ` +
      `mean |shift| ${fmt(s.confidence.mean_abs_shift)}, max shift ${max ? `${signed(max.value)} (${max.corr_id})` : 'none'}`,
  );
  lines.push('');

  const counts = ACTIONS.map((a) => [a, String(s.actions.before[a]), String(s.actions.after[a])]);
  lines.push(...formatTable([['action', 'before', 'after'], ...counts], { align: ['l', 'r', 'r'] }));

  const changed = report.correlations.filter((d) => d.action_changed || d.route_changed);
  if (changed.length > 0 && options.show > 0) {
    const shown = changed.slice(0, options.show);
    lines.push('');
    lines.push(
      shown.length < changed.length
        ? `first ${shown.length} of ${changed.length} changed correlations:`
        : `${changed.length} changed correlation(s):`,
    );
    lines.push(
      ...formatTable([
        ['corr_id', 'action', 'confidence', 'route'],
        ...shown.map((d) => [
          d.corr_id,
          arrow(d.old.action, d.new.action),
          arrow(fmt(d.old.confidence), fmt(d.new.confidence)),
          arrow(d.old.route, d.new.route),
        ]),
      ]),
    );
  } else if (changed.length === 0) {
    lines.push('');
    lines.push('no correlation changes action or route under this policy');
  }

  if (s.skipped.total > 0) {
    const reasons = Object.entries(s.skipped.reasons)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([reason, n]) => `${n} ${reason}`)
      .join(', ');
    lines.push('');
    lines.push(`skipped ${s.skipped.total}: ${reasons}`);
  }
  if (options.reportPath) {
    lines.push('');
    lines.push(`report: ${options.reportPath} (every correlation's old and new action, confidence and route)`);
  }
  return lines.join('\n');
}
