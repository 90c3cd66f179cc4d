// A client that goes away in the middle of a long stream: the server must stop writing, log the
// stream as aborted, and keep answering everyone else.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { eventually, parseSse, post, startTestServer, type SseFrame, type TestServer } from '../helpers/server.ts';
import { configYaml, UNKNOWN } from './fixtures.ts';

// ~200k characters, streamed one character per frame: far more than any socket buffer holds.
const LONG = Array.from({ length: 20_000 }, (_, i) => `word${String(i).padStart(5, '0')} `).join('');
const SHORT = 'Still here and answering.';

let server: TestServer;

before(async () => {
  server = await startTestServer(configYaml({ responses: { 'tell me everything': LONG, 'are you there?': SHORT }, unknown: UNKNOWN }));
});

after(async () => {
  await server?.stop();
});

type LogLine = Record<string, unknown>;

/** The access-log line of one request, once the server has written it. */
async function requestLog(requestId: string): Promise<LogLine> {
  const line = await eventually(() => server.logs.find((l) => l.msg === 'request' && l.requestId === requestId), { what: `the log line of ${requestId}` });
  return line!;
}

const targets = [
  {
    provider: 'OpenAI',
    path: '/v1/chat/completions',
    headers: {} as Record<string, string>,
    body: (content: string, stream: boolean) => ({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content }] }),
    textOf: (json: any) => json.choices[0].message.content as string,
    firstBytes: 'data: {"id":"chatcmpl-',
    isContentFrame: (frame: SseFrame) => frame.data !== '[DONE]' && Boolean(JSON.parse(frame.data).choices[0]?.delta.content),
  },
  {
    provider: 'Anthropic',
    path: '/v1/messages',
    headers: { 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-abort' } as Record<string, string>,
    body: (content: string, stream: boolean) => ({ model: 'claude-sonnet-5-5', max_tokens: 4096, stream, messages: [{ role: 'user', content }] }),
    textOf: (json: any) => json.content[0].text as string,
    firstBytes: 'event: message_start\n',
    isContentFrame: (frame: SseFrame) => frame.event === 'content_block_delta',
  },
];

for (const target of targets) {
  describe(`${target.provider} client disconnecting mid-stream`, () => {
    test('the request is logged with streamOutcome aborted and the next request is answered', async () => {
      const controller = new AbortController();
      const response = await fetch(`${server.url}${target.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...target.headers },
        body: JSON.stringify(target.body('tell me everything', true)),
        signal: controller.signal,
      });
      assert.equal(response.status, 200);
      const requestId = response.headers.get('x-request-id');
      assert.ok(requestId, 'the stream has no x-request-id');
      const reader = response.body!.getReader();
      const first = await reader.read();
      assert.equal(first.done, false);
      assert.ok(new TextDecoder().decode(first.value).startsWith(target.firstBytes));
      controller.abort();
      await reader.closed.catch(() => undefined);

      const line = await requestLog(requestId);
      assert.equal(line.streamOutcome, 'aborted');
      assert.equal(line.stream, true);
      assert.equal(line.status, 200);
      assert.ok(typeof line.chunks === 'number' && line.chunks < LONG.length, `the server counted ${line.chunks} of ${LONG.length} chunks`);

      const next = await post(`${server.url}${target.path}`, target.body('are you there?', false), target.headers);
      assert.equal(next.status, 200);
      assert.equal(target.textOf(await next.json()), SHORT);
    });

    test('a stream read to the end is logged as completed with as many content chunks as the client received', async () => {
      const response = await post(`${server.url}${target.path}`, target.body('are you there?', true), target.headers);
      const requestId = response.headers.get('x-request-id')!;
      const contentFrames = parseSse(await response.text()).filter(target.isContentFrame).length;
      assert.ok(contentFrames > 0);
      const line = await requestLog(requestId);
      assert.equal(line.streamOutcome, 'completed');
      assert.equal(line.chunks, contentFrames);
    });
  });
}

test('the openai SDK aborting its stream after the first chunk leaves an aborted log line and a healthy server', async () => {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-abort', maxRetries: 0 });
  const { data: stream, request_id } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'tell me everything' }] })
    .withResponse();
  let received = '';
  for await (const chunk of stream) {
    received += chunk.choices[0]?.delta.content ?? '';
    if (received.length > 0) break; // leaving the loop aborts the request
  }
  assert.ok(LONG.startsWith(received));
  assert.ok(request_id);
  const line = await requestLog(request_id);
  assert.equal(line.streamOutcome, 'aborted');
  const next = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'are you there?' }] });
  assert.equal(next.choices[0]!.message.content, SHORT);
});
