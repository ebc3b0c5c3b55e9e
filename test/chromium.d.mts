import type { Browser } from 'playwright-core';

/** Where Chromium is looked for (`CHROMIUM_PATH`, else /usr/bin/chromium). */
export const chromiumPath: string;
/** Starts headless Chromium; throws a clear error when it is not installed. */
export function launchChromium(): Promise<Browser>;
