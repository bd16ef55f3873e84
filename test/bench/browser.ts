/**
 * Headless Chromium for the dashboard's tests and benchmarks: Debian's package driven by
 * playwright-core (no browser download). A missing browser is an error that says how to install it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.SPINAL_CHROMIUM ?? '/usr/bin/chromium';

/** `extraArgs`: more Chromium switches, e.g. `--ignore-certificate-errors-spki-list=<hash>` to trust one test key. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the dashboard's browser tests need Debian's chromium (apt-get install chromium), or SPINAL_CHROMIUM set to a Chromium binary`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs],
  });
}
