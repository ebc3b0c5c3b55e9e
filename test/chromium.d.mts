import type { Browser } from 'playwright-core';

/** Where Chromium is looked for (`CHROMIUM_PATH`, else /usr/bin/chromium). */
export const chromiumPath: string;
/** The flags headless Chromium needs for WebGPU on the SwiftShader adapter (the page must come from 127.0.0.1). */
export const WEBGPU_ARGS: string[];
/** Starts headless Chromium (with {@link WEBGPU_ARGS} when `webgpu`); throws a clear error when it is not installed. */
export function launchChromium(options?: { webgpu?: boolean }): Promise<Browser>;
