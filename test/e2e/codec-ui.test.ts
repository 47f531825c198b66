/**
 * Payload encryption seen in the Temporal UI: the local stack (`npm start`'s) with ORCH_CODEC_KEYS
 * starts a codec server and points the UI at it (`--ui-codec-endpoint`), so the browser, through
 * the codec server's CORS, shows the decision decrypted, while Temporal holds only ciphertext.
 * Headless Chromium driven by playwright-core, as in test/ui/ui.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { connect, type NatsConnection } from 'nats';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ENCODING } from '../../src/codec';
import { type LocalStack, startLocalStack } from '../../src/devstack/local-stack';
import { getFreePort } from '../../src/devstack/processes';
import { DECISIONS_STREAM, SIGNALS_STREAM, signalSubject } from '../../src/nats/streams';
import { workflowIdFor } from '../../src/shared/correlation-api';
import { storedDecisions } from '../support/decisions';
import { waitFor } from '../support/e2e-stack';
import { REPO_ROOT } from '../support/paths';
import { momentum, risk, uniqueCorrId } from '../support/signals';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT_DIR = join(REPO_ROOT, '.cache', 'ui');
const PAGE_DEADLINE_MS = 60_000;

let stack: LocalStack;
let nc: NatsConnection;
let browser: Browser;
let page: Page;
const corrId = uniqueCorrId('codec-ui');
const workflowId = workflowIdFor(corrId);
const marker = `desk-note-${randomBytes(6).toString('hex')}`;

/** Opens `url` and reloads it until the page's text satisfies `ready`; returns that text. */
async function openUntil(url: string, what: string, ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + PAGE_DEADLINE_MS;
  let text = '';
  for (let attempt = 1; ; attempt++) {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    for (let i = 0; i < 16 && !ready(text); i++) {
      await page.waitForTimeout(250);
      text = await page.innerText('body').catch(() => '');
    }
    if (ready(text)) return text;
    if (Date.now() > deadline) throw new Error(`after ${attempt} load(s) of ${url} the page still does not show ${what}; it shows:\n${text}`);
  }
}

describe('the Temporal UI with payload encryption on', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/install-tools.sh\` as root; it installs Debian's chromium package`);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'orch-codec-ui-'));
    stack = await startLocalStack(
      {
        dataDir,
        temporalPort: await getFreePort(),
        uiPort: await getFreePort(),
        natsPort: await getFreePort(),
        env: { ORCH_CODEC_KEYS: `ui-key:${randomBytes(32).toString('base64')}` },
      },
      () => undefined,
    );
    nc = await connect({ servers: stack.nats.url });
    const jsm = await nc.jetstreamManager();
    await waitFor('the SIGNALS stream', () => jsm.streams.info(SIGNALS_STREAM).then(() => true, () => undefined));
    const extra = { source_signal: { instrument: 'BTC/USD' } };
    const js = nc.jetstream();
    await js.publish(signalSubject('momentum'), JSON.stringify(momentum(corrId, { trend_direction: 'bullish', momentum_strength: 0.78, confidence: 0.85, desk_note: marker }, extra)));
    await js.publish(signalSubject('risk'), JSON.stringify(risk(corrId, { risk_level: 'medium', overall_score: 0.6 }, extra)));
    await waitFor('the decision on DECISIONS', async () => {
      if (!(await jsm.streams.info(DECISIONS_STREAM).catch(() => undefined))) return undefined;
      return (await storedDecisions(jsm, corrId))[0];
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await nc?.close();
    await stack?.stop();
  });

  it('starts a codec server next to the stack and tells the UI about it', async () => {
    expect(stack.codecServer?.running).toBe(true);
    const settings = (await (await fetch(`${stack.temporal.uiUrl}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Temporal itself holds the result encrypted.
    const client = new Client({ connection: await Connection.connect({ address: stack.temporal.address }) });
    try {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const result = history.events!.at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0];
      expect(Buffer.from(result.metadata!.encoding!).toString()).toBe(ENCODING);
    } finally {
      await client.connection.close();
    }
  });

  it('shows the decision decrypted, fetched by the browser from the codec server', async () => {
    const text = await openUntil(`${stack.temporal.uiUrl}/namespaces/default/workflows/${workflowId}`, 'the decrypted decision', (t) => t.includes('"reasoning"'));
    expect(text).toMatch(/"action": "trade"/);
    expect(text).toMatch(/"contributing_agents": \[\s*"momentum",\s*"risk"\s*\]/);
    expect(text).not.toContain(ENCODING);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'codec-workflow-decision.png'), fullPage: true });
  }, 90_000);
});
