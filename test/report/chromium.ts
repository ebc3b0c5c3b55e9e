/**
 * Opens a report HTML file in Debian's headless Chromium (playwright-core) and checks that it rendered: every
 * `<section>` present with a heading, no section failed, every image loaded, every inline SVG has a size, no
 * console error and no network request. Used by the report test and, after `npm start`, by
 * `npx tsx test/report/check-report.ts report/index.html`.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from '../chromium.mjs';

export interface ReportCheck {
  sections: { id: string; title: string; status: string; images: number; svgs: number }[];
  brokenImages: string[];
  emptySvgs: number;
  consoleErrors: string[];
  requests: string[];
}

export { chromiumPath } from '../chromium.mjs';

export async function checkReportInChromium(file: string, screenshot?: string): Promise<ReportCheck> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    const url = pathToFileURL(path.resolve(file)).href;
    page.on('request', (r) => {
      if (r.url() !== url && !r.url().startsWith('data:')) requests.push(r.url());
    });
    await page.goto(url, { waitUntil: 'load' });
    const result = await page.evaluate(() => {
      const sections = [...document.querySelectorAll('main > section:not(.glance)')].map((s) => ({
        id: s.id,
        title: s.querySelector('h2')?.textContent ?? '',
        status: s.getAttribute('data-status') ?? '',
        images: s.querySelectorAll('img, image').length,
        svgs: s.querySelectorAll('svg').length,
      }));
      const brokenImages = [...document.querySelectorAll('img')]
        .filter((i) => !i.complete || i.naturalWidth === 0)
        .map((i) => i.alt || i.src.slice(0, 40));
      const emptySvgs = [...document.querySelectorAll('main svg')].filter((s) => {
        const r = s.getBoundingClientRect();
        return r.width === 0 || r.height === 0;
      }).length;
      return { sections, brokenImages, emptySvgs };
    });
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { ...result, consoleErrors, requests };
  } finally {
    await browser.close();
  }
}
