// Shared by the browser tests: Debian's Chromium driven by playwright-core,
// headless and offline (no background networking, no component updates).
import { chromium } from 'playwright-core';

export const BASE = process.env.DANGO_WEB_URL || 'http://127.0.0.1:8800';

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', e => problems.push('page error: ' + e.message));
  // an API answering 4xx is logged by Chromium as a failed resource: the
  // tests check those answers themselves
  page.on('console', m => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push('console error: ' + m.text());
  });
  return { browser, page, problems };
}

export function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}
