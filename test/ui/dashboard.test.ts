// The dashboard in a real browser (Debian's chromium through playwright-core): live requests and why
// each matched or missed, rules edited through the page, the admin token, escaping, and that the
// page talks to nobody but the server. Writes docs/dashboard.png, the README's screenshot.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { createMemoryState } from '../../src/state/memory.ts';
import type { RequestJournal } from '../../src/state/types.ts';
import { admin } from '../helpers/admin.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { chromiumMissing, launch, type Browser } from './browser.ts';

const CONFIG = `rules:
  - id: sky
    match: { prompt: "what colour is the sky?" }
    response: The sky is blue.
  - id: gpt-weather
    match: { contains: weather, model: "gpt-4*" }
    response: Sunny, says the gpt-4 rule.
  - id: counting
    match: { prompt: "count" }
    response: { sequence: [one, two, three] }
defaults:
  unknown_response: No rule matched this.
`;
const TOKEN = 'ui-secret-token';

// What the functions run in the page see (this project compiles without the DOM library).
declare const window: Record<string, unknown>;
declare const document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>; activeElement: PageElement | null };
interface PageElement {
  dataset: Record<string, string | undefined>;
  cells: ArrayLike<{ textContent: string | null }>;
}
const SCREENSHOT = new URL('../../docs/dashboard.png', import.meta.url);
/** The bound: new requests show within 2 s, without a reload. */
const LIVE_MS = 2000;
const DATA_ENDPOINTS = ['/admin/requests', '/admin/responses', '/admin/sequences', '/admin/stats', '/admin/precedence', '/admin/requests/stream'];

const openai = (server: TestServer) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ui', maxRetries: 0 });
const anthropic = (server: TestServer) => new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-ui', maxRetries: 0 });
async function ask(server: TestServer, prompt: string): Promise<string | null> {
  const completion = await openai(server).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: prompt }] });
  return completion.choices[0]!.message.content;
}

