/**
 * After `npm start`: checks the written report in headless Chromium and exits non-zero when a section is missing or
 * failed, an image is broken, or the page logged an error. Usage: npx tsx test/report/check-report.ts [file] [png]
 */
import { sections } from '../../src/report/sections/index.js';
import { checkReportInChromium } from './chromium.js';

const file = process.argv[2] ?? 'report/index.html';
const check = await checkReportInChromium(file, process.argv[3]);
const problems: string[] = [];
for (const s of sections) {
  const found = check.sections.find((x) => x.id === s.id);
  if (!found) problems.push(`section ${s.id} missing`);
  else if (found.status !== 'ran' && found.status !== 'cached')
    problems.push(`section ${s.id} ${found.status}`);
}
if (check.brokenImages.length) problems.push(`broken images: ${check.brokenImages.join(', ')}`);
if (check.emptySvgs) problems.push(`${check.emptySvgs} empty SVGs`);
if (check.consoleErrors.length) problems.push(`console errors: ${check.consoleErrors.join(' | ')}`);
if (check.requests.length) problems.push(`network requests: ${check.requests.join(', ')}`);
for (const s of check.sections)
  console.log(`${s.id}\t${s.status}\t${s.svgs} svg\t${s.images} images\t${s.title}`);
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`${file}: ${check.sections.length} sections rendered, no broken image, no console error`);
