#!/usr/bin/env node
/**
 * Turns the chaos suite's figures (.cache/chaos/<scenario>.json, written by test/chaos/*.test.ts)
 * into markdown tables: one row per fault class, then one per scenario.
 *
 *   node scripts/chaos-table.js [dir]        # default dir: .cache/chaos
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script that plain node runs */
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.argv[2] ?? join(__dirname, '..', '.cache', 'chaos');
if (!existsSync(dir)) {
  console.error(`no chaos figures in ${dir}: run \`npx jest test/chaos\` or \`npm run test:chaos\` first`);
  process.exit(1);
}
const reports = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
if (reports.length === 0) {
  console.error(`no chaos figures in ${dir}`);
  process.exit(1);
}

const fmt = (x) =>
  x === null || x === undefined ? '–' : typeof x === 'number' ? String(Math.round(x * 10) / 10) : String(x);
const range = (values) => {
  const v = values.filter((x) => typeof x === 'number');
  if (v.length === 0) return '–';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
};
const row = (cells) => `| ${cells.join(' | ')} |`;

const lines = [];
lines.push(
  row([
    'fault class',
    'scenario',
    'scale',
    'faults',
    'outage (s)',
    'recovery (s)',
    'correlations',
    'decided',
    'lost',
    'duplicated',
    'mismatched',
    'unexpected DLQ',
  ]),
  row(['---', '---', '---', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '--:']),
);
for (const r of reports) {
  for (const kind of r.fault_classes) {
    const faults = r.faults.filter((f) => f.kind === kind);
    lines.push(
      row([
        kind,
        r.scenario,
        r.scale,
        faults.length,
        range(faults.map((f) => f.outage_s)),
        range(faults.map((f) => f.recovery_s)),
        r.correlations,
        r.decided,
        r.lost,
        r.duplicated,
        r.mismatched,
        r.dlq_unexpected,
      ]),
    );
  }
}
lines.push('');
lines.push(
  row([
    'scenario',
    'scale',
    'seed',
    'correlations (partial)',
    'signals',
    'redelivered',
    'republishes deduped',
    'deliberate DLQ',
    'policy timeout (s)',
    'run (s)',
    'load avg start → end',
    'started',
  ]),
  row(['---', '---', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '--:', '---', '---']),
);
for (const r of reports) {
  lines.push(
    row([
      r.scenario,
      r.scale,
      r.seed ?? '–',
      `${r.correlations} (${r.partial_correlations})`,
      r.signals_published,
      r.redelivered_signals,
      r.republishes_deduped,
      r.dlq_deliberate,
      fmt(r.policy_timeout_ms / 1000),
      fmt(r.duration_s),
      `${fmt(r.machine.loadavg_start[0])} → ${fmt(r.machine.loadavg_end[0])}`,
      r.started_at.replace(/\.\d+Z$/, 'Z'),
    ]),
  );
}
console.log(lines.join('\n'));
