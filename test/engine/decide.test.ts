// The decision core without a server: what decide() returns for rules, the unmatched policy,
// sequences (counted or only looked at), configured errors, inputs, further prompts, and the
// delivery plan (chunks, pacing, faults); and what explain() says about a hit or a miss.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import type { Conversation } from '../../src/engine/conversation.ts';
import { decide, type Decision } from '../../src/engine/decide.ts';
import { baselineFromConfig } from '../../src/engine/rules.ts';
import type { RuleStore } from '../../src/engine/store.ts';
import { ruleStoreInMemory } from '../../src/state/memory.ts';

function storeOf(yaml: string): RuleStore {
  return ruleStoreInMemory(baselineFromConfig(parseConfig(yaml, 'core.yml').doc));
}

function ask(prompt: string, over: Partial<Conversation> = {}): Conversation {
  return {
    provider: 'openai',
    endpoint: '/v1/chat/completions',
    model: 'gpt-4o-mini',
    system: '',
    messages: [{ role: 'user', text: prompt }],
    prompt,
    tools: [],
    toolResult: undefined,
    stream: false,
    header: () => undefined,
    ...over,
  };
}

async function decideOn(store: RuleStore, conversation: Conversation, options = {}): Promise<Decision> {
  return decide(store.current, conversation, store, options);
}

const textOf = (decision: Decision): string | undefined => (decision.outcome.kind === 'reply' ? decision.outcome.reply?.text?.text : undefined);

const CONFIG = `
responses:
  "what is 2+2?": "2+2 equals 9."
rules:
  - id: weather
    match: {contains: weather, model: "gpt-4*"}
    response: "Sunny."
  - id: flaky
    match: {prompt: flaky}
    response:
      sequence:
        - error: {status: 429, retry_after: 2}
        - "Recovered."
  - id: paced
    match: {prompt: paced}
    response: {text: "abc", latency: {ttft_ms: 100, chunk_delay_ms: 10, simulate_non_stream_latency: true}, fault: {fail_after_chunks: 2}}
  - id: embed-fail
    match: {endpoint: /v1/embeddings, contains: poison}
    response: {error: {status: 400, message: "poisoned"}}
defaults:
  unknown_response: "Nothing matched."
`;

