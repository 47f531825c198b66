/**
 * The container image runs on a supported Node.js LTS (the Dockerfile's FROM), and so does this
 * test: the worker and the bridge on that very release (scripts/install-tools.sh unpacks Node.js's
 * own build of it), against the dev server and nats-server, bundling the workflow code at start as
 * the image's worker would without its prebuilt bundle, and deciding a correlation end to end.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from '../../src/devstack/tools';
import { REPO_ROOT } from '../support/paths';
import { startE2EStack, type E2EStack } from '../support/e2e-stack';
import { momentum, risk, uniqueCorrId } from '../support/signals';

const NODE_LTS = requireTool('node-lts');
let stack: E2EStack;

beforeAll(async () => {
  stack = await startE2EStack(
    { version: 'node-lts-1', timeout_ms: 30_000 },
    {},
    { node: NODE_LTS, bundleAtStart: true },
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the orchestrator on the image's Node.js LTS", () => {
  it('is the release the Dockerfile names, in every stage', () => {
    const version = execFileSync(NODE_LTS, ['--version'], { encoding: 'utf8' }).trim();
    const bases = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('FROM '))
      .map((line) => line.split(/\s+/)[1]);
    expect(bases).toEqual([`node:${version.slice(1)}-bookworm-slim`, `node:${version.slice(1)}-bookworm-slim`]);
    expect(Number(version.slice(1).split('.')[0]) % 2).toBe(0);
  });

  it('runs the worker and the bridge on it and decides a correlation', async () => {
    for (const process of [stack.worker, stack.bridge]) expect(readlinkSync(`/proc/${process.pid}/exe`)).toBe(NODE_LTS);
    const corrId = uniqueCorrId('node-lts');
    await stack.publish('momentum', momentum(corrId));
    await stack.publish('risk', risk(corrId));
    const [stored, ...extra] = await stack.decisionsFor(corrId);
    expect(extra).toEqual([]);
    expect(stored.decision).toMatchObject({ corr_id: corrId, decision: { action: 'trade' }, missing_agents: [] });
  }, 60_000);
});
