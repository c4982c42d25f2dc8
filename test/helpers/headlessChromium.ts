/** Debian's Chromium, which the webview tests, the e2e tests and the benchmark charts drive through playwright-core. */
export const CHROMIUM = process.env['EMBEDTUNE_CHROMIUM'] ?? '/usr/bin/chromium';

/** Headless, with nothing started in the background that would reach the network or change between runs. */
export const HEADLESS_CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