const rows = (page: Page) => page.locator('#requests tbody tr');
const visibleRuleIds = (page: Page) => page.locator('#rules tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));

describe('the dashboard in a browser', { skip: chromiumMissing }, () => {
  let browser: Browser;
  let server: TestServer;
  let page: Page;

  before(async () => {
    [browser, server] = await Promise.all([launch(), startTestServer(CONFIG)]);
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('three requests sent from Node show within 2 s without a reload, and the unmatched one says which rule came closest and what failed', async () => {
    await page.goto(`${server.url}/admin/ui`);
    assert.equal(new URL(page.url()).pathname, '/admin/ui/');
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.evaluate(() => (window.notReloaded = true));

    assert.equal(await ask(server, 'what colour is the sky?'), 'The sky is blue.');
    const missed = await anthropic(server).messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'what is the weather today?' }] });
    assert.equal(missed.content[0]?.type === 'text' && missed.content[0].text, 'No rule matched this.');
    let streamed = '';
    for await (const chunk of await openai(server).chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'count' }] })) {
      streamed += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(streamed, 'one');

    await page.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length === 3, undefined, { timeout: LIVE_MS });
    assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
    const table = await rows(page).evaluateAll((trs) => trs.map((tr) => Array.from((tr as unknown as PageElement).cells).map((td) => td.textContent)));
    // Newest first: time, provider, model, prompt, rule, status, ms, stream, endpoint.
    assert.deepEqual(table.map((cells) => [cells[1], cells[2], cells[3], cells[4], cells[5], cells[7], cells[8]]), [
      ['openai', 'gpt-4o', 'count', 'counting', '200', 'stream', '/v1/chat/completions'],
      ['anthropic', 'claude-sonnet-5-5', 'what is the weather today?', 'unmatched', '200', '', '/v1/messages'],
      ['openai', 'gpt-4o', 'what colour is the sky?', 'sky', '200', '', '/v1/chat/completions'],
    ]);

    // Keyboard: the row takes focus, Enter opens it, Escape closes it and gives the focus back.
    const unmatched = rows(page).nth(1);
    await unmatched.focus();
    await page.keyboard.press('Enter');
    const detail = page.locator('#detail');
    await detail.waitFor();
    const why = await detail.locator('section', { hasText: 'Why' }).first().innerText();
    assert.match(why, /No rule matched/);
    const closest = await detail.locator('.misses li').first().innerText();
    assert.match(closest, /^gpt-weather \(file\)/, why);
    assert.match(closest, /model: wanted `gpt-4\*`, got `claude-sonnet-5-5`/, why);
    assert.match(closest, /held: contains/, why);
    assert.match(await detail.innerText(), /"content": "what is the weather today\?"/, 'the body, pretty-printed');
    assert.match(await detail.innerText(), /"authorization": "\[REDACTED\]"/, 'credentials redacted as in the journal');
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.seq), await unmatched.getAttribute('data-seq'));

    // A matched one: the rule and its conditions, and the step of the sequence that answered.
    await rows(page).nth(0).click();
    assert.match(await detail.innerText(), /Rule counting \(file\) answered\.\s+Conditions that held: prompt\./);
    // The answer as it was sent: the stream's text, its chunks and how it ended.
    assert.match(await detail.innerText(), /Answer sent\s+Streamed in 3 content chunks: completed\. Finish: stop\.\s+one/i);

    // Filters narrow the list in place.
    await page.selectOption('#filter-matched', 'false');
    assert.equal(await rows(page).count(), 1);
    await page.selectOption('#filter-matched', '');
    await page.fill('#filter-text', 'colour');
    assert.equal(await rows(page).count(), 1);
    await page.fill('#filter-text', '');

    await rows(page).nth(1).click();
    await mkdir(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname });
  });

  test('a rule created in the page answers the next SDK call; a validation error shows inline in the admin API\'s words and changes nothing; delete and revert work', async () => {
    await page.click('#tab-rules');
    await page.locator('#rules tbody tr[data-id="sky"]').waitFor();

    await page.click('#new-rule');
    await page.fill('#editor-text', 'id: made-in-ui\nmatch:\n  prompt: made in the dashboard\nresponse: Answer from the dashboard.\n');
    await page.click('#editor-save');
    await page.locator('#editor').waitFor({ state: 'hidden' });
    await page.locator('#rules tbody tr[data-id="made-in-ui"]').waitFor();
    assert.equal(await ask(server, 'made in the dashboard'), 'Answer from the dashboard.');

    const before = (await admin(server, 'GET', '/admin/responses')).body.responses;
    const invalid = 'match:\n  prompt: typo rule\nresponse:\n  txt: oops\n';
    const apiAnswer = await admin(server, 'POST', '/admin/responses', { body: { match: { prompt: 'typo rule' }, response: { txt: 'oops' } } });
    assert.equal(apiAnswer.status, 400);
    await page.click('#new-rule');
    await page.fill('#editor-text', invalid);
    await page.keyboard.press('Control+Enter');
    await page.locator('#editor-error:not(:empty)').waitFor();
    const shown = await page.locator('#editor-error').innerText();
    assert.ok(shown.startsWith(apiAnswer.body.error.message), `${shown} | ${apiAnswer.body.error.message}`);
    assert.equal(await page.getAttribute('#editor-text', 'aria-invalid'), 'true');
    assert.deepEqual((await admin(server, 'GET', '/admin/responses')).body.responses, before, 'nothing changed');
    await page.keyboard.press('Escape');
    await page.locator('#editor').waitFor({ state: 'hidden' });

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('button[aria-label="Delete made-in-ui"]');
    await page.locator('#rules tbody tr[data-id="made-in-ui"]').waitFor({ state: 'detached' });
    assert.equal(await ask(server, 'made in the dashboard'), 'No rule matched this.');

    // A file rule replaced through the admin API goes back to the file's version.
    await admin(server, 'PUT', '/admin/responses/sky', { body: { match: { prompt: 'what colour is the sky?' }, response: 'Green, says the override.' } });
    await page.click('#tab-requests');
    await page.click('#tab-rules');
    await page.click('button[aria-label="Revert sky to the file\'s rule"]');
    await page.locator('button[aria-label="Revert sky to the file\'s rule"]').waitFor({ state: 'detached' });
    assert.equal(await ask(server, 'what colour is the sky?'), 'The sky is blue.');
    assert.deepEqual((await visibleRuleIds(page)).sort(), ['counting', 'gpt-weather', 'sky']);

    // Reset all: admin rules and the journal go, in the page too.
    await admin(server, 'POST', '/admin/responses', { body: { id: 'to-be-reset', prompt: 'p', response: 'r' } });
    await page.click('#tab-requests');
    await page.click('#tab-rules');
    await page.locator('#rules tbody tr[data-id="to-be-reset"]').waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#reset-all');
    await page.locator('#rules tbody tr[data-id="to-be-reset"]').waitFor({ state: 'detached' });
    assert.equal((await admin(server, 'GET', '/admin/requests')).body.size, 0);
    assert.equal(await rows(page).count(), 0);
  });

  test('a prompt holding markup shows as text, in the list, the details and the rules, and no script runs', async () => {
    const markup = '<script>window.injected = 1</script><img src=x onerror="window.injected = 2"> hi';
    await admin(server, 'POST', '/admin/responses', { body: { id: 'markup', match: { contains: '<b onmouseover=alert(1)>' }, response: '<img src=y onerror="window.injected = 3">' } });
    await page.click('#tab-rules');
    await page.locator('#rules tbody tr[data-id="markup"]').waitFor();
    assert.match(await page.locator('#rules tbody tr[data-id="markup"]').innerText(), /contains = <b onmouseover=alert\(1\)>/);

    await page.click('#tab-requests');
    await ask(server, markup);
    const row = rows(page).filter({ hasText: '<script>' });
    await row.waitFor({ timeout: 5000 });
    assert.equal(await row.locator('td.prompt').textContent(), markup.toLowerCase().replace(/\s+/g, ' '));
    await row.click();
    assert.ok((await page.locator('#detail').innerText()).includes(markup));
    assert.equal(await page.locator('main img, main script').count(), 0);
    assert.equal(await page.evaluate(() => window.injected), undefined);
    await admin(server, 'DELETE', '/admin/responses/markup');
  });

  test('the status panel shows the config file, its reload result, rule counts and live charts', async () => {
    await page.click('#tab-status');
    const facts = page.locator('#status');
    await facts.locator('dt').first().waitFor();
    const text = await facts.innerText();
    assert.ok(text.includes(server.configPath), text);
    assert.match(text, /Rules\s+3 from the file, 0 from the admin API/);
    assert.match(text, /Last reload result\s+ok/);
    await page.locator('#chart-rate svg').waitFor();
    await page.locator('#chart-latency svg').waitFor();
  });

  test('with an admin token the page shows only a login form, the data endpoints answer 401, and with the token everything works', async () => {
    const secured = await startTestServer(CONFIG, { adminToken: TOKEN });
    const tab = await browser.newPage();
    const adminStatuses: number[] = [];
    tab.on('response', (res) => {
      const path = new URL(res.url()).pathname;
      if (path.startsWith('/admin/') && !path.startsWith('/admin/ui')) adminStatuses.push(res.status());
    });
    try {
      await tab.goto(`${secured.url}/admin/ui/`);
      await tab.locator('#login').waitFor();
      assert.equal(await tab.locator('#tabs').isVisible(), false);
      assert.equal(await tab.locator('[role=tabpanel]:visible').count(), 0, 'no panel shows');
      assert.equal(await tab.locator('#requests tbody tr, #rules tbody tr').count(), 0, 'no data is loaded');
      assert.ok(adminStatuses.length > 0 && adminStatuses.every((status) => status === 401), String(adminStatuses));
      for (const path of DATA_ENDPOINTS) assert.equal((await fetch(`${secured.url}${path}`)).status, 401, path);

      await tab.fill('#token', 'not-the-token');
      await tab.keyboard.press('Enter');
      await tab.locator('#login-error', { hasText: 'refused' }).waitFor();
      assert.equal(await tab.locator('#tabs').isVisible(), false);

      await tab.fill('#token', TOKEN);
      await tab.keyboard.press('Enter');
      await tab.locator('#tabs').waitFor();
      await tab.locator('#connection[data-state="live"]').waitFor();
      assert.equal(await ask(secured, 'what colour is the sky?'), 'The sky is blue.');
      await tab.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length === 1, undefined, { timeout: LIVE_MS });
      await tab.click('#tab-rules');
      await tab.locator('#rules tbody tr[data-id="sky"]').waitFor();
      // Kept for the tab's session: a reload does not ask again.
      await tab.reload();
      await tab.locator('#tabs').waitFor();
      assert.equal(await tab.locator('#login').isVisible(), false);
    } finally {
      await tab.close();
      await secured.stop();
    }
  });

  test('after the server restarts, the page reconnects by itself and shows the new server\'s requests', async () => {
    const first = await startTestServer(CONFIG);
    const tab = await browser.newPage();
    let second: TestServer | undefined;
    try {
      await tab.goto(`${first.url}/admin/ui/`);
      await tab.locator('#connection[data-state="live"]').waitFor();
      await ask(first, 'what colour is the sky?');
      await tab.locator('#requests tbody tr').first().waitFor();
      await tab.evaluate(() => (window.notReloaded = true));

      await first.stop();
      await tab.locator('#connection[data-state^="reconnecting"]').waitFor();
      second = await startTestServer(CONFIG, { port: first.port });
      await tab.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
      await ask(second, 'count');
      // The new server's journal starts again at seq 1: the page lists what that server holds.
      await tab.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length === 1 && document.querySelectorAll('#requests tbody tr td.prompt')[0]?.textContent === 'count', undefined, { timeout: 15_000 });
      assert.equal(await tab.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
    } finally {
      await tab.close();
      await first.stop();
      await second?.stop();
    }
  });

  test('with a journal that cannot push new entries (no subscribe), the page asks for them instead', async () => {
    const pushless = await startTestServer(CONFIG, {
      state: (journalSize) => {
        const state = createMemoryState({ journalSize });
        const { journal } = state;
        const withoutPush: RequestJournal = {
          get capacity() {
            return journal.capacity;
          },
          append: (record) => journal.append(record),
          list: (filter) => journal.list(filter),
          size: () => journal.size(),
          clear: () => journal.clear(),
          resize: (capacity) => journal.resize(capacity),
        };
        return { ...state, journal: withoutPush };
      },
    });
    const tab = await browser.newPage();
    try {
      assert.equal((await admin(pushless, 'GET', '/admin/requests/stream')).status, 404);
      await tab.goto(`${pushless.url}/admin/ui/`);
      await tab.locator('#connection[data-state="live"]').waitFor();
      await ask(pushless, 'what colour is the sky?');
      await tab.locator('#requests tbody tr', { hasText: 'what colour is the sky?' }).waitFor({ timeout: 15_000 });
    } finally {
      await tab.close();
      await pushless.stop();
    }
  });

  test('no page made a request to any host but the server', () => {
    assert.ok(browser.requests.length > 10, `${browser.requests.length} requests recorded`);
    const foreign = browser.requests.map((r) => r.url()).filter((url) => !url.startsWith('data:') && new URL(url).hostname !== '127.0.0.1');
    assert.deepEqual(foreign, []);
  });
});