describe('decide', () => {
  test('an exact prompt answers with its rule, and the decision explains which conditions held', async () => {
    const decision = await decideOn(storeOf(CONFIG), ask('What is 2+2?'));
    assert.equal(decision.outcome.kind, 'reply');
    assert.equal(textOf(decision), '2+2 equals 9.');
    assert.deepEqual(decision.explanation, { matched: true, ruleId: decision.rule!.id, source: 'file', conditions: ['prompt'] });
  });

  test('an unmatched request gets the default answer, and its near misses say which condition failed and how', async () => {
    const decision = await decideOn(storeOf(CONFIG), ask('what is the weather like?', { model: 'claude-sonnet-5-5' }));
    assert.equal(decision.rule, null);
    assert.equal(textOf(decision), 'Nothing matched.');
    const explanation = decision.explanation;
    assert.equal(explanation.matched, false);
    if (explanation.matched) return;
    const closest = explanation.nearMisses[0]!;
    assert.equal(closest.ruleId, 'weather', 'the rule whose other condition held comes first');
    assert.deepEqual(closest.held, ['contains']);
    assert.equal(closest.failed.condition, 'model');
    assert.equal(closest.failed.why, 'wanted `gpt-4*`, got `claude-sonnet-5-5`');
  });

  test('a prompt that differs says where it differs', async () => {
    const decision = await decideOn(storeOf(CONFIG), ask('what is 2+3?'));
    if (decision.explanation.matched) assert.fail('expected a miss');
    const miss = decision.explanation.nearMisses.find((m) => m.failed.condition === 'prompt')!;
    assert.match(miss.failed.why, /^differs after 'what is 2\+': wanted `2\?`, got `3\?`$/);
  });

  test('with on_unmatched: error an unmatched request is an unmatched outcome naming the closest rules', async () => {
    const store = storeOf(`${CONFIG}  on_unmatched: error\n`);
    const decision = await decideOn(store, ask('whats the weathr'));
    assert.equal(decision.outcome.kind, 'unmatched');
    if (decision.outcome.kind === 'unmatched') assert.match(decision.outcome.message, /Closest rules: weather \("weather"\)/);
  });

  test('a sequence advances once per decision, and a peek looks without counting', async () => {
    const store = storeOf(CONFIG);
    const peeked = await decideOn(store, ask('flaky'), { peek: true });
    assert.equal(peeked.step, 0);
    const first = await decideOn(store, ask('flaky'));
    assert.equal(first.step, 0);
    assert.equal(first.outcome.kind, 'error');
    if (first.outcome.kind === 'error') assert.deepEqual([first.outcome.error.status, first.outcome.error.retryAfterSeconds], [429, 2]);
    const second = await decideOn(store, ask('flaky'));
    assert.equal(second.step, 1);
    assert.equal(textOf(second), 'Recovered.');
    assert.equal((await decideOn(store, ask('flaky'))).step, 1, 'repeat_last stays on the last step');
  });

  test('the delivery plan counts chunks, hands out a fresh pacer per stream and plans the fault', async () => {
    const decision = await decideOn(storeOf(CONFIG), ask('paced'));
    assert.equal(decision.outcome.kind, 'reply');
    if (decision.outcome.kind !== 'reply') return;
    const { delivery } = decision.outcome;
    assert.equal(delivery.chunkCount, 3);
    assert.equal(delivery.nonStreamDelayMs, 120, 'ttft 100 + 2 × 10 for the later chunks');
    const pacer = delivery.pacer()!;
    assert.deepEqual([pacer.next(), pacer.next(), pacer.next()], [100, 10, 10]);
    assert.deepEqual([delivery.pacer()!.next()], [100], 'each stream gets its own pacer');
    assert.deepEqual(delivery.fault && { after: delivery.fault.afterChunks, mode: delivery.fault.mode }, { after: 2, mode: 'error_event' });
  });

  test('inputs: only rules naming the endpoint answer, the first input a rule matches decides, and no match means no answer', async () => {
    const store = storeOf(CONFIG);
    const embed = (text: string) => ask(text, { endpoint: '/v1/embeddings' });
    const hit = await decideOn(store, embed('clean'), { inputs: [embed('clean'), embed('poison pill'), embed('weather')] });
    assert.equal(hit.rule?.id, 'embed-fail');
    assert.equal(hit.conversation.prompt, 'poison pill');
    assert.equal(hit.outcome.kind, 'error');
    const miss = await decideOn(store, embed('weather'), { inputs: [embed('weather')] });
    assert.equal(miss.rule, null, 'a chat rule never answers an embedding input');
    assert.deepEqual(miss.outcome.kind === 'reply' && miss.outcome.reply, undefined);
  });

  test('further prompts are each decided on their own, and the plan covers all their chunks', async () => {
    const decision = await decideOn(storeOf(CONFIG), ask('what is 2+2?'), { more: [ask('nothing like it')] });
    assert.equal(decision.outcome.kind, 'reply');
    if (decision.outcome.kind !== 'reply') return;
    assert.equal(decision.outcome.more[0]!.reply.text?.text, 'Nothing matched.');
    assert.equal(decision.outcome.delivery.chunkCount, '2+2 equals 9.'.length + 'Nothing matched.'.length);
  });

  test('an admin rule created on the store answers the next decision', async () => {
    const store = storeOf(CONFIG);
    await store.create({ id: 'admin-hi', match: { prompt: 'hi' }, response: 'From admin.' });
    const decision = await decideOn(store, ask('hi'));
    assert.equal(decision.rule?.id, 'admin-hi');
    assert.equal(decision.rule?.source, 'admin');
  });
});
