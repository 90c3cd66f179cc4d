// The OpenAI Agents SDK (@openai/agents 0.20) against a real strict server on 127.0.0.1 (issue 15
// item 5): an OpenAIConversationsSession over several turns, a tool loop among them, with the
// conversation's items read back through the openai SDK; and the WebSocket transport
// (useResponsesWebSocket), streaming and not, a tool loop in each, every model call going over
// one upgraded socket (the journal shows the upgrade and no POST /v1/responses).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Agent, OpenAIConversationsSession, OpenAIProvider, Runner, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MODEL = 'gpt-4o-mini';

const CONFIG = `
rules:
  - id: greet
    match: {contains: "My name is Ada", assistant_turns: 0}
    response: Nice to meet you, Ada.
  - id: recall
    match: {contains: "What is my name", assistant_turns: {gte: 1}}
    response: Your name is Ada.
  - id: recall-without-history
    match: {contains: "What is my name", assistant_turns: 0}
    response: I do not know your name.
  - id: weather-call
    match: {contains: "weather in Paris", tool_result: false}
    response:
      tool_calls:
        - {name: get_weather, arguments: {city: Paris}}
  - id: weather-answer
    match: {tool_result: get_weather}
    response: It is sunny in Paris.
defaults:
  unknown_response: "I don't know."
settings:
  strict: true
`;

setTracingDisabled(true);

let server: TestServer;
let client: OpenAI;
const toolCalls: string[] = [];

const getWeather = tool({
  name: 'get_weather',
  description: 'The weather in a city.',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    toolCalls.push(city);
    return `Sunny, 21°C in ${city}`;
  },
});

const agent = new Agent({ name: 'Assistant', instructions: 'Answer briefly.', model: MODEL, tools: [getWeather] });

