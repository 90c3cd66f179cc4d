// The rules engine as a pure function: a config (parsed and validated as the server does it), a
// hand-made Conversation, and `findRule`. Every match condition of src/config/schema.ts, every
// precedence step of `byPrecedence`, the exact-prompt map against tested rules, and the config
// errors a bad rule gives.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import type { ConversationMessage, Conversation } from '../../src/engine/conversation.ts';
import { closestRules, findRule } from '../../src/engine/match.ts';
import { baselineFromConfig, buildRuleSet, type RuleSet } from '../../src/engine/rules.ts';
import { ruleStoreInMemory } from '../../src/state/memory.ts';

const FILE = 'rules.yml';

/** The rule set the server would build from this YAML (validated first, so a typo fails loudly). */
function rulesOf(yaml: string): RuleSet {
  const baseline = baselineFromConfig(parseConfig(yaml, FILE).doc);
  return buildRuleSet(baseline, baseline.rules);
}

interface ConversationInit {
  prompt?: string;
  system?: string;
  /** Earlier turns; the prompt is appended as the last user message unless `toolResult` is set. */
  history?: ConversationMessage[];
  provider?: string;
  endpoint?: string;
  model?: string;
  tools?: string[];
  toolResult?: { name: string | undefined; content: string };
  headers?: Record<string, string>;
}

/** A Conversation as a provider adapter builds it; header lookup is case-insensitive, as Koa's is. */
function conversation(init: ConversationInit = {}): Conversation {
  const prompt = init.prompt ?? 'hello';
  const messages: ConversationMessage[] = [];
  if (init.system) messages.push({ role: 'system', text: init.system });
  messages.push(...(init.history ?? []), { role: 'user', text: prompt });
  if (init.toolResult) messages.push({ role: 'tool', text: init.toolResult.content });
  const headers = new Map(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    provider: init.provider ?? 'openai',
    endpoint: init.endpoint ?? (init.provider === 'anthropic' ? '/v1/messages' : '/v1/chat/completions'),
    model: init.model ?? 'gpt-4o-mini',
    system: init.system ?? '',
    messages,
    prompt,
    tools: init.tools ?? [],
    toolResult: init.toolResult,
    stream: false,
    header: (name) => headers.get(name.toLowerCase()),
  };
}

/** The id of the rule that answers, or null when none does. */
function answer(rules: RuleSet, init: ConversationInit): string | null {
  return findRule(rules, conversation(init))?.id ?? null;
}

/** One rule with id `r` and the given match (as a YAML flow mapping), nothing else. */
const single = (match: string, settings = '') => rulesOf(`rules:\n  - id: r\n    match: ${match}\n    response: ok\n${settings}`);

