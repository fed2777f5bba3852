// A headless Chromium for the viewer's browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (no browser download at install time). Screenshots go to test-artifacts/viewer/
// (gitignored; CI keeps them), named by the test that took them.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitUntil } from '../support/wait.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve('test-artifacts', 'viewer');

export async function launch(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
        '--disable-sync',
      ],
    });
  } catch (e) {
    throw new Error(
      `could not start Chromium at ${CHROMIUM} (install it: apt-get install chromium, or set CHROMIUM_PATH): ${String(e)}`,
      { cause: e },
    );
  }
}

/** A page that fails the test on any uncaught error of the page, logged with the console's. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const url = m.location().url;
    // Chromium logs every 404 as an error: a trace opened right after its write (the panel's link)
    // is asked for before its spans reach the viewer, and the page shows that and asks again.
    const expected = /favicon/.test(url) || (/\/api\/viewer\/traces\//.test(url) && m.text().includes('404'));
    if (m.type() === 'error' && !expected) errors.push(`console: ${m.text()} (${url})`);
  });
  await page.goto(url);
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** What the timeline drew last: window.raftViewer.timeline, set by src/viewer/web/timeline.tsx
 *  (the fields the tests read; pixel positions are CSS pixels of the canvas). */
export interface DrawnTimeline {
  domain: [number, number];
  lanes: string[];
  bars: {
    traceId: string;
    kind: string;
    node: string;
    startMs: number;
    endMs: number;
    error: boolean;
    x0: number;
    x1: number;
    y: number;
  }[];
  arrows: {
    traceId: string;
    kind: string;
    from: string;
    to: string;
    sentMs: number;
    method: string;
    error: boolean;
    lost: boolean;
    x0: number;
    y0: number;
    x1: number;
    y1: number;
  }[];
  marks: { kind: 'term' | 'leader' | 'chaos'; atMs: number; node: string; label: string; traceId: string }[];
  heartbeats: number;
  drawMs: number;
  follow: boolean;
}

export function drawn(page: Page): Promise<DrawnTimeline | null> {
  return page.evaluate(() => {
    const w = window as unknown as { raftViewer?: { timeline?: DrawnTimeline } };
    return w.raftViewer?.timeline ?? null;
  });
}

/** Polls a condition on the page until it holds, failing with `what` and a screenshot's path. */
export async function pageUntil<T>(
  page: Page,
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  try {
    return await waitUntil(what, fn, { timeoutMs, everyMs: 200 });
  } catch (e) {
    const shot = await screenshot(page, `failed-${what.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => '');
    throw new Error(`${e instanceof Error ? e.message : String(e)}${shot ? `\n(screenshot: ${shot})` : ''}`, {
      cause: e,
    });
  }
}
