// The proxy's pieces on their own: upstream flags, the scrubber, the frame splitter, the recorded
// latency, and the decoders on streams cut at awkward places.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicRecorder } from '../../src/providers/anthropic/recorder.ts';
import { openAiRecorder } from '../../src/providers/openai-format/recorder.ts';
import { PROVIDERS } from '../../src/providers/index.ts';
import type { UpstreamAnswer } from '../../src/providers/provider.ts';
import { sseSplitter } from '../../src/proxy/frames.ts';
import { latencyOf, originOf, recordedMatch } from '../../src/proxy/record.ts';
import { Scrubber } from '../../src/proxy/scrub.ts';
import { parseUpstreams } from '../../src/proxy/upstream.ts';

test('upstreams come from flags and MOCKLLM_UPSTREAM_<PROVIDER>; a flag wins over the variable; bad entries say what is wrong', () => {
  const env = { MOCKLLM_UPSTREAM_OPENAI: 'https://env.example/', MOCKLLM_UPSTREAM_ANTHROPIC: 'https://api.anthropic.com', PATH: '/bin' };
  assert.deepEqual(parseUpstreams(['openai=https://api.openai.com'], env, PROVIDERS), { openai: 'https://api.openai.com', anthropic: 'https://api.anthropic.com' });
  assert.throws(() => parseUpstreams(['openai'], {}, PROVIDERS), /give PROVIDER=URL/);
  assert.throws(() => parseUpstreams(['openai=ftp://x'], {}, PROVIDERS), /must be an http or https URL/);
  assert.throws(() => parseUpstreams(['openai=not a url'], {}, PROVIDERS), /is not a URL/);
  assert.throws(() => parseUpstreams([], { MOCKLLM_UPSTREAM_NOBODY: 'http://x' }, PROVIDERS), /MOCKLLM_UPSTREAM_NOBODY: "nobody" is not a provider/);
});

test('an upstream URL is written to the file without credentials or query', () => {
  assert.equal(originOf('https://user:secret@api.example.com/base?key=AIzaSecret'), 'https://api.example.com/base');
});

test('the scrubber removes the client credentials verbatim and key-shaped strings, and leaves ordinary text', () => {
  const scrubber = Scrubber.fromRequest({ authorization: 'Bearer my-private-token-value', 'x-goog-api-key': 'short', 'content-type': 'application/json' }, new URLSearchParams('key=query-secret-123'));
  const text = [
    'token my-private-token-value and query-secret-123',
    'openai sk-proj-abcDEF0123456789ghiJKL',
    'anthropic sk-ant-api03-abcdefghij0123456789-XYZ',
    'google AIzaSyA1234567890abcdefghijklmnopqrstuv',
    'aws AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'header Bearer abcdefghijklmnop1234',
    'kept: sk-learn-is-a-library, task-management, short, application/json',
  ].join('\n');
  const scrubbed = scrubber.text(text);
  for (const secret of ['my-private-token-value', 'query-secret-123', 'sk-proj-abc', 'sk-ant-api03', 'AIzaSyA', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'abcdefghijklmnop1234']) {
    assert.ok(!scrubbed.includes(secret), `${secret} survived:\n${scrubbed}`);
  }
  assert.match(scrubbed, /aws_secret_access_key=\[REDACTED\]/);
  assert.match(scrubbed, /Bearer \[REDACTED\]/);
  assert.match(scrubbed, /kept: sk-learn-is-a-library, task-management, short, application\/json/);
  assert.deepEqual(scrubber.deep({ a: ['sk-proj-abcDEF0123456789ghiJKL', 3, null], b: { 'my-private-token-value': true } }), { a: ['[REDACTED]', 3, null], b: { '[REDACTED]': true } });
});

test('SSE frames are split however the bytes arrive: CRLF, CR, split lines, comments, multi-line data', () => {
  const splitter = sseSplitter();
  const wire = ': comment\r\nevent: one\r\ndata: a\r\ndata: b\r\n\r\ndata: {"x":1}\n\ndata: two\r\rdata: cut';
  for (let i = 0; i < wire.length; i += 3) splitter.push(wire.slice(i, i + 3), i);
  assert.deepEqual(
    splitter.frames!.map(({ event, data }) => ({ event, data })),
    [{ event: 'one', data: 'a\nb' }, { event: undefined, data: '{"x":1}' }, { event: undefined, data: 'two' }],
  );
});

test('latency: ttft is the first content frame; the pace spreads the output tokens over the rest', () => {
  assert.deepEqual(latencyOf([120, 220, 320, 1120], { text: 'x', usage: { completion_tokens: 50 } }), { ttft_ms: 120, tokens_per_second: 50 });
  assert.deepEqual(latencyOf([80], { text: 'one chunk' }), { ttft_ms: 80 });
  assert.equal(latencyOf([], { text: '' }), undefined);
});

test('a recorded match pins provider, endpoint, model, prompt and the turn', () => {
  const conversation = {
    provider: 'openai', endpoint: '/v1/chat/completions', model: 'gpt-4o', system: '', prompt: 'go',
    messages: [{ role: 'user' as const, text: 'go' }, { role: 'assistant' as const, text: '' }, { role: 'tool' as const, text: '{}' }, { role: 'assistant' as const, text: '' }, { role: 'tool' as const, text: '{}' }],
    tools: ['search'], toolResult: { name: 'search', content: '{}' }, stream: false, header: () => undefined,
  };
  assert.deepEqual(recordedMatch(conversation), { provider: 'openai', endpoint: '/v1/chat/completions', model: 'gpt-4o', prompt: 'go', tool_result: 'search', assistant_turns: 2 });
});