describe('match conditions', () => {
  test('prompt matches after normalisation: case, surrounding and repeated whitespace do not matter', () => {
    const rules = single('{prompt: "What is  the Weather?"}');
    assert.equal(answer(rules, { prompt: 'what is the weather?' }), 'r');
    assert.equal(answer(rules, { prompt: '  WHAT IS THE\n\tweather?  ' }), 'r');
    assert.equal(answer(rules, { prompt: 'what is the weather' }), null, 'punctuation still counts');
    assert.equal(answer(rules, { prompt: 'so what is the weather?' }), null, 'prompt is whole-message, not a substring');
  });

  test('prompt under settings.match: exact compares byte for byte', () => {
    const rules = single('{prompt: "What is the Weather?"}', 'settings:\n  match: exact\n');
    assert.equal(answer(rules, { prompt: 'What is the Weather?' }), 'r');
    assert.equal(answer(rules, { prompt: 'what is the weather?' }), null);
    assert.equal(answer(rules, { prompt: 'What is the Weather? ' }), null);
  });

  test('contains finds a substring, case- and whitespace-insensitively by default', () => {
    const rules = single('{contains: "refund policy"}');
    assert.equal(answer(rules, { prompt: 'What is your REFUND   policy, please?' }), 'r');
    assert.equal(answer(rules, { prompt: 'refund\npolicy' }), 'r');
    assert.equal(answer(rules, { prompt: 'refunds and policies' }), null);
  });

  test('contains under settings.match: exact is case-sensitive', () => {
    const rules = single('{contains: "Refund"}', 'settings:\n  match: exact\n');
    assert.equal(answer(rules, { prompt: 'a Refund please' }), 'r');
    assert.equal(answer(rules, { prompt: 'a refund please' }), null);
  });

  test('a plain regex is case-sensitive and unanchored', () => {
    const rules = single(String.raw`{regex: "order #\\d{4}\\b"}`);
    assert.equal(answer(rules, { prompt: 'where is order #1234?' }), 'r');
    assert.equal(answer(rules, { prompt: 'where is ORDER #1234?' }), null);
    assert.equal(answer(rules, { prompt: 'where is order #12?' }), null);
  });

  test('a /pattern/flags regex honours its flags', () => {
    const rules = single('{regex: "/^hello, (world|there)$/i"}');
    assert.equal(answer(rules, { prompt: 'HELLO, World' }), 'r');
    assert.equal(answer(rules, { prompt: 'hello, there' }), 'r');
    assert.equal(answer(rules, { prompt: 'oh hello, world' }), null);
  });

  test('a /g regex gives the same answer on every call (no lastIndex state)', () => {
    const rules = single('{regex: "/abc/g"}');
    for (let i = 0; i < 4; i++) assert.equal(answer(rules, { prompt: 'xx abc' }), 'r', `call ${i}`);
  });

  test('on: last_user (the default) ignores the system prompt and earlier turns', () => {
    const rules = single('{contains: "pirate"}');
    assert.equal(answer(rules, { system: 'Talk like a pirate.', prompt: 'hi' }), null);
    assert.equal(answer(rules, { history: [{ role: 'user', text: 'pirate please' }, { role: 'assistant', text: 'arr' }], prompt: 'hi' }), null);
    assert.equal(answer(rules, { prompt: 'a pirate story' }), 'r');
  });

  test('on: system looks only at the system prompt', () => {
    const rules = single('{contains: "pirate", on: system}');
    assert.equal(answer(rules, { system: 'Talk like a PIRATE.', prompt: 'hi' }), 'r');
    assert.equal(answer(rules, { prompt: 'a pirate story' }), null);
  });

  test('on: system with prompt compares the whole system prompt', () => {
    const rules = single('{prompt: "you are a helpful assistant.", on: system}');
    assert.equal(answer(rules, { system: 'You are a helpful assistant.', prompt: 'anything' }), 'r');
    assert.equal(answer(rules, { system: 'You are a helpful assistant. Be brief.', prompt: 'anything' }), null);
    assert.equal(answer(rules, { prompt: 'you are a helpful assistant.' }), null);
  });

  test('on: any looks at the system prompt and every message', () => {
    const rules = single('{regex: "/secret word/i", on: any}');
    assert.equal(answer(rules, { system: 'The SECRET WORD is x', prompt: 'hi' }), 'r');
    assert.equal(answer(rules, { history: [{ role: 'assistant', text: 'the secret word is y' }], prompt: 'hi' }), 'r');
    assert.equal(answer(rules, { prompt: 'tell me the secret word' }), 'r');
    assert.equal(answer(rules, { prompt: 'hi' }), null);
  });

  test('provider matches one name or any of a list', () => {
    const one = single('{provider: anthropic}');
    assert.equal(answer(one, { provider: 'anthropic' }), 'r');
    assert.equal(answer(one, { provider: 'openai' }), null);
    const many = single('{provider: [anthropic, openai]}');
    assert.equal(answer(many, { provider: 'openai' }), 'r');
    assert.equal(answer(many, { provider: 'gemini' }), null);
  });

  test('endpoint matches the route template exactly', () => {
    const rules = single('{endpoint: /v1/chat/completions}');
    assert.equal(answer(rules, { endpoint: '/v1/chat/completions' }), 'r');
    assert.equal(answer(rules, { endpoint: '/v1/responses' }), null);
    const many = single('{endpoint: [/v1/messages, /v1/responses]}');
    assert.equal(answer(many, { endpoint: '/v1/responses' }), 'r');
  });

  test('model matches exactly, without a glob', () => {
    const rules = single('{model: gpt-4o}');
    assert.equal(answer(rules, { model: 'gpt-4o' }), 'r');
    assert.equal(answer(rules, { model: 'gpt-4o-mini' }), null, 'exact means the whole name');
    assert.equal(answer(rules, { model: 'GPT-4o' }), null);
  });

  test('model glob: * spans any run of characters (also none)', () => {
    const rules = single('{model: "gpt-4*"}');
    assert.equal(answer(rules, { model: 'gpt-4' }), 'r');
    assert.equal(answer(rules, { model: 'gpt-4o-mini' }), 'r');
    assert.equal(answer(rules, { model: 'gpt-4.1-2025-04-14' }), 'r');
    assert.equal(answer(rules, { model: 'gpt-3.5-turbo' }), null);
    assert.equal(answer(rules, { model: 'my-gpt-4' }), null, 'anchored at the start');
  });

  test('model glob: ? is exactly one character, and dots are literal', () => {
    const rules = single('{model: "claude-?-x"}');
    assert.equal(answer(rules, { model: 'claude-5-x' }), 'r');
    assert.equal(answer(rules, { model: 'claude-55-x' }), null);
    assert.equal(answer(rules, { model: 'claude--x' }), null);
    const dotted = single('{model: "gpt-4.1"}');
    assert.equal(answer(dotted, { model: 'gpt-4x1' }), null, 'a dot in a glob is not a regex wildcard');
  });

  test('model list: any entry may match', () => {
    const rules = single('{model: ["claude-*", "gpt-4o"]}');
    assert.equal(answer(rules, { model: 'claude-sonnet-5-5' }), 'r');
    assert.equal(answer(rules, { model: 'gpt-4o' }), 'r');
    assert.equal(answer(rules, { model: 'gpt-4o-mini' }), null);
  });

  test('tools: one name needs the request to offer it', () => {
    const rules = single('{tools: get_weather}');
    assert.equal(answer(rules, { tools: ['get_time', 'get_weather'] }), 'r');
    assert.equal(answer(rules, { tools: ['get_time'] }), null);
    assert.equal(answer(rules, { tools: [] }), null);
  });

  test('tools: several names need every one of them offered', () => {
    const rules = single('{tools: [get_weather, get_time]}');
    assert.equal(answer(rules, { tools: ['get_time', 'search', 'get_weather'] }), 'r');
    assert.equal(answer(rules, { tools: ['get_weather'] }), null);
  });

  test('tool_result: true needs the last message to be a tool result, of any tool', () => {
    const rules = single('{tool_result: true}');
    assert.equal(answer(rules, { toolResult: { name: 'get_weather', content: '21C' } }), 'r');
    assert.equal(answer(rules, { toolResult: { name: undefined, content: '21C' } }), 'r');
    assert.equal(answer(rules, {}), null);
  });

  test('tool_result: a name needs a result of that tool', () => {
    const rules = single('{tool_result: get_weather}');
    assert.equal(answer(rules, { toolResult: { name: 'get_weather', content: '21C' } }), 'r');
    assert.equal(answer(rules, { toolResult: { name: 'get_time', content: '12:00' } }), null);
    assert.equal(answer(rules, { toolResult: { name: undefined, content: '?' } }), null);
    assert.equal(answer(rules, {}), null);
  });

  test('tool_result: false needs the last message not to be a tool result', () => {
    const rules = single('{tool_result: false}');
    assert.equal(answer(rules, {}), 'r');
    assert.equal(answer(rules, { toolResult: { name: 'get_weather', content: '21C' } }), null);
  });

  test('headers: names are case-insensitive, values exact', () => {
    const rules = single('{headers: {X-Tenant: Acme}}');
    assert.equal(answer(rules, { headers: { 'x-tenant': 'Acme' } }), 'r');
    assert.equal(answer(rules, { headers: { 'X-TENANT': 'Acme' } }), 'r');
    assert.equal(answer(rules, { headers: { 'x-tenant': 'acme' } }), null, 'values are compared exactly');
    assert.equal(answer(rules, { headers: { 'x-tenant': 'Acme Corp' } }), null);
    assert.equal(answer(rules, {}), null);
  });

  test('headers: every listed header must be present with its value', () => {
    const rules = single('{headers: {x-tenant: acme, x-env: ci}}');
    assert.equal(answer(rules, { headers: { 'x-tenant': 'acme', 'x-env': 'ci', 'x-other': '1' } }), 'r');
    assert.equal(answer(rules, { headers: { 'x-tenant': 'acme' } }), null);
  });

  test('all conditions of a rule must hold together', () => {
    const rules = single('{contains: weather, provider: anthropic, model: "claude-*", tools: get_weather, tool_result: false, headers: {x-env: ci}}');
    const full: ConversationInit = { prompt: 'weather in Paris?', provider: 'anthropic', model: 'claude-sonnet-5-5', tools: ['get_weather'], headers: { 'x-env': 'ci' } };
    assert.equal(answer(rules, full), 'r');
    // Take away one condition at a time: each one alone is enough to miss.
    assert.equal(answer(rules, { ...full, prompt: 'rain in Paris?' }), null);
    assert.equal(answer(rules, { ...full, provider: 'openai' }), null);
    assert.equal(answer(rules, { ...full, model: 'gpt-4o' }), null);
    assert.equal(answer(rules, { ...full, tools: [] }), null);
    assert.equal(answer(rules, { ...full, toolResult: { name: 'get_weather', content: '21C' } }), null);
    assert.equal(answer(rules, { ...full, headers: {} }), null);
  });

  test('a rule with an empty match answers every request', () => {
    const rules = single('{}');
    assert.equal(answer(rules, { prompt: 'anything at all', provider: 'anthropic' }), 'r');
  });
});

