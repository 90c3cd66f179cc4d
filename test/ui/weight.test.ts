// What the dashboard costs a browser on the default config: every byte it transfers on first load
// (under 300 KB, the bound) and the time from navigation to a live request list, printed
// as a figure (timings belong to benchmarks: the bound asserted here only catches a hang).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { chromiumMissing, launch, type Browser } from './browser.ts';

describe('the dashboard\'s weight and time to interactive on the default config', { skip: chromiumMissing }, () => {
  let browser: Browser;
  let server: TestServer;
  before(async () => {
    const defaultConfig = await readFile(new URL('../../config/responses.yml', import.meta.url), 'utf8');
    [browser, server] = await Promise.all([launch(), startTestServer(defaultConfig)]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the first load transfers under 300 KB and the page goes live; the figures are printed', async () => {
    const page = await browser.newPage();
    let bytes = 0;
    page.on('response', async (response) => {
      const body = await response.body().catch(() => Buffer.alloc(0));
      bytes += body.length + Object.entries(response.headers()).reduce((sum, [k, v]) => sum + k.length + v.length + 4, 0);
    });
    const started = performance.now();
    await page.goto(`${server.url}/admin/ui/`);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 30_000 });
    await page.locator('#rules-count, #requests').first().waitFor({ timeout: 30_000 });
    const interactiveMs = performance.now() - started;
    // Let the responses that were still being read finish counting.
    await page.waitForLoadState('networkidle').catch(() => {});
    console.log(`dashboard on the default config: ${(bytes / 1024).toFixed(1)} KB transferred, live after ${interactiveMs.toFixed(0)} ms (navigation to a live request list, headless chromium)`);
    assert.ok(bytes > 1000, 'the page loaded something');
    assert.ok(bytes < 300 * 1024, `${bytes} bytes`);
    await page.close();
  });
});