before(async () => {
  server = await startTestServer(CONFIG);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

beforeEach(async () => {
  toolCalls.length = 0;
  assert.equal((await fetch(`${server.url}/admin/reset`, { method: 'POST' })).status, 204);
});

interface JournalEntry {
  method: string;
  endpoint: string;
  status: number;
}

async function journal(): Promise<JournalEntry[]> {
  const body = (await (await fetch(`${server.url}/admin/requests?limit=500`)).json()) as { requests?: JournalEntry[] } | JournalEntry[];
  return Array.isArray(body) ? body : (body.requests ?? []);
}

describe('OpenAIConversationsSession', () => {
  test('several turns keep their history in a server-side conversation, a tool loop included', async () => {
    const runner = new Runner({ modelProvider: new OpenAIProvider({ openAIClient: client, useResponses: true }), tracingDisabled: true });
    const session = new OpenAIConversationsSession({ client });

    const first = await runner.run(agent, 'My name is Ada.', { session });
    assert.equal(first.finalOutput, 'Nice to meet you, Ada.');
    const conversationId = await session.getSessionId();
    assert.match(conversationId, /^conv_/);

    // The second turn's request carries the first turn back from the conversation's items.
    const second = await runner.run(agent, 'What is my name?', { session });
    assert.equal(second.finalOutput, 'Your name is Ada.');

    const third = await runner.run(agent, 'And the weather in Paris?', { session });
    assert.equal(third.finalOutput, 'It is sunny in Paris.');
    assert.deepEqual(toolCalls, ['Paris']);

    const items = [];
    for await (const item of client.conversations.items.list(conversationId, { order: 'asc' })) items.push(item);
    const summary = items.map((item) =>
      item.type === 'message'
        ? `${item.role}: ${(item.content[0] as { text: string }).text}`
        : item.type === 'function_call'
          ? `call ${item.name}(${item.arguments})`
          : item.type === 'function_call_output'
            ? `output ${String(item.output)}`
            : item.type,
    );
    assert.deepEqual(summary, [
      'user: My name is Ada.',
      'assistant: Nice to meet you, Ada.',
      'user: What is my name?',
      'assistant: Your name is Ada.',
      'user: And the weather in Paris?',
      'call get_weather({"city":"Paris"})',
      'output Sunny, 21°C in Paris',
      'assistant: It is sunny in Paris.',
    ]);
    assert.equal((await session.getItems()).length, 8);

    // popItem deletes the newest item; clearSession deletes the conversation.
    const popped = await session.popItem();
    assert.equal((popped as { role?: string }).role, 'assistant');
    assert.equal((await session.getItems(100)).length, 7);
    await session.clearSession();
    await assert.rejects(client.conversations.retrieve(conversationId), (error: unknown) => error instanceof OpenAI.NotFoundError);
  });

  test('a streamed run in a session sees the same history', async () => {
    const runner = new Runner({ modelProvider: new OpenAIProvider({ openAIClient: client, useResponses: true }), tracingDisabled: true });
    const session = new OpenAIConversationsSession({ client });
    await runner.run(agent, 'My name is Ada.', { session });
    const streamed = await runner.run(agent, 'What is my name?', { session, stream: true });
    let text = '';
    for await (const event of streamed.toTextStream()) text += event;
    await streamed.completed;
    assert.equal(text, 'Your name is Ada.');
    assert.equal(streamed.finalOutput, 'Your name is Ada.');
  });
});

describe('a server-managed conversation (conversationId)', () => {
  for (const transport of ['HTTP', 'WebSocket'] as const) {
    test(`runs over ${transport} send only new items with conversation, and the server keeps the whole history`, async () => {
      const provider = new OpenAIProvider({ openAIClient: client, useResponses: true, useResponsesWebSocket: transport === 'WebSocket' });
      const runner = new Runner({ modelProvider: provider, tracingDisabled: true });
      try {
        const { id: conversationId } = await client.conversations.create({});
        assert.equal((await runner.run(agent, 'My name is Ada.', { conversationId })).finalOutput, 'Nice to meet you, Ada.');
        assert.equal((await runner.run(agent, 'What is my name?', { conversationId })).finalOutput, 'Your name is Ada.');
        assert.equal((await runner.run(agent, 'And the weather in Paris?', { conversationId })).finalOutput, 'It is sunny in Paris.');
        assert.deepEqual(toolCalls, ['Paris']);
        const types = [];
        for await (const item of client.conversations.items.list(conversationId, { order: 'asc' })) types.push(item.type === 'message' ? item.role : item.type);
        assert.deepEqual(types, ['user', 'assistant', 'user', 'assistant', 'user', 'function_call', 'function_call_output', 'assistant']);
      } finally {
        await provider.close();
      }
    });
  }
});

describe('the WebSocket transport', () => {
  for (const stream of [false, true]) {
    test(`a ${stream ? 'streamed' : 'non-streamed'} run with a tool loop goes over one socket`, async () => {
      const provider = new OpenAIProvider({ openAIClient: client, useResponses: true, useResponsesWebSocket: true });
      const runner = new Runner({ modelProvider: provider, tracingDisabled: true });
      try {
        let output: unknown;
        if (stream) {
          const result = await runner.run(agent, 'What is the weather in Paris?', { stream: true });
          let text = '';
          for await (const chunk of result.toTextStream()) text += chunk;
          await result.completed;
          assert.equal(text, 'It is sunny in Paris.');
          output = result.finalOutput;
        } else {
          output = (await runner.run(agent, 'What is the weather in Paris?')).finalOutput;
        }
        assert.equal(output, 'It is sunny in Paris.');
        assert.deepEqual(toolCalls, ['Paris']);
        // previous_response_id chains the second turn on the same socket: a second run reuses it too.
        const again = await runner.run(agent, 'My name is Ada.');
        assert.equal(again.finalOutput, 'Nice to meet you, Ada.');
      } finally {
        await provider.close();
      }
      const entries = (await journal()).filter((entry) => entry.endpoint === '/v1/responses');
      // One upgrade, no POST; each model call is a `response.create` on the socket (listed as WS).
      assert.deepEqual(entries.filter((entry) => entry.method !== 'WS').map((entry) => [entry.method, entry.status]), [['GET', 101]]);
      assert.deepEqual(entries.filter((entry) => entry.method === 'WS').map((entry) => entry.status), [200, 200, 200]);
    });
  }

  test('a model error on the socket fails the run with the SDK’s terminal-error message', async () => {
    const provider = new OpenAIProvider({ openAIClient: client, useResponses: true, useResponsesWebSocket: true });
    const runner = new Runner({ modelProvider: provider, tracingDisabled: true });
    const broken = new Agent({ name: 'Broken', model: MODEL, modelSettings: { providerData: { colour: 'red' } } });
    try {
      await assert.rejects(runner.run(broken, 'hello'), /unsuccessful terminal state "error"/);
    } finally {
      await provider.close();
    }
  });
});