describe('precedence', () => {
  test('higher priority wins over specificity, source and file order', () => {
    const rules = rulesOf(`
responses:
  "hello there": exact-prompt-answer
rules:
  - id: precise
    match: {prompt: "hello there", model: gpt-4o-mini, provider: openai}
    response: precise
  - id: broad-but-urgent
    priority: 10
    match: {contains: hello}
    response: urgent
`);
    assert.equal(answer(rules, { prompt: 'hello there' }), 'broad-but-urgent');
  });

  test('a negative priority ranks below the default 0', () => {
    const rules = rulesOf(`
rules:
  - id: fallback
    priority: -1
    match: {prompt: "hi"}
    response: a
  - id: catch-all
    match: {}
    response: b
`);
    assert.equal(answer(rules, { prompt: 'hi' }), 'catch-all');
  });

  test('at equal priority an admin-created rule beats a more specific file rule', async () => {
    const baseline = baselineFromConfig(parseConfig('responses:\n  "hello there": from-file\n', FILE).doc);
    const store = ruleStoreInMemory(baseline);
    await store.create({ id: 'admin-contains', match: { contains: 'hello' }, response: 'from admin' });
    assert.equal(findRule(store.current, conversation({ prompt: 'hello there' }))?.id, 'admin-contains');
    // …but a file rule with a higher priority still wins over it.
    const urgent = ruleStoreInMemory(baselineFromConfig(parseConfig('rules:\n  - id: urgent\n    priority: 1\n    match: {prompt: "hello there"}\n    response: x\n', FILE).doc));
    await urgent.create({ id: 'admin-contains', match: { contains: 'hello' }, response: 'from admin' });
    assert.equal(findRule(urgent.current, conversation({ prompt: 'hello there' }))?.id, 'urgent');
  });

  test('between admin rules of equal rank the newest one wins', async () => {
    const store = ruleStoreInMemory(baselineFromConfig(parseConfig('responses: {}\n', FILE).doc));
    await store.create({ id: 'older', match: { contains: 'hello' }, response: 'a' });
    await store.create({ id: 'newer', match: { contains: 'hello' }, response: 'b' });
    assert.equal(findRule(store.current, conversation({ prompt: 'hello' }))?.id, 'newer');
  });

  test('a file rule replaced through the admin API keeps its place among file rules', async () => {
    const store = ruleStoreInMemory(
      baselineFromConfig(
        parseConfig('rules:\n  - id: first\n    match: {contains: hello}\n    response: a\n  - id: second\n    match: {contains: hello}\n    response: b\n', FILE).doc,
      ),
    );
    await store.replace('second', { match: { contains: 'hello' }, response: 'b2' });
    assert.equal(findRule(store.current, conversation({ prompt: 'hello' }))?.id, 'first');
  });

  test('specificity: prompt beats regex beats contains beats one other condition, whatever the file order', () => {
    const yaml = (order: string[]) => {
      const bodies: Record<string, string> = {
        other: '{model: gpt-4o-mini}',
        contains: '{contains: weather}',
        regex: '{regex: "weather\\\\?$"}',
        prompt: '{prompt: "what is the weather?", on: last_user}',
      };
      return `rules:\n${order.map((id) => `  - id: ${id}\n    match: ${bodies[id]}\n    response: ${id}\n`).join('')}`;
    };
    const prompt = 'What is the weather?';
    let rules = rulesOf(yaml(['other', 'contains', 'regex', 'prompt']));
    assert.equal(answer(rules, { prompt }), 'prompt');
    rules = rulesOf(yaml(['other', 'contains', 'regex']));
    assert.equal(answer(rules, { prompt }), 'regex');
    rules = rulesOf(yaml(['other', 'contains']));
    assert.equal(answer(rules, { prompt }), 'contains');
    // Each pair in both orders: the ranking does not come from the file order.
    rules = rulesOf(yaml(['prompt', 'regex', 'contains', 'other']));
    assert.equal(answer(rules, { prompt }), 'prompt');
    rules = rulesOf(yaml(['regex', 'contains', 'other']));
    assert.equal(answer(rules, { prompt }), 'regex');
  });

  test('more conditions make a rule more specific: contains + model beats contains alone', () => {
    const rules = rulesOf(`
rules:
  - id: plain
    match: {contains: weather}
    response: a
  - id: for-gpt
    match: {contains: weather, model: "gpt-*"}
    response: b
`);
    assert.equal(answer(rules, { prompt: 'weather?', model: 'gpt-4o' }), 'for-gpt');
    assert.equal(answer(rules, { prompt: 'weather?', model: 'claude-x' }), 'plain');
  });

  test('at equal rank the rule earlier in the file wins', () => {
    const rules = rulesOf(`
rules:
  - id: first
    match: {contains: weather}
    response: a
  - id: second
    match: {contains: weather}
    response: b
`);
    assert.equal(answer(rules, { prompt: 'weather?' }), 'first');
  });

  test('the responses map comes before rules in file order: an equal prompt rule later loses', () => {
    const rules = rulesOf(`
responses:
  "Hello": from-map
rules:
  - id: from-rules
    match: {prompt: "hello"}
    response: b
`);
    const rule = findRule(rules, conversation({ prompt: 'HELLO' }));
    assert.ok(rule);
    assert.equal(rule.source, 'file');
    assert.deepEqual(rule.spec.match, { prompt: 'Hello' });
  });
});

