// Launches Debian's headless Chromium through playwright-core for the browser tests (the demo, the consumer's
// browser bundle, the report check). playwright cannot download browsers here, so it drives /usr/bin/chromium
// (or CHROMIUM_PATH) with flags that keep it off the network.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where Chromium is looked for. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts headless Chromium; throws a clear error when it is not installed. */
export async function launchChromium() {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install chromium, or set CHROMIUM_PATH`);
  }
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { chromium } = createRequire(path.join(root, 'package.json'))('playwright-core');
  return chromium.launch({ executablePath: chromiumPath, args: ARGS });
}
