// What the log says about each request: a rejected request's line carries the reason (error type
// and message), the provider and the model; at debug, one line per answered request says which
// rule answered, or which rules came closest and why they missed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { eventually } from '../helpers/poll.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer(`rules:
  - id: weather
    match: {contains: weather, model: "gpt-4*"}
    response: "Sunny."
`);
});

after(async () => {
  await server?.stop();
});

type LogLine = Record<string, unknown>;

/** The first log line that passes `pick`, once it is written. */
const logLine = (pick: (line: LogLine) => boolean, what: string): Promise<LogLine> =>
  eventually(() => server.logs.find(pick), { what }) as Promise<LogLine>;

const lineFor = (requestId: string, msg: string) => logLine((l) => l.requestId === requestId && l.msg === msg, `the ${msg} line of ${requestId}`);

test('a rejected request is logged with the error type and message, the provider and the model', async () => {
  const res = await post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: 'not a list' });
  assert.equal(res.status, 400);
  const line = await lineFor(res.headers.get('x-request-id')!, 'request');
  assert.equal(line.provider, 'openai');
  assert.equal(line.model, 'gpt-4o-mini');
  assert.equal(line.errorType, 'invalid_request_error');
  assert.match(String(line.errorMessage), /messages/);

  const anthropic = await post(`${server.url}/v1/messages`, { model: 'claude-sonnet-5-5', messages: [] }, { 'anthropic-version': '2023-06-01' });
  assert.equal(anthropic.status, 400);
  const anthropicLine = await lineFor(anthropic.headers.get('request-id')!, 'request');
  assert.deepEqual([anthropicLine.provider, anthropicLine.model, anthropicLine.errorType], ['anthropic', 'claude-sonnet-5-5', 'invalid_request_error']);
});

test('at debug, an answered request gets a line saying which rule answered and why', async () => {
  const res = await post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'the weather today?' }] });
  assert.equal(res.status, 200);
  const requestId = res.headers.get('x-request-id')!;
  const line = await logLine((l) => l.requestId === requestId && l.level === 20 && String(l.msg).startsWith('rule '), 'the debug line');
  assert.equal(line.msg, 'rule weather (file) matched: contains, model');
});

test('at debug, an unmatched request gets a line naming the closest rule and the condition it missed', async () => {
  const res = await post(`${server.url}/v1/chat/completions`, { model: 'o3', messages: [{ role: 'user', content: 'the weather today?' }] });
  assert.equal(res.headers.get('x-mockllm-match'), 'none');
  const requestId = res.headers.get('x-request-id')!;
  const line = await logLine((l) => l.requestId === requestId && l.level === 20 && String(l.msg).startsWith('no rule'), 'the debug line');
  assert.equal(line.msg, 'no rule matched; closest: weather (model: wanted `gpt-4*`, got `o3`)');
});