describe('exact-prompt map against tested rules', () => {
  const rules = rulesOf(`
responses:
  "what is the weather?": map-answer
rules:
  - id: early-contains
    match: {contains: weather}
    response: contains-answer
  - id: late-prompt-on-gpt
    match: {prompt: "what is the weather?", model: "gpt-4o"}
    response: model-answer
  - id: late-same-rank
    match: {prompt: "what is the weather?", on: any}
    response: any-answer
`);
  const mapRule = () => rules.rules.find((r) => r.spec.match.prompt === 'what is the weather?' && Object.keys(r.spec.match).length === 1)!;

  test('a map hit beats a less specific tested rule even when that rule is earlier', () => {
    assert.equal(answer(rules, { prompt: 'What is the weather?', model: 'gpt-4o-mini' }), mapRule().id);
  });

  test('a tested rule that ranks above the map hit (more specific) wins', () => {
    assert.equal(answer(rules, { prompt: 'What is the weather?', model: 'gpt-4o' }), 'late-prompt-on-gpt');
  });

  test('a tested rule of the same rank later in the file loses to the map hit', () => {
    assert.equal(answer(rules, { prompt: 'what is the weather?', model: 'claude-x' }), mapRule().id);
  });

  test('a tested rule still answers what the map does not hold', () => {
    assert.equal(answer(rules, { prompt: 'weather tomorrow?' }), 'early-contains');
  });

  test('a tested rule of the same rank earlier in the file wins over the map hit', () => {
    const earlier = rulesOf(`
rules:
  - id: any-first
    match: {prompt: "hi", on: any}
    response: a
  - id: plain-second
    match: {prompt: "hi"}
    response: b
`);
    assert.equal(answer(earlier, { prompt: 'hi' }), 'any-first');
  });

  test('with a higher priority, a plain prompt rule wins over a more specific tested rule', () => {
    const urgent = rulesOf(`
rules:
  - id: specific
    match: {prompt: "hi", model: gpt-4o-mini, provider: openai}
    response: a
  - id: urgent-prompt
    priority: 1
    match: {prompt: "hi"}
    response: b
`);
    assert.equal(answer(urgent, { prompt: 'hi' }), 'urgent-prompt');
  });
});

