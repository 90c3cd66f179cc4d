// Debian's chromium driven by playwright-core, for the dashboard tests. Absent chromium, the tests
// skip and say why (.ci/run installs it with apt-get).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumMissing: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`;

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

export interface Browser {
  context: BrowserContext;
  /** Every request any page made, so a test can check that none left the server. */
  requests: Request[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** A fresh profile each time: no cache, no session storage from an earlier run. */
export async function launch(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'mockllm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1360, height: 820 },
    timeout: 60_000,
  });
  const requests: Request[] = [];
  context.on('request', (request) => requests.push(request));
  return {
    context,
    requests,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
