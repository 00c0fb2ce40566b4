/**
 * The Chromium row: bundle test/runtimes/consumer/browser.mjs with esbuild
 * (platform browser, no special configuration), serve it from a page on
 * localhost, and run it in headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against the emulator's loopback API and CDN (CORS).
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';

export const CHROMIUM = process.env.NEMO_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserOutcome {
  ok: boolean;
  version: string;
  result: Record<string, unknown> | undefined;
  console: string[];
  bundleKB: number;
}

/** Bundle, serve and run the browser workflow; `consumerDir` has the tarball installed. */
export async function runInChromium(consumerDir: string, apiUrl: string): Promise<BrowserOutcome> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set NEMO_CHROMIUM`,
    );
  }
  let bundle: Uint8Array;
  try {
    const out = await build({
      entryPoints: [`${consumerDir}/browser.mjs`],
      absWorkingDir: consumerDir,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    bundle = (out.outputFiles[0] as { contents: Uint8Array }).contents;
  } catch (error) {
    const errors = (error as { errors?: { text: string }[] }).errors ?? [];
    throw new Error(
      `esbuild could not bundle the SDK for the browser: ${errors.map((e) => e.text).join('; ') || String(error)}`,
    );
  }
  const html =
    '<!doctype html><meta charset="utf-8"><title>nemovideo</title><script type="module" src="/bundle.js"></script>';
  const page = createServer((req, res) => {
    if (req.url === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (req.url === '/' || req.url?.startsWith('/?')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  const { port } = page.address() as AddressInfo;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
  const logs: string[] = [];
  try {
    const tab = await browser.newPage();
    tab.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    tab.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    const hash = encodeURIComponent(JSON.stringify({ apiUrl }));
    await tab.goto(`http://localhost:${port}/#${hash}`);
    await tab.waitForFunction(
      () => (window as { __result?: unknown }).__result !== undefined,
      null,
      {
        timeout: 60_000,
      },
    );
    const result = (await tab.evaluate(
      () => (window as { __result?: unknown }).__result,
    )) as Record<string, unknown>;
    return {
      ok: result.ok === true,
      version: browser.version(),
      result,
      console: logs,
      bundleKB: Math.round(bundle.byteLength / 102.4) / 10,
    };
  } finally {
    await browser.close();
    page.closeAllConnections();
    await new Promise<void>((resolve) => page.close(() => resolve()));
  }
}
