/**
 * Payload encryption seen in the Temporal UI: the local stack (`npm start`'s) with ORCH_CODEC_KEYS
 * starts a codec server and points the UI at it (`--ui-codec-endpoint`), so the browser, through
 * the codec server's CORS, shows the decision decrypted, while Temporal holds only ciphertext.
 * Headless Chromium driven by playwright-core, as in test/ui/ui.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { connect, type NatsConnection } from 'nats';
import type { Browser, Page } from 'playwright-core';
import { ENCODING } from '../../src/codec';
import { type LocalStack, startLocalStack } from '../../src/devstack/local-stack';
import { getFreePort } from '../../src/devstack/processes';
import { DECISIONS_STREAM, SIGNALS_STREAM, signalSubject } from '../../src/nats/streams';
import { workflowIdFor } from '../../src/shared/correlation-api';
import { storedDecisions } from '../support/decisions';
import { waitFor } from '../support/e2e-stack';
import { openBrowser, openUntil, SCREENSHOT_DIR } from '../support/browser';
import { momentum, risk, uniqueCorrId } from '../support/signals';

let stack: LocalStack;
let nc: NatsConnection;
let browser: Browser;
let page: Page;
const corrId = uniqueCorrId('codec-ui');
const workflowId = workflowIdFor(corrId);
const marker = `desk-note-${randomBytes(6).toString('hex')}`;

describe('the Temporal UI with payload encryption on', () => {
  beforeAll(async () => {
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
    nc = await connect({ servers: stack.natsUrl });
    const jsm = await nc.jetstreamManager();
    await waitFor('the SIGNALS stream', () =>
      jsm.streams.info(SIGNALS_STREAM).then(
        () => true,
        () => undefined,
      ),
    );
    const extra = { source_signal: { instrument: 'BTC/USD' } };
    const js = nc.jetstream();
    await js.publish(
      signalSubject('momentum'),
      JSON.stringify(
        momentum(
          corrId,
          { trend_direction: 'bullish', momentum_strength: 0.78, confidence: 0.85, desk_note: marker },
          extra,
        ),
      ),
    );
    await js.publish(
      signalSubject('risk'),
      JSON.stringify(risk(corrId, { risk_level: 'medium', overall_score: 0.6 }, extra)),
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

  it('starts a codec server next to the stack and tells the UI about it', async () => {
    expect(stack.codecServer?.running).toBe(true);
    const settings = (await (await fetch(`${stack.uiUrl}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Temporal itself holds the result encrypted.
    const client = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
    try {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const result = history.events!.at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0];
      expect(Buffer.from(result.metadata!.encoding!).toString()).toBe(ENCODING);
    } finally {
      await client.connection.close();
    }
  });

  it('shows the decision decrypted, fetched by the browser from the codec server', async () => {
    const text = await openUntil(
      page,
      `${stack.uiUrl}/namespaces/default/workflows/${workflowId}`,
      'the decrypted decision',
      (t) => t.includes('"reasoning"'),
    );
    expect(text).toMatch(/"action": "trade"/);
    expect(text).toMatch(/"contributing_agents": \[\s*"momentum",\s*"risk"\s*\]/);
    expect(text).not.toContain(ENCODING);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'codec-workflow-decision.png'), fullPage: true });
  }, 90_000);
});
