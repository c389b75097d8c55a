/**
 * Headless Chromium from the operating system's packages (Debian `chromium`), driven with
 * playwright-core, which downloads no browser of its own. scripts/test-services.mjs installs the
 * package where it can; where it is missing the test fails naming it, never skips.
 */
import { existsSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { chromium, type Browser } from 'playwright-core';

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The network is closed here: without these Chromium keeps trying to reach the internet. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchChromium(t: ExecutionContext): Promise<Browser> {
  if (!existsSync(EXECUTABLE)) {
    throw new Error(`no Chromium at ${EXECUTABLE}: install the Debian package \`chromium\` (as root: apt-get install -y chromium; scripts/test-services.mjs does it), or set CHROMIUM_PATH`);
  }
  const browser = await chromium.launch({ executablePath: EXECUTABLE, args: FLAGS, headless: true });
  t.teardown(() => browser.close());
  return browser;
}