describe('the responses map', () => {
  test('an entry may hold any response kind and is still found by its exact prompt', () => {
    const rules = rulesOf(`
responses:
  "call the tool": {tool_calls: [{name: get_weather, arguments: {city: Oslo}}]}
  "fail": {error: {status: 503}}
  "step": {sequence: [a, b]}
`);
    const kinds = ['call the tool', 'fail', 'step'].map((prompt) => findRule(rules, conversation({ prompt: prompt.toUpperCase() }))?.response.kind);
    assert.deepEqual(kinds, ['tool_calls', 'error', 'sequence']);
    assert.deepEqual(rules.tested, [], 'plain prompts are map lookups, never tested one by one');
  });
});

describe('rule ids and closest rules', () => {
  test('rules without an id get stable ids: the same file gives the same ids', () => {
    const yaml = 'responses:\n  "a": x\nrules:\n  - match: {contains: b}\n    response: y\n  - match: {contains: b}\n    response: z\n';
    const first = rulesOf(yaml).rules.map((r) => r.id);
    assert.deepEqual(rulesOf(yaml).rules.map((r) => r.id), first);
    assert.equal(new Set(first).size, 3, `ids are distinct: ${first.join(', ')}`);
  });

  test('closestRules ranks the near misses first', () => {
    const rules = rulesOf(`
rules:
  - id: weather
    match: {prompt: "what is the weather today?"}
    response: a
  - id: time
    match: {prompt: "what time is it?"}
    response: b
  - id: refund
    match: {contains: "refund policy"}
    response: c
  - id: headers-only
    match: {headers: {x-a: b}}
    response: d
`);
    const ids = closestRules(rules, conversation({ prompt: 'what is the weather tomorrow?' })).map((r) => r.id);
    assert.equal(ids[0], 'weather');
    assert.ok(!ids.includes('headers-only'), 'a rule without any text to compare is not listed');
  });
});

