/**
 * The Temporal web UI, as an operator uses it, in headless Chromium (Debian's `chromium`, installed
 * by scripts/install-tools.sh) driven by playwright-core: on the local stack (`npm start`'s), a
 * correlation decided through NATS is found by search attribute and by workflow id, and its page
 * shows the search attributes, the memo's summary and the decision. Screenshots go to .cache/ui/.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import type { Browser, Page } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../src/devstack/local-stack';
import { getFreePort } from '../../src/devstack/processes';
import { DECISIONS_STREAM, SIGNALS_STREAM, signalSubject } from '../../src/nats/streams';
import { workflowIdFor } from '../../src/shared/correlation-api';
import { storedDecisions } from '../support/decisions';
import { waitFor } from '../support/e2e-stack';
import { openBrowser, openUntil as openPage, SCREENSHOT_DIR } from '../support/browser';
import { momentum, risk, uniqueCorrId } from '../support/signals';

let stack: LocalStack;
let nc: NatsConnection;
let browser: Browser;
let page: Page;
const corrId = uniqueCorrId('ui');
const workflowId = workflowIdFor(corrId);

const openUntil = (url: string, what: string, ready: (text: string) => boolean): Promise<string> =>
  openPage(page, url, what, ready);

/** The address of the correlation's run in the UI (opening the workflow by id redirects there). */
let runUrl: string | undefined;
async function theRunUrl(): Promise<string> {
  if (runUrl === undefined) {
    await openUntil(`${stack.uiUrl}/namespaces/default/workflows/${workflowId}`, 'the run', () =>
      /\/history$/.test(page.url()),
    );
    runUrl = page.url().replace(/\/history$/, '');
  }
  return runUrl;
}

async function screenshot(name: string): Promise<string> {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  process.stdout.write(`screenshot: ${path}\n`);
  return path;
}

describe('the Temporal UI on the local stack', () => {
  // Inside the describe: its afterAll runs before test/support/setup.ts's, which SIGKILLs every server left.
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orch-ui-'));
    stack = await startLocalStack(
      { dataDir, temporalPort: await getFreePort(), uiPort: await getFreePort(), natsPort: await getFreePort() },
      () => undefined,
    );
    nc = await connect({ servers: stack.natsUrl });
    const jsm = await nc.jetstreamManager();
    await waitFor('the SIGNALS stream', () =>
      jsm.streams.info(SIGNALS_STREAM).then(
        () => true,
        () => undefined,
      ),
    );

    // Both agents, so it decides at once (the local stack's policy waits 5 minutes for a missing one).
    const instrument = { source_signal: { instrument: 'BTC/USD' } };
    const js = nc.jetstream();
    await js.publish(
      signalSubject('momentum'),
      JSON.stringify(
        momentum(corrId, { trend_direction: 'bullish', momentum_strength: 0.78, confidence: 0.85 }, instrument),
      ),
    );
    await js.publish(
      signalSubject('risk'),
      JSON.stringify(risk(corrId, { risk_level: 'medium', overall_score: 0.6 }, instrument)),
    );
    await waitFor('the decision on DECISIONS', async () => {
      if (!(await jsm.streams.info(DECISIONS_STREAM).catch(() => undefined))) return undefined;
      return (await storedDecisions(jsm, corrId))[0];
    });

    ({ browser, page } = await openBrowser());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await nc?.close();
    await stack?.stop();
  });

  it('finds the decided correlation by its CorrelationId search attribute', async () => {
    const query = encodeURIComponent(`CorrelationId = "${corrId}"`);
    const text = await openUntil(
      `${stack.uiUrl}/namespaces/default/workflows?query=${query}`,
      `a listed ${workflowId}`,
      (t) => t.includes(workflowId),
    );
    // One row: this correlation, completed, of the correlation workflow type; the filter is shown.
    expect(text).toMatch(new RegExp(`Completed\\s+${workflowId}\\s+[0-9a-f-]{36}\\s+correlationWorkflowV5`));
    expect(text).toContain(`"${corrId}"`);
    expect(text).toMatch(/1–1\s+of 1/);
    await screenshot('workflow-list');
  }, 90_000);

  it('opens it by workflow id: the decision is its result', async () => {
    const text = await openUntil(`${stack.uiUrl}/namespaces/default/workflows/${workflowId}`, 'the decision', (t) =>
      t.includes('"reasoning"'),
    );
    runUrl = page.url().replace(/\/history$/, '');
    expect(text).toContain(workflowId);
    expect(text).toContain('Completed');
    expect(text).toContain('correlationWorkflowV5');
    expect(text).toMatch(/"action": "trade"/);
    expect(text).toMatch(/"route": "standard"/);
    expect(text).toMatch(/"contributing_agents": \[\s*"momentum",\s*"risk"\s*\]/);
    // The event history names the deciding local activity and its summary.
    expect(text).toMatch(
      /Local Activity\s+Activity Type\s+decideAndPublish\s+Summary\s+decide on 2 signal\(s\) and publish to orchestrated\.decision/,
    );
    // The UI redirects to the run's own address; the other tabs hang off it.
    expect(runUrl).toMatch(new RegExp(`/workflows/${workflowId}/[0-9a-f-]{36}$`));
    await screenshot('workflow-decision');
  }, 90_000);

  it('shows its search attributes', async () => {
    const text = await openUntil(`${await theRunUrl()}/search-attributes`, 'the search attributes', (t) =>
      t.includes('"CorrelationStatus"'),
    );
    for (const [name, value] of Object.entries({
      CorrelationId: `"${corrId}"`,
      CorrelationStatus: '"completed"',
      DecisionAction: '"trade"',
      DecisionRoute: '"standard"',
      Instrument: '"BTC/USD"',
      PolicyVersion: '"default-1"',
      PartialData: 'false',
    })) {
      expect(text).toContain(`"${name}": ${value}`);
    }
    await screenshot('search-attributes');
  }, 90_000);

  it('says in words what the correlation is: the memo summary, and the summaries of its steps', async () => {
    const run = await theRunUrl();
    const memo = await openUntil(`${run}/memo`, 'the memo', (t) => t.includes('"summary"'));
    expect(memo).toContain(
      `"summary": "Correlation ${corrId}: waits for momentum, risk for up to 5m after its first signal (policy default-1), then decides"`,
    );
    expect(memo).toMatch(/"expected_agents": \[\s*"momentum",\s*"risk"\s*\]/);
    await screenshot('memo');

    const metadata = await openUntil(`${run}/user-metadata`, 'the steps with summaries', (t) =>
      t.includes('and publish to orchestrated.decision'),
    );
    expect(metadata).toContain('decide on 2 signal(s) and publish to orchestrated.decision');
    // The workflow's own summary, from its start, is rendered (as markdown) in a frame of its own.
    const frame = page.frameLocator('iframe[title="output"]').first();
    expect(await frame.locator('body').innerText({ timeout: 10_000 })).toContain(
      `correlation ${corrId}: momentum, risk within 5m`,
    );
    await screenshot('user-metadata');
  }, 90_000);
});
