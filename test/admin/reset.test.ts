// POST /admin/reset clears all four kinds of state: admin rules, sequence progress, the journal and
// the stored Responses history (a previous_response_id from before is then unknown, as the real
// API answers an unknown id).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { admin } from './support.ts';

let server: TestServer;
let client: OpenAI;

before(async () => {
  server = await startTestServer(`rules:
  - id: seq
    match: {prompt: count}
    response: {sequence: [one, two]}
`);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-reset', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

test('after /admin/reset a previous_response_id from before is refused as unknown, and the other state is back to the file', async () => {
  const first = await client.responses.create({ model: 'gpt-4o-mini', input: 'remember me' });
  const chained = await client.responses.create({ model: 'gpt-4o-mini', input: 'and now?', previous_response_id: first.id });
  assert.equal(chained.status, 'completed', 'the chain resolves before the reset');
  assert.equal((await client.responses.create({ model: 'gpt-4o-mini', input: 'count' })).output_text, 'one');
  assert.equal((await admin(server, 'POST', '/admin/responses', { body: { id: 'extra', prompt: 'extra', response: 'Extra.' } })).status, 201);

  assert.equal((await admin(server, 'POST', '/admin/reset')).status, 204);

  const error = await client.responses.create({ model: 'gpt-4o-mini', input: 'and now?', previous_response_id: first.id }).then(
    () => assert.fail('expected the stored response to be gone'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof OpenAI.BadRequestError, String(error));
  assert.equal(error.code, 'previous_response_not_found');
  assert.equal(error.param, 'previous_response_id');
  assert.match(error.message, new RegExp(`Previous response with id '${first.id}' not found`));

  assert.equal((await client.responses.create({ model: 'gpt-4o-mini', input: 'count' })).output_text, 'one', 'the sequence starts over');
  assert.equal((await admin(server, 'GET', '/admin/responses/extra')).status, 404, 'the admin rule is gone');
  const journal = (await admin(server, 'GET', '/admin/requests')).body as { requests: unknown[] };
  assert.equal(journal.requests.length, 2, 'the journal holds only what came after the reset');
});

test('two servers in one process keep their own Responses history', async () => {
  const other = await startTestServer();
  try {
    const otherClient = new OpenAI({ baseURL: `${other.url}/v1`, apiKey: 'sk-reset', maxRetries: 0 });
    const here = await client.responses.create({ model: 'gpt-4o-mini', input: 'only here' });
    const error = await otherClient.responses.create({ model: 'gpt-4o-mini', input: 'next', previous_response_id: here.id }).then(
      () => assert.fail('a response stored by one server must be unknown to another'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
  } finally {
    await other.stop();
  }
});
