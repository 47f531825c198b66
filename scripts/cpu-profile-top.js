#!/usr/bin/env node
// Where a process spent its CPU, from the .cpuprofile files that `node --cpu-prof` writes (one per
// thread: the worker's workflow thread is its own file). Prints each file's busiest functions by
// self time, and its time by source module. docs/BENCHMARKS.md has the recipe.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script that plain node runs */
const { readFileSync } = require('node:fs');
const { basename } = require('node:path');

const USAGE = `Usage: node scripts/cpu-profile-top.js [--top N] FILE.cpuprofile...

For each profile: its sampled time, the N functions with the most self time (default 25), and the
self time by source file (node_modules package, or the file). Profiles come from
  NODE_OPTIONS="--cpu-prof --cpu-prof-dir=DIR" node ...`;

function parseArgs(argv) {
  const files = [];
  let top = 25;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') return { help: true };
    if (argv[i] === '--top') {
      top = Number(argv[++i]);
      if (!Number.isInteger(top) || top <= 0)
        throw new Error(`--top: expected a whole number above 0, got "${argv[i]}"`);
    } else files.push(argv[i]);
  }
  if (files.length === 0) throw new Error('no profile given');
  return { files, top };
}

/** The package of a node_modules path, or the file's name: `@temporalio/worker`, `bridge.js`. */
function sourceOf(url) {
  if (!url) return '(native or idle)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1];
  if (url.startsWith('node:')) return url;
  return basename(url.replace(/^file:\/\//, ''));
}

function summarize(file, top) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const totalUs = profile.endTime - profile.startTime;
  const intervalUs =
    profile.timeDeltas.length > 0 ? profile.timeDeltas.reduce((a, b) => a + b, 0) / profile.timeDeltas.length : 0;
  const byFunction = new Map();
  const bySource = new Map();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const selfUs = node.hitCount * intervalUs;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)') {
      if (functionName !== '(idle)') bySource.set(functionName, (bySource.get(functionName) ?? 0) + selfUs);
      if (functionName !== '(idle)') busyUs += selfUs;
      continue;
    }
    busyUs += selfUs;
    const key = `${functionName || '(anonymous)'} ${sourceOf(url)}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + selfUs);
    bySource.set(sourceOf(url), (bySource.get(sourceOf(url)) ?? 0) + selfUs);
  }
  const ms = (us) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us) => `${((100 * us) / busyUs).toFixed(1).padStart(5)} %`;
  const lines = [
    `${file}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${(busyUs / 1e6).toFixed(1)} s busy (${((100 * busyUs) / totalUs).toFixed(0)} %)`,
    '',
    '  self ms  of busy  function',
  ];
  for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${ms(us)}  ${pct(us)}  ${key}`);
  lines.push('', '  self ms  of busy  source');
  for (const [key, us] of [...bySource].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${ms(us)}  ${pct(us)}  ${key}`);
  return lines.join('\n');
}

try {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
  } else {
    process.stdout.write(`${args.files.map((f) => summarize(f, args.top)).join('\n\n')}\n`);
  }
} catch (error) {
  process.stderr.write(`error: ${error.message}\n${USAGE}\n`);
  process.exitCode = 2;
}