const answer = (endpoint: string, frames: { event?: string; data: unknown }[] | undefined, body = ''): UpstreamAnswer => ({
  endpoint,
  status: 200,
  header: () => undefined,
  body,
  frames: frames?.map((f, i) => ({ ...(f.event && { event: f.event }), data: typeof f.data === 'string' ? f.data : JSON.stringify(f.data), atMs: i * 10 })),
});

test('OpenAI chat stream: tool calls reassembled by index with their ids; without [DONE] nothing is decoded', () => {
  const delta = (d: unknown, finish: string | null = null) => ({ data: { choices: [{ index: 0, delta: d, finish_reason: finish }] } });
  const frames = [
    delta({ role: 'assistant', content: null }),
    delta({ tool_calls: [{ index: 0, id: 'call_A', type: 'function', function: { name: 'search', arguments: '' } }] }),
    delta({ tool_calls: [{ index: 1, id: 'call_B', type: 'function', function: { name: 'fetch', arguments: '{"u' } }] }),
    delta({ tool_calls: [{ index: 0, function: { arguments: '{"q":"x"}' } }] }),
    delta({ tool_calls: [{ index: 1, function: { arguments: 'rl":1}' } }] }),
    delta({}, 'tool_calls'),
    { data: { choices: [], usage: { prompt_tokens: 12, completion_tokens: 30 } } },
  ];
  const decoded = openAiRecorder.decode(answer('/v1/chat/completions', [...frames, { data: '[DONE]' }]));
  assert.deepEqual(decoded?.response, {
    tool_calls: [{ name: 'search', arguments: '{"q":"x"}', id: 'call_A' }, { name: 'fetch', arguments: '{"url":1}', id: 'call_B' }],
    finish_reason: 'tool_calls',
    usage: { prompt_tokens: 12, completion_tokens: 30 },
  });
  assert.deepEqual(decoded?.contentAtMs, [20, 30, 40]);
  assert.equal(openAiRecorder.decode(answer('/v1/chat/completions', frames)), undefined);
});

test('Responses: a failed or unfinished stream is not decoded; an incomplete one records finish length', () => {
  const created = { data: { type: 'response.created', response: { status: 'in_progress' } } };
  assert.equal(openAiRecorder.decode(answer('/v1/responses', [created, { data: { type: 'response.failed', response: { status: 'failed' } } }])), undefined);
  assert.equal(openAiRecorder.decode(answer('/v1/responses', [created])), undefined);
  const incomplete = { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [{ type: 'message', content: [{ type: 'output_text', text: 'Trunc' }] }], usage: { input_tokens: 3, output_tokens: 16 } };
  assert.deepEqual(openAiRecorder.decode(answer('/v1/responses', undefined, JSON.stringify(incomplete)))?.response, { text: 'Trunc', finish_reason: 'length', usage: { input_tokens: 3, output_tokens: 16 } });
});

test('Anthropic stream: text then tool_use with partial JSON; without message_stop nothing is decoded', () => {
  const frames = [
    { data: { type: 'message_start', message: { usage: { input_tokens: 21, output_tokens: 1 } } } },
    { data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    { data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me look.' } } },
    { data: { type: 'content_block_stop', index: 0 } },
    { data: { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_X', name: 'search', input: {} } } },
    { data: { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":' } } },
    { data: { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"x"}' } } },
    { data: { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 40 } } },
  ];
  assert.equal(anthropicRecorder.decode(answer('/v1/messages', frames)), undefined);
  const decoded = anthropicRecorder.decode(answer('/v1/messages', [...frames, { data: { type: 'message_stop' } }]));
  assert.deepEqual(decoded?.response, {
    text: 'Let me look.',
    tool_calls: [{ name: 'search', arguments: { q: 'x' }, id: 'toolu_X' }],
    stop_reason: 'tool_use',
    usage: { input_tokens: 21, output_tokens: 40 },
  });
  assert.deepEqual(decoded?.contentAtMs, [20, 50, 60]);
});

test('Anthropic: the prompt-cache figures the upstream reports are kept, from a message and from message_start, as Bedrock InvokeModel keeps them', () => {
  const usage = { input_tokens: 5, output_tokens: 7, cache_read_input_tokens: 1200, cache_creation_input_tokens: 300 };
  const expected = { text: 'Cached.', stop_reason: 'end_turn', usage };
  const message = { type: 'message', content: [{ type: 'text', text: 'Cached.' }], stop_reason: 'end_turn', usage };
  assert.deepEqual(anthropicRecorder.decode(answer('/v1/messages', undefined, JSON.stringify(message)))?.response, expected);
  const frames = [
    { data: { type: 'message_start', message: { usage: { ...usage, output_tokens: 1 } } } },
    { data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    { data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Cached.' } } },
    { data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } } },
    { data: { type: 'message_stop' } },
  ];
  assert.deepEqual(anthropicRecorder.decode(answer('/v1/messages', frames))?.response, expected);
  assert.equal(anthropicRecorder.decode(answer('/v1/messages', [...frames.slice(0, 3), { data: { type: 'error', error: { type: 'overloaded_error' } } }, ...frames.slice(3)])), undefined);
});
