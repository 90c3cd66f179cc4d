// Sequence rules over HTTP: `then: repeat_last` (the default) and `then: loop` over four calls,
// steps of every kind, one counter per rule across providers and stream modes, the journal's
// ruleId and step, resets, and what a hot reload keeps (progress by rule id) or restarts (a
// sequence whose rule the file changed).
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { eventually, startTestServer, type TestServer } from '../helpers/server.ts';
import { journalOf, resetSequences } from './support.ts';

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';

const sequenceRules = (extra = '', thirdStep = 'third') => `
rules:
  - id: repeat
    match: {prompt: repeat}
    response:
      sequence: [first, second, ${thirdStep}]
  - id: loop
    match: {prompt: loop}
    response:
      sequence: [first, second, third]
      then: loop
  - id: mixed
    match: {prompt: mixed}
    response:
      sequence:
        - {error: {status: 503}}
        - {tool_calls: [{name: lookup, arguments: {q: x}}]}
        - {text: done, chunking: whole}
${extra}defaults:
  unknown_response: "no rule matched"
`;

let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  server = await startTestServer(sequenceRules());
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-seq', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-seq', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

beforeEach(async () => {
  await resetSequences(server);
});

async function ask(prompt: string): Promise<string> {
  const completion = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: prompt }] });
  return completion.choices[0]!.message.content ?? '';
}

async function askAnthropicStream(prompt: string): Promise<string> {
  return anthropic.messages.stream({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: prompt }] }).finalText();
}

describe('step order', () => {
  test('repeat_last (the default) answers first, second, third, then third again', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await ask('repeat'));
    assert.deepEqual(answers, ['first', 'second', 'third', 'third']);
  });

  test('loop answers first, second, third, then first again', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await ask('loop'));
    assert.deepEqual(answers, ['first', 'second', 'third', 'first']);
  });

  test('the journal records each call\'s rule id and step', async () => {
    for (let i = 0; i < 4; i++) await ask('loop');
    const calls = await journalOf(server, 'loop');
    assert.deepEqual(calls.slice(-4).map((c) => c.step), [0, 1, 2, 0]);
    const repeat = await journalOf(server, 'repeat');
    assert.ok(repeat.every((c) => c.ruleId === 'repeat'));
  });

  test('one counter per rule, shared by both providers and by streamed and non-stream calls', async () => {
    assert.equal(await ask('repeat'), 'first');
    assert.equal(await askAnthropicStream('repeat'), 'second');
    const stream = await openai.chat.completions.create({ model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: 'repeat' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'third');
  });

  test('sequences advance independently of each other', async () => {
    assert.equal(await ask('repeat'), 'first');
    assert.equal(await ask('loop'), 'first');
    assert.equal(await ask('repeat'), 'second');
    assert.equal(await ask('loop'), 'second');
  });

  test('steps may be of any kind: an error, then tool calls, then text; each counts as a call', async () => {
    await assert.rejects(ask('mixed'), (e: unknown) => e instanceof OpenAI.InternalServerError && e.status === 503);
    const call = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'mixed' }] });
    assert.equal(call.choices[0]!.finish_reason, 'tool_calls');
    const toolCall = call.choices[0]!.message.tool_calls![0]!;
    assert.ok(toolCall.type === 'function');
    assert.deepEqual(JSON.parse(toolCall.function.arguments), { q: 'x' });
    assert.equal(await ask('mixed'), 'done');
    const steps = (await journalOf(server, 'mixed')).slice(-3);
    assert.deepEqual(steps.map((c) => [c.status, c.step]), [[503, 0], [200, 1], [200, 2]]);
  });

  test('a request that matches no sequence does not move any of them', async () => {
    assert.equal(await ask('repeat'), 'first');
    assert.equal(await ask('something else'), 'no rule matched');
    assert.equal(await ask('repeat'), 'second');
  });
});

describe('resets', () => {
  test('POST /admin/reset starts every sequence over', async () => {
    await ask('repeat');
    await ask('repeat');
    const res = await fetch(`${server.url}/admin/reset`, { method: 'POST' });
    assert.equal(res.status, 204);
    assert.equal(await ask('repeat'), 'first');
  });

  test('POST /admin/sequences/reset starts every sequence over, keeping admin rules and the journal', async () => {
    await ask('loop');
    await ask('loop');
    await ask('repeat');
    const created = await fetch(`${server.url}/admin/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'kept', match: { prompt: 'kept' }, response: 'still here' }),
    });
    assert.equal(created.status, 201, await created.text());
    const res = await fetch(`${server.url}/admin/sequences/reset`, { method: 'POST' });
    assert.equal(res.status, 204, await res.text());
    assert.equal(await ask('loop'), 'first');
    assert.equal(await ask('repeat'), 'first');
    assert.equal(await ask('kept'), 'still here', 'the admin rule survives a sequence reset');
    assert.equal((await journalOf(server, 'loop')).length, 3, 'the journal keeps the calls made before the reset');
    assert.equal((await fetch(`${server.url}/admin/reset`, { method: 'POST' })).status, 204);
  });

  test('POST /admin/sequences/{id}/reset starts that sequence over and leaves the others where they are', async () => {
    await ask('loop');
    await ask('loop');
    await ask('repeat');
    const res = await fetch(`${server.url}/admin/sequences/loop/reset`, { method: 'POST' });
    assert.equal(res.status, 204, await res.text());
    assert.equal(await ask('loop'), 'first');
    assert.equal(await ask('repeat'), 'second');
  });

  test('replacing a sequence rule through the admin API starts it over', async () => {
    await ask('repeat');
    await ask('repeat');
    const res = await fetch(`${server.url}/admin/responses/repeat`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: { prompt: 'repeat' }, response: { sequence: ['uno', 'dos'] } }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(await ask('repeat'), 'uno');
    assert.equal((await fetch(`${server.url}/admin/reset`, { method: 'POST' })).status, 204);
  });
});

describe('hot reload', () => {
  test('a reload with an unrelated change keeps every sequence\'s progress', async () => {
    assert.equal(await ask('repeat'), 'first');
    assert.equal(await ask('loop'), 'first');
    await writeFile(server.configPath, sequenceRules('  - id: unrelated\n    match: {prompt: unrelated}\n    response: "new rule"\n'));
    await eventually(async () => (await ask('unrelated')) === 'new rule', { what: 'the reload to serve the new rule' });
    assert.equal(await ask('repeat'), 'second');
    assert.equal(await ask('loop'), 'second');
  });

  test('a reload that changes a sequence rule starts that sequence over and keeps the others', async () => {
    const marker = (version: string) => `  - id: marker\n    match: {prompt: marker}\n    response: ${version}\n`;
    await writeFile(server.configPath, sequenceRules(marker('v1')));
    await eventually(async () => (await ask('marker')) === 'v1', { what: 'the first reload' });
    await resetSequences(server);
    assert.equal(await ask('repeat'), 'first');
    assert.equal(await ask('repeat'), 'second');
    assert.equal(await ask('loop'), 'first');
    await writeFile(server.configPath, sequenceRules(marker('v2'), 'THIRD (edited)'));
    await eventually(async () => (await ask('marker')) === 'v2', { what: 'the edit to be served' });
    assert.equal(await ask('repeat'), 'first', 'the edited sequence starts over instead of going on at its third step');
    assert.equal(await ask('loop'), 'second', 'the unchanged loop sequence kept its place');
  });
});
