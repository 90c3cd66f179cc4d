// Conversations and stored Responses in Redis (issue 15 item 5): two mocks sharing one real
// redis-server agree on conversations, their items, the turns POST /v1/responses appends, stored
// responses and their deletion, and /admin/reset on one clears them for both; with Redis gone a
// mock still answers from what it kept itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startMockLLM, type MockLLM } from '../../src/library.ts';
import { RedisServer, redisMissing } from '../state/support/redis.ts';
import { freshPrefix } from '../state/support/replicas.ts';

const MODEL = 'gpt-4o-mini';
const CONFIG = {
  responses: { ping: 'pong' },
  rules: [
    { id: 'again-first', match: { prompt: 'again', assistant_turns: 0 }, response: 'first time' },
    { id: 'again-later', match: { prompt: 'again', assistant_turns: { gte: 1 } }, response: 'said before' },
  ],
  defaults: { unknown_response: "I don't know." },
};

describe('two mocks sharing one Redis', { skip: redisMissing }, () => {
  let redis: RedisServer;
  let a: MockLLM;
  let b: MockLLM;
  let clientA: OpenAI;
  let clientB: OpenAI;

  before(async () => {
    redis = await RedisServer.start();
    const prefix = freshPrefix();
    [a, b] = await Promise.all([startMockLLM({ config: CONFIG, redis: { url: redis.url, prefix } }), startMockLLM({ config: CONFIG, redis: { url: redis.url, prefix } })]);
    clientA = new OpenAI({ baseURL: a.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
    clientB = new OpenAI({ baseURL: b.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0 });
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  test('a conversation made on one is read, extended and continued on the other', async () => {
    const conversation = await clientA.conversations.create({ metadata: { owner: 'a' }, items: [{ role: 'user', content: 'hello' }] });
    assert.deepEqual(await clientB.conversations.retrieve(conversation.id), conversation);
    await clientB.conversations.update(conversation.id, { metadata: { owner: 'b' } });
    assert.deepEqual((await clientA.conversations.retrieve(conversation.id)).metadata, { owner: 'b' });

    await clientB.conversations.items.create(conversation.id, { items: [{ role: 'user', content: 'from b' }] });
    // A turn answered by A is history for the next turn answered by B.
    const first = await clientA.responses.create({ model: MODEL, input: 'again', conversation: conversation.id });
    assert.equal(first.output_text, 'first time');
    const second = await clientB.responses.create({ model: MODEL, input: 'again', conversation: conversation.id });
    assert.equal(second.output_text, 'said before');

    const texts = [];
    for await (const item of clientA.conversations.items.list(conversation.id, { order: 'asc' })) texts.push((item as { content: { text: string }[] }).content[0]!.text);
    assert.deepEqual(texts, ['hello', 'from b', 'again', 'first time', 'again', 'said before']);

    const last = (await clientB.conversations.items.list(conversation.id, { limit: 1 })).data[0]!;
    await clientA.conversations.items.delete(last.id!, { conversation_id: conversation.id });
    assert.equal((await clientB.conversations.items.list(conversation.id)).data.length, 5);

    await clientB.conversations.delete(conversation.id);
    await assert.rejects(clientA.conversations.retrieve(conversation.id), (error: unknown) => error instanceof OpenAI.NotFoundError);
  });

  test('a response stored by one is retrieved, listed and deleted through the other', async () => {
    const created = await clientA.responses.create({ model: MODEL, input: 'ping' });
    assert.equal((await clientB.responses.retrieve(created.id)).output_text, 'pong');
    assert.equal((await clientB.responses.inputItems.list(created.id)).data.length, 1);
    await clientB.responses.delete(created.id);
    await assert.rejects(clientA.responses.retrieve(created.id), (error: unknown) => error instanceof OpenAI.NotFoundError);
  });

  test('a reset on one clears conversations and stored responses for both', async () => {
    const conversation = await clientA.conversations.create({});
    const response = await clientA.responses.create({ model: MODEL, input: 'ping' });
    await b.reset();
    await assert.rejects(clientA.conversations.retrieve(conversation.id), (error: unknown) => error instanceof OpenAI.NotFoundError);
    await assert.rejects(clientA.responses.retrieve(response.id), (error: unknown) => error instanceof OpenAI.NotFoundError);
  });

  test('with Redis gone a mock answers from what it kept itself', async () => {
    const conversation = await clientA.conversations.create({ items: [{ role: 'user', content: 'kept' }] });
    const response = await clientA.responses.create({ model: MODEL, input: 'ping' });
    await redis.stop();
    assert.equal((await clientA.conversations.retrieve(conversation.id)).id, conversation.id);
    const turn = await clientA.responses.create({ model: MODEL, input: 'again', conversation: conversation.id });
    assert.equal(turn.output_text, 'first time');
    assert.equal((await clientA.conversations.items.list(conversation.id)).data.length, 3);
    assert.equal((await clientA.responses.retrieve(response.id)).id, response.id);
  });
});
