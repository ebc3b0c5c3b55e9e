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

/**
 * What headless Chromium needs for WebGPU without a GPU: the SwiftShader (software Vulkan) adapter. WebGPU also
 * needs a secure context, so the page must come from http://127.0.0.1 (not about:blank or file:).
 */
export const WEBGPU_ARGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
];

/**
 * Starts headless Chromium; throws a clear error when it is not installed. `{ webgpu: true }` adds
 * {@link WEBGPU_ARGS} (and drops `--disable-gpu`, which would hide the adapter).
 */
export async function launchChromium({ webgpu = false } = {}) {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install chromium, or set CHROMIUM_PATH`);
  }
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { chromium } = createRequire(path.join(root, 'package.json'))('playwright-core');
  const args = webgpu ? [...ARGS.filter((a) => a !== '--disable-gpu'), ...WEBGPU_ARGS] : ARGS;
  return chromium.launch({ executablePath: chromiumPath, args });
}
