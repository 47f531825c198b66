#!/usr/bin/env node
// Bundles the workflow code ahead of time, at image build: `npm run bundle` (after `npm run build`)
// writes dist/workflow-bundle.js, and a worker started with ORCH_WORKFLOW_BUNDLE pointing at it
// loads that file instead of running webpack at start-up.
//
//   node scripts/bundle-workflows.js <output file>
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script that plain node runs */

const { mkdirSync, writeFileSync } = require('node:fs');
const { dirname, resolve } = require('node:path');
const { bundleWorkflowCode } = require('@temporalio/worker');

const WORKFLOWS = '../dist/src/workflows';

async function main() {
  const output = process.argv[2];
  if (!output) {
    process.stderr.write('usage: node scripts/bundle-workflows.js <output file>\n');
    process.exit(2);
  }
  let workflowsPath;
  try {
    workflowsPath = require.resolve(WORKFLOWS);
  } catch {
    process.stderr.write(`error: ${resolve(__dirname, WORKFLOWS)} not found: run \`npm run build\` first\n`);
    process.exit(1);
  }
  const quiet = () => undefined;
  const warn = (message) => process.stderr.write(`${message}\n`);
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn, error: warn },
  });
  const target = resolve(output);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, code);
  process.stdout.write(`workflow bundle: ${target} (${Math.round(code.length / 1024)} KiB)\n`);
}

main().catch((error) => {
  process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
