/**
 * The Temporal UI as an operator sees it: headless Chromium (Debian's `chromium`, installed by
 * scripts/install-tools.sh) driven by playwright-core. Screenshots go to .cache/ui/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { REPO_ROOT } from './paths';

const CHROMIUM = '/usr/bin/chromium';
/** Without the background-networking flags Chromium's own connections crowd out the page's here. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOT_DIR = join(REPO_ROOT, '.cache', 'ui');
/** Visibility and the UI's own fetches lag the workflow by a moment: pages are reloaded until they show it. */
const PAGE_DEADLINE_MS = 60_000;

export async function openBrowser(): Promise<{ browser: Browser; page: Page }> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: run \`bash scripts/install-tools.sh\` as root; it installs Debian's chromium package`,
    );
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return { browser, page: await browser.newPage({ viewport: { width: 1600, height: 1000 } }) };
}

/** Opens `url` and reloads it until the page's text satisfies `ready`; returns that text. */
export async function openUntil(
  page: Page,
  url: string,
  what: string,
  ready: (text: string) => boolean,
): Promise<string> {
  const deadline = Date.now() + PAGE_DEADLINE_MS;
  let text = '';
  for (let attempt = 1; ; attempt++) {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    // Give the single-page app a few seconds to fetch and render before reloading.
    for (let i = 0; i < 16 && !ready(text); i++) {
      await page.waitForTimeout(250);
      text = await page.innerText('body').catch(() => '');
    }
    if (ready(text)) return text;
    if (Date.now() > deadline)
      throw new Error(`after ${attempt} load(s) of ${url} the page still does not show ${what}; it shows:\n${text}`);
  }
}
