#!/usr/bin/env node
/**
 * Fetches the Temporal CLI the way the Temporal SDK's tests do (its cached download of the dev
 * server), for machines without Go to build the pinned one: scripts/install-tools.sh links what it
 * prints. Needs the internet on first use.
 *
 *   node scripts/download-temporal-cli.js <version> <download dir>   # prints the executable's path
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script that plain node runs */
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const [version, downloadDir] = process.argv.slice(2);
if (!version || !downloadDir || version === '--help') {
  console.error('Usage: node scripts/download-temporal-cli.js <version, e.g. 1.5.1> <download dir>');
  process.exit(2);
}

/** The executables under `dir` whose name starts with `temporal`: what the SDK unpacked. */
function executablesIn(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return executablesIn(path);
    return entry.name.startsWith('temporal') && (statSync(path).mode & 0o111) !== 0 ? [path] : [];
  });
}

async function main() {
  const { TestWorkflowEnvironment } = require('@temporalio/testing');
  // Starting the dev server once is the SDK's only way to download it; it is stopped at once.
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', version, downloadDir }, ui: false },
  });
  await env.teardown();
  const [path] = executablesIn(downloadDir);
  if (!path) throw new Error(`the SDK started the dev server but left no temporal executable under ${downloadDir}`);
  console.log(path);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