describe('config errors', () => {
  function errorOf(yaml: string): string {
    try {
      parseConfig(yaml, FILE);
    } catch (error) {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      return error.message;
    }
    assert.fail('expected the config to be rejected');
  }

  const BAD_REGEX_SECOND = 'rules:\n  - id: ok\n    match: {contains: x}\n    response: a\n  - id: bad\n    match:\n      regex: "(unclosed"\n    response: b\n';

  test('an invalid regex is a config error naming its path', () => {
    assert.match(errorOf(BAD_REGEX_SECOND), /^rules\.yml(:\d+)?: rules\.1\.match\.regex is not a valid regular expression: .*Unterminated group/);
  });

  test(
    'an error inside a rules list item points at that item\'s line',
    () => {
      assert.match(errorOf(BAD_REGEX_SECOND), /^rules\.yml:7: /);
    },
  );

  test('an invalid /pattern/flags regex is a config error too', () => {
    assert.match(errorOf('rules:\n  - match: {regex: "/[a-/i"}\n    response: a\n'), /rules\.0\.match\.regex is not a valid regular expression/);
  });

  test('a response that combines error and text is a config error naming the response', () => {
    assert.match(errorOf('rules:\n  - match: {}\n    response: {text: a, error: {status: 500}}\n'), /rules\.0\.response cannot combine text and error/);
  });

  test('an unknown match condition is a config error naming it', () => {
    assert.match(errorOf('rules:\n  - match: {promt: hi}\n    response: a\n'), /rules\.0\.match\.promt is not a known key/);
  });

  test('two rules with one id are a config error', () => {
    assert.match(errorOf('rules:\n  - id: a\n    match: {}\n    response: x\n  - id: a\n    match: {}\n    response: y\n'), /rules\.1\.id "a" is already the id/);
  });
});
