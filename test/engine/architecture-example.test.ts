// docs/architecture.md's worked example is true: its provider, taken from the document as written
// and added to the provider list, is served with no other change (routes with parameters, its own
// error shape, NDJSON streaming, rules naming its endpoint, the journal).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createApp } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import { baselineFromConfig } from '../../src/engine/rules.ts';
import { RuleStore } from '../../src/engine/store.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Metrics } from '../../src/observability/metrics.ts';
import { PROVIDERS } from '../../src/providers/index.ts';
import type { Provider } from '../../src/providers/provider.ts';
import { createMemoryState } from '../../src/state/memory.ts';

let server: Server;
let url: string;
let dir: string;
let state: ReturnType<typeof createMemoryState>;

before(async () => {
  const doc = await readFile(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
  const code = /```ts\n(\/\/ src\/providers\/echo\/index\.ts\n[\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(code, 'the worked example is in docs/architecture.md');
  // The example's imports are relative to src/providers/echo/; here they point at the same files.
  const src = pathToFileURL(join(import.meta.dirname, '../../src/')).href;
  const located = code.replaceAll("from '../../", `from '${src}`).replaceAll("from '../", `from '${src}providers/`);
  dir = await mkdtemp(join(tmpdir(), 'mockllm-echo-'));
  await writeFile(join(dir, 'echo.ts'), located);
  const { echo } = (await import(pathToFileURL(join(dir, 'echo.ts')).href)) as { echo: Provider };

  const baseline = baselineFromConfig(parseConfig('rules:\n  - match: {endpoint: "/echo/{model}/say", contains: hello}\n    response: {text: "Hello back", chunking: word}\n', 'echo.yml').doc);
  state = createMemoryState({ journalSize: 10 });
  const store = new RuleStore(baseline, state.overlay, state.sequences);
  const app = createApp({
    store,
    state,
    logger: createLogger('silent'),
    metrics: new Metrics({ ruleCounts: () => store.counts() }),
    lifecycle: { ready: true },
    providers: [echo, ...PROVIDERS],
  });
  server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const say = (body: unknown, model = 'parrot-1') =>
  fetch(`${url}/echo/${model}/say`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('the example provider answers from a rule that names it, with its path parameter as the model', async () => {
  const res = await say({ text: 'hello there' });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { said: 'Hello back' });
  const [entry] = (await state.journal.list()) as { provider: string; model: string; ruleId: string }[];
  assert.deepEqual([entry!.provider, entry!.model], ['echo', 'parrot-1']);
});

test('the example provider streams NDJSON, one line per content chunk', async () => {
  const res = await say({ text: 'hello', stream: true });
  assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
  assert.deepEqual((await res.text()).trim().split('\n'), ['{"piece":"Hello"}', '{"piece":" back"}', '{"done":true}']);
});

test('bad input and unknown paths get the example provider\'s own error shape', async () => {
  const bad = await say({ text: 42 });
  assert.equal(bad.status, 400);
  assert.deepEqual(await bad.json(), { error: 'text must be a string' });
  const unknown = await fetch(`${url}/echo/x/shout`, { method: 'POST' });
  assert.equal(unknown.status, 404);
  assert.deepEqual(await unknown.json(), { error: 'no route POST /echo/x/shout' });
});
