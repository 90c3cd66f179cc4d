// The OpenAI Conversations API and the stored Responses routes through the official openai SDK
// (issue 15 item 5): conversations and items, `conversation` on responses.create (history in,
// each turn's items appended), retrieve/delete/cancel/inputItems of stored responses, and the
// errors bad input gets, in OpenAI's error shape. The server is strict: the SDK's requests pass.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MODEL = 'gpt-4o-mini';

// `assistant_turns` tells whether the conversation's items reached the matcher as history.
const CONFIG = `
responses:
  ping: pong
rules:
  - id: again-first
    match: {prompt: again, assistant_turns: 0}
    response: first time
  - id: again-later
    match: {prompt: again, assistant_turns: {gte: 1}}
    response: said before
defaults:
  unknown_response: "I don't know."
settings:
  strict: true
`;

let server: TestServer;
let client: OpenAI;

before(async () => {
  server = await startTestServer(CONFIG);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

/** The error the SDK threw, with the status and OpenAI error body it carried. */
async function rejection(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the request to fail');
}

async function rawJson(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('conversations', () => {
  test('a conversation is created, read, given new metadata and deleted in the shapes the SDK types', async () => {
    const created = await client.conversations.create({ metadata: { topic: 'weather' } });
    assert.match(created.id, /^conv_[0-9a-f]{48}$/);
    assert.equal(created.object, 'conversation');
    assert.equal(typeof created.created_at, 'number');
    assert.ok(Math.abs(created.created_at - Date.now() / 1000) < 60);
    assert.deepEqual(created.metadata, { topic: 'weather' });

    assert.deepEqual(await client.conversations.retrieve(created.id), created);
    const updated = await client.conversations.update(created.id, { metadata: { topic: 'sailing', lang: 'en' } });
    assert.deepEqual(updated, { ...created, metadata: { topic: 'sailing', lang: 'en' } });

    const deleted = await client.conversations.delete(created.id);
    assert.deepEqual(deleted, { id: created.id, object: 'conversation.deleted', deleted: true });
    const gone = await rejection(client.conversations.retrieve(created.id));
    assert.ok(gone instanceof OpenAI.NotFoundError);
    assert.deepEqual(gone.error, { message: `Conversation with id '${created.id}' not found.`, type: 'invalid_request_error', param: null, code: null });
  });

  test('items given at creation and added later get ids and statuses, and list in order with paging', async () => {
    const conversation = await client.conversations.create({
      items: [
        { type: 'message', role: 'user', content: 'first' },
        { type: 'message', role: 'assistant', content: 'second' },
      ],
    });
    const added = await client.conversations.items.create(conversation.id, {
      items: Array.from({ length: 20 }, (_, i) => ({ type: 'message' as const, role: 'user' as const, content: [{ type: 'input_text' as const, text: `more ${i}` }] })),
    });
    assert.equal(added.data.length, 20);
    assert.equal(added.first_id, added.data[0]!.id);
    assert.equal(added.last_id, added.data[19]!.id);
    assert.equal(added.has_more, false);

    // The SDK pages with `after` = the last id of each page (limit 5: five pages).
    const asc: OpenAI.Conversations.ConversationItem[] = [];
    for await (const item of client.conversations.items.list(conversation.id, { order: 'asc', limit: 5 })) asc.push(item);
    assert.equal(asc.length, 22);
    const texts = asc.map((item) => (item.type === 'message' ? (item.content[0] as { text: string }).text : ''));
    assert.deepEqual(texts, ['first', 'second', ...Array.from({ length: 20 }, (_, i) => `more ${i}`)]);
    assert.deepEqual(asc[0], { type: 'message', id: asc[0]!.id, status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'first' }] });
    assert.deepEqual((asc[1] as { content: unknown }).content, [{ type: 'output_text', text: 'second', annotations: [], logprobs: [] }]);
    for (const item of asc) assert.match(item.id!, /^msg_[0-9a-f]{48}$/);
    assert.equal(new Set(asc.map((item) => item.id)).size, 22);

    // Newest first by default; the envelope as the API sends it.
    const page = await rawJson('GET', `/v1/conversations/${conversation.id}/items?limit=3`);
    assert.equal(page.status, 200);
    assert.deepEqual(Object.keys(page.json).sort(), ['data', 'first_id', 'has_more', 'last_id', 'object']);
    assert.equal(page.json.object, 'list');
    assert.deepEqual((page.json.data as { id: string }[]).map((item) => item.id), asc.slice(-3).reverse().map((item) => item.id));
    assert.equal(page.json.has_more, true);

    const one = await client.conversations.items.retrieve(asc[1]!.id!, { conversation_id: conversation.id });
    assert.deepEqual(one, asc[1]);
    const afterDelete = await client.conversations.items.delete(asc[1]!.id!, { conversation_id: conversation.id });
    assert.deepEqual(afterDelete, conversation);
    const missing = await rejection(client.conversations.items.retrieve(asc[1]!.id!, { conversation_id: conversation.id }));
    assert.equal(missing.status, 404);
    assert.equal(missing.message, `404 Item with id '${asc[1]!.id}' not found.`);
    const remaining = [];
    for await (const item of client.conversations.items.list(conversation.id, { order: 'asc', limit: 100 })) remaining.push(item.id);
    assert.deepEqual(remaining, asc.filter((_, i) => i !== 1).map((item) => item.id));
  });

  test('a response in a conversation reads its items as history and appends its input and output items', async () => {
    const conversation = await client.conversations.create({});
    const first = await client.responses.create({ model: MODEL, input: 'again', conversation: conversation.id });
    assert.equal(first.output_text, 'first time');
    assert.deepEqual(first.conversation, { id: conversation.id });
    // The object form of the parameter, and a stream: the second turn sees the first.
    const stream = await client.responses.create({ model: MODEL, input: [{ role: 'user', content: 'again' }], conversation: { id: conversation.id }, stream: true });
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) if (event.type === 'response.completed') completed = event.response;
    assert.equal(completed?.output_text ?? (completed?.output[0] as { content: { text: string }[] }).content[0]!.text, 'said before');

    const items = [];
    for await (const item of client.conversations.items.list(conversation.id, { order: 'asc' })) items.push(item);
    assert.deepEqual(
      items.map((item) => [item.type, (item as { role?: string }).role, ((item as { content: { text: string }[] }).content[0]!).text]),
      [
        ['message', 'user', 'again'],
        ['message', 'assistant', 'first time'],
        ['message', 'user', 'again'],
        ['message', 'assistant', 'said before'],
      ],
    );
    // The output items keep the ids the response gave them.
    assert.equal(items[1]!.id, first.output[0]!.id);
  });

  test('a tool call and its output round-trip through a conversation', async () => {
    const conversation = await client.conversations.create({
      items: [
        { type: 'message', role: 'user', content: 'weather?' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
      ],
    });
    const items = (await client.conversations.items.list(conversation.id, { order: 'asc' })).data;
    assert.deepEqual(items.map((item) => item.type), ['message', 'function_call', 'function_call_output']);
    assert.match(items[1]!.id!, /^fc_/);
    assert.equal((items[2] as { output: string }).output, 'sunny');
    assert.equal((items[2] as { status: string }).status, 'completed');
    // One assistant turn (the call) is history: the "again" rule for later turns answers.
    const answer = await client.responses.create({ model: MODEL, input: 'again', conversation: conversation.id });
    assert.equal(answer.output_text, 'said before');
  });
});

describe('stored responses', () => {
  test('a stored response is retrieved as it was created, lists its input items, and is deleted', async () => {
    const created = await client.responses.create({ model: MODEL, input: [{ role: 'user', content: 'ping' }], metadata: { run: '1' } });
    const retrieved = await client.responses.retrieve(created.id);
    assert.deepEqual(JSON.parse(JSON.stringify(retrieved)), JSON.parse(JSON.stringify(created)));
    assert.equal(retrieved.output_text, 'pong');

    const inputs = await client.responses.inputItems.list(created.id);
    assert.equal(inputs.data.length, 1);
    assert.deepEqual(inputs.data[0], { type: 'message', id: inputs.data[0]!.id, status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'ping' }] });
    const raw = await rawJson('GET', `/v1/responses/${created.id}/input_items`);
    assert.deepEqual(raw.json, { object: 'list', data: inputs.data, first_id: inputs.data[0]!.id, last_id: inputs.data[0]!.id, has_more: false });

    assert.deepEqual(await client.responses.delete(created.id), { id: created.id, object: 'response', deleted: true });
    assert.equal((await rawJson('DELETE', `/v1/responses/${created.id}`)).status, 404);
    const gone = await rejection(client.responses.retrieve(created.id));
    assert.ok(gone instanceof OpenAI.NotFoundError);
    assert.equal(gone.message, `404 Response with id '${created.id}' not found.`);
    const chained = await rejection(client.responses.create({ model: MODEL, input: 'ping', previous_response_id: created.id }));
    assert.equal(chained.status, 400);
    assert.equal(chained.code, 'previous_response_not_found');
  });

  test('a streamed response is stored once its stream completes', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'ping' });
    const final = await stream.finalResponse();
    const retrieved = await client.responses.retrieve(final.id);
    assert.equal(retrieved.output_text, 'pong');
    assert.equal(retrieved.status, 'completed');
  });

  test('retrieve with stream: true replays the stored response as stream events, from starting_after on', async () => {
    const created = await client.responses.create({ model: MODEL, input: 'ping' });
    const stream = await client.responses.retrieve(created.id, { stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(events.map((event) => event.type), [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    assert.deepEqual(events.map((event) => event.sequence_number), events.map((_, i) => i));
    assert.equal((events[0] as OpenAI.Responses.ResponseCreatedEvent).response.status, 'in_progress');
    // As it was created (the SDK adds `output_text` to a non-stream answer only).
    const { output_text: _text, ...wire } = created;
    assert.deepEqual(JSON.parse(JSON.stringify((events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response)), JSON.parse(JSON.stringify(wire)));
    const rest = [];
    for await (const event of await client.responses.retrieve(created.id, { stream: true, starting_after: 6 })) rest.push(event.type);
    assert.deepEqual(rest, ['response.output_item.done', 'response.completed']);
    const bad = await rawJson('GET', `/v1/responses/${created.id}?stream=true&starting_after=-2`);
    assert.equal(bad.status, 400);
    assert.equal((bad.json.error as { param: string }).param, 'starting_after');
  });

  test('store: false keeps nothing to retrieve', async () => {
    const created = await client.responses.create({ model: MODEL, input: 'ping', store: false });
    assert.equal((await rejection(client.responses.retrieve(created.id))).status, 404);
  });

  test('cancel refuses a response that was not created in background, and returns a background one as it finished', async () => {
    const foreground = await client.responses.create({ model: MODEL, input: 'ping' });
    const refused = await rejection(client.responses.cancel(foreground.id));
    assert.ok(refused instanceof OpenAI.BadRequestError);
    assert.deepEqual(refused.error, { message: 'Cannot cancel a synchronous response.', type: 'invalid_request_error', param: null, code: null });

    const background = await client.responses.create({ model: MODEL, input: 'ping', background: true });
    assert.equal(background.background, true);
    const cancelled = await client.responses.cancel(background.id);
    assert.equal(cancelled.id, background.id);
    assert.equal(cancelled.status, 'completed');
    assert.equal((await rejection(client.responses.cancel('resp_unknown'))).status, 404);
  });
});

describe('bad input', () => {
  test('an unknown conversation is a 404 on every route, and on responses.create names the parameter', async () => {
    const id = 'conv_nope';
    const attempts: [string, () => Promise<unknown>][] = [
      ['retrieve', () => client.conversations.retrieve(id)],
      ['update', () => client.conversations.update(id, { metadata: {} })],
      ['delete', () => client.conversations.delete(id)],
      ['items.list', async () => client.conversations.items.list(id)],
      ['items.create', () => client.conversations.items.create(id, { items: [{ type: 'message', role: 'user', content: 'x' }] })],
      ['items.retrieve', () => client.conversations.items.retrieve('msg_x', { conversation_id: id })],
      ['items.delete', () => client.conversations.items.delete('msg_x', { conversation_id: id })],
    ];
    for (const [what, attempt] of attempts) {
      const error = await rejection(attempt());
      assert.equal(error.status, 404, what);
      assert.equal(error.message, `404 Conversation with id '${id}' not found.`, what);
    }
    const create = await rejection(client.responses.create({ model: MODEL, input: 'ping', conversation: id }));
    assert.equal(create.status, 404);
    assert.equal(create.param, 'conversation');
  });

  test('conversation and previous_response_id together are refused', async () => {
    const conversation = await client.conversations.create({});
    const earlier = await client.responses.create({ model: MODEL, input: 'ping' });
    const error = await rejection(client.responses.create({ model: MODEL, input: 'ping', conversation: conversation.id, previous_response_id: earlier.id }));
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.equal(error.code, 'mutually_exclusive_parameters');
    assert.match(error.message, /previous_response_id' or 'conversation'/);
    const wrongType = await rawJson('POST', '/v1/responses', { model: MODEL, input: 'ping', conversation: 42 });
    assert.equal(wrongType.status, 400);
    assert.deepEqual(wrongType.json.error, {
      message: "Invalid type for 'conversation': expected a string or an object with a string 'id', but got an integer instead.",
      type: 'invalid_request_error',
      param: 'conversation',
      code: 'invalid_type',
    });
  });

  test('items are checked as input items are, at most 20 at a time', async () => {
    const tooMany = await rawJson('POST', '/v1/conversations', { items: Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' })) });
    assert.equal(tooMany.status, 400);
    assert.deepEqual(tooMany.json.error, {
      message: "Invalid 'items': array too long. Expected an array with maximum length 20, but got an array with length 21 instead.",
      type: 'invalid_request_error',
      param: 'items',
      code: 'array_above_max_length',
    });
    const badRole = await rejection(client.conversations.create({ items: [{ type: 'message', role: 'robot' as 'user', content: 'x' }] }));
    assert.equal(badRole.status, 400);
    assert.equal(badRole.param, 'items[0].role');
    const noContent = await rawJson('POST', '/v1/conversations', { items: [{ role: 'user' }] });
    assert.equal((noContent.json.error as { param: string }).param, 'items[0].content');
    const conversation = await client.conversations.create({});
    const missing = await rawJson('POST', `/v1/conversations/${conversation.id}/items`, {});
    assert.equal(missing.status, 400);
    assert.equal((missing.json.error as { code: string }).code, 'missing_required_parameter');
    const metadata = await rejection(client.conversations.update(conversation.id, { metadata: { n: 1 as unknown as string } }));
    assert.equal(metadata.param, 'metadata.n');
    const unknownField = await rawJson('POST', '/v1/conversations', { title: 'x' });
    assert.equal((unknownField.json.error as { code: string }).code, 'unknown_parameter');
  });

  test('list parameters out of range are refused', async () => {
    const conversation = await client.conversations.create({ items: [{ role: 'user', content: 'x' }] });
    const cases: [string, string, string][] = [
      ['limit=0', 'limit', 'integer_below_min_value'],
      ['limit=101', 'limit', 'integer_above_max_value'],
      ['limit=ten', 'limit', 'invalid_type'],
      ['order=newest', 'order', 'invalid_value'],
      ['after=msg_nope', 'after', 'invalid_value'],
    ];
    for (const [query, param, code] of cases) {
      const { status, json } = await rawJson('GET', `/v1/conversations/${conversation.id}/items?${query}`);
      assert.equal(status, 400, query);
      assert.deepEqual([(json.error as { param: string }).param, (json.error as { code: string }).code], [param, code], query);
    }
  });

  test('/admin/reset forgets conversations and stored responses', async () => {
    const conversation = await client.conversations.create({});
    const response = await client.responses.create({ model: MODEL, input: 'ping' });
    const reset = await fetch(`${server.url}/admin/reset`, { method: 'POST' });
    assert.equal(reset.status, 204);
    assert.equal((await rejection(client.conversations.retrieve(conversation.id))).status, 404);
    assert.equal((await rejection(client.responses.retrieve(response.id))).status, 404);
  });
});
