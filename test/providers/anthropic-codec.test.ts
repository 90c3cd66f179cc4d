// Anthropic's parser and encoder without a server: a request body becomes the neutral
// conversation, the core decides, and the encoder renders the decision as JSON and as the event
// ladder (content chunks marked for pacing and faults).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import { decide } from '../../src/engine/decide.ts';
import { baselineFromConfig } from '../../src/engine/rules.ts';
import { ApiError } from '../../src/http/errors.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../src/http/stream-writer.ts';
import { renderMessage, renderMessageStream } from '../../src/providers/anthropic/messages-encode.ts';
import { parseMessagesRequest } from '../../src/providers/anthropic/messages-request.ts';
import { ruleStoreInMemory } from '../../src/state/memory.ts';

const store = ruleStoreInMemory(
  baselineFromConfig(
    parseConfig(
      `rules:
  - id: weather
    match: {contains: weather, tools: [get_weather], tool_result: false}
    response: {text: "Let me look.", tool_calls: [{name: get_weather, id: toolu_fixed, arguments: {city: Paris}}]}
  - id: done
    match: {tool_result: get_weather}
    response: {text: "Sunny in Paris.", stop_reason: end_turn, chunking: word}
`,
      'codec.yml',
    ).doc,
  ),
);
const info = { header: (name: string) => (name === 'anthropic-version' ? '2023-06-01' : undefined), strict: false };

async function answer(body: unknown) {
  const { request, conversation } = parseMessagesRequest(body, info, '/v1/messages');
  const decision = await decide(store.current, conversation, store);
  assert.equal(decision.outcome.kind, 'reply');
  if (decision.outcome.kind !== 'reply') throw new Error('unreachable');
  return { request, conversation, decision, reply: decision.outcome.reply! };
}

/** The stream's events by name, and how many content chunks were marked. */
function events(frames: Iterable<StreamItem>): { names: string[]; chunks: number; data: Record<string, unknown>[] } {
  const names: string[] = [];
  const data: Record<string, unknown>[] = [];
  let chunks = 0;
  for (const frame of frames) {
    if (frame === CONTENT_CHUNK) {
      chunks++;
      continue;
    }
    const [event, payload] = String(frame).split('\n');
    names.push(event!.replace('event: ', ''));
    data.push(JSON.parse(payload!.replace('data: ', '')) as Record<string, unknown>);
  }
  return { names, chunks, data };
}

const tools = [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];

describe('Anthropic messages codec', () => {
  test('the user turn and the offered tools become the neutral conversation', () => {
    const { conversation } = parseMessagesRequest(
      { model: 'claude-sonnet-5-5', max_tokens: 10, system: 'Be brief.', tools, messages: [{ role: 'user', content: [{ type: 'text', text: 'the weather?' }] }] },
      info,
      '/v1/messages',
    );
    assert.deepEqual(
      { provider: conversation.provider, model: conversation.model, system: conversation.system, prompt: conversation.prompt, tools: conversation.tools },
      { provider: 'anthropic', model: 'claude-sonnet-5-5', system: 'Be brief.', prompt: 'the weather?', tools: ['get_weather'] },
    );
  });

  test('a body without messages is a 400 in the provider catalogue', () => {
    assert.throws(() => parseMessagesRequest({ model: 'claude-sonnet-5-5', max_tokens: 10 }, info, '/v1/messages'), (error: unknown) => error instanceof ApiError && error.status === 400);
  });

  test('a tool call renders as text then tool_use, with the rule\'s id and the stop reason tool_use', async () => {
    const { reply, conversation, request } = await answer({ model: 'claude-sonnet-5-5', max_tokens: 10, tools, messages: [{ role: 'user', content: 'weather in Paris?' }] });
    const message = renderMessage(reply, conversation, request) as { content: unknown[]; stop_reason: string; usage: { output_tokens: number } };
    assert.deepEqual(message.content, [
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    assert.equal(message.stop_reason, 'tool_use');
    assert.ok(message.usage.output_tokens > 0);
  });

  test('the stream is the event ladder, one marked chunk per text piece and argument fragment', async () => {
    const { reply, conversation, request } = await answer({ model: 'claude-sonnet-5-5', max_tokens: 10, tools, messages: [{ role: 'user', content: 'weather in Paris?' }] });
    const { names, chunks, data } = events(renderMessageStream(reply, conversation, request));
    assert.deepEqual(names.slice(0, 3), ['message_start', 'content_block_start', 'ping']);
    assert.deepEqual(names.slice(-2), ['message_delta', 'message_stop']);
    assert.equal(chunks, reply.textChunksJson.length + reply.toolCalls[0]!.fragmentsJson.length);
    const text = data.filter((d) => (d.delta as { type?: string } | undefined)?.type === 'text_delta').map((d) => (d.delta as { text: string }).text).join('');
    assert.equal(text, 'Let me look.');
    const json = data.filter((d) => (d.delta as { type?: string } | undefined)?.type === 'input_json_delta').map((d) => (d.delta as { partial_json: string }).partial_json).join('');
    assert.deepEqual(JSON.parse(json), { city: 'Paris' });
    assert.equal((data.at(-2)!.delta as { stop_reason: string }).stop_reason, 'tool_use');
  });

  test('the tool result step of the loop is answered by the tool_result rule, word by word', async () => {
    const { reply, conversation, request, decision } = await answer({
      model: 'claude-sonnet-5-5',
      max_tokens: 10,
      tools,
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_fixed', content: '22°C' }] },
      ],
    });
    assert.equal(decision.rule?.id, 'done');
    const { chunks } = events(renderMessageStream(reply, conversation, request));
    assert.equal(chunks, 3, '"Sunny", " in", " Paris."');
  });
});
