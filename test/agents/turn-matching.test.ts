// Turn-aware matching for agent loops (issue 15 item 3), on the requests Claude Code and Codex CLI
// really sent (test/agents/captures/): `turn`, `tool_result: {name, contains, tool_call_id}`,
// `system_contains`, `system_regex`, `last_role`, and the prompt without client-injected
// `<system-reminder>` blocks. Every rule marked "decoy" outranks the right one and must never match.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { admin } from '../helpers/admin.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { compileMatcher } from '../../src/engine/matcher.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { MatchSpec } from '../../src/config/schema.ts';
import { capture, conversationOf, replay, streamedText, type CaptureName } from './support.ts';

const LOOP_RULES = `
rules:
  # Claude Code: read notes.txt, then second.txt, then answer.
  - id: cc-first
    match: { provider: anthropic, turn: 0, last_role: user, tools: Read, system_contains: "Claude Agent SDK" }
    response: "cc step 0"
  - id: cc-after-notes
    match: { provider: anthropic, turn: 1, last_role: tool, tool_result: { name: Read, contains: marmalade, tool_call_id: toolu_mock_read_notes } }
    response: "cc step 1"
  - id: cc-after-second
    match: { provider: anthropic, turn: { gte: 2 }, tool_result: { name: Read, tool_call_id: toolu_mock_read_second } }
    response: "cc step 2"
  # Codex: cat notes.txt, then second.txt, then answer.
  - id: cx-first
    match: { provider: openai, turn: 0, last_role: user, system_regex: "/^You are Codex/" }
    response: "cx step 0"
  - id: cx-after-notes
    match: { provider: openai, turn: 1, tool_result: { name: exec_command, contains: "MARMALADE" } }
    response: "cx step 1"
  - id: cx-after-second
    match: { provider: openai, turn: { gte: 2, lte: 2 }, tool_result: { tool_call_id: call_mock_cat_second } }
    response: "cx step 2"
  # Decoys: each outranks the rules above and must never match one of these requests.
  - id: decoy-counted-items
    priority: 10
    # Two assistant items (Codex's message and its function_call) are still one turn.
    match: { assistant_turns: 2, tool_result: { contains: marmalade } }
    response: "decoy"
  - id: decoy-other-call
    priority: 10
    match: { tool_result: { tool_call_id: toolu_somebody_else } }
    response: "decoy"
  - id: decoy-codex-system-on-claude
    priority: 10
    match: { provider: anthropic, system_contains: "You are Codex" }
    response: "decoy"
  - id: decoy-claude-system-on-codex
    priority: 10
    match: { provider: openai, system_regex: "/Claude Agent SDK/i" }
    response: "decoy"
  - id: decoy-prefill
    priority: 10
    match: { last_role: assistant }
    response: "decoy"
  - id: decoy-reminder-text
    priority: 10
    # The reminder Claude Code puts before the typed text is not part of the prompt.
    match: { contains: "Co-Authored-By" }
    response: "decoy"
  - id: decoy-turn-range
    priority: 10
    match: { turn: { gte: 3 } }
    response: "decoy"
defaults:
  unknown_response: "no rule"
`;

describe('turn and tool-result conditions pick the step of a captured agent loop', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(LOOP_RULES, { strict: true });
  });
  after(() => server.stop());

  const loops: { name: CaptureName; steps: string[] }[] = [
    { name: 'claude-code-tool-loop', steps: ['cc-first', 'cc-after-notes', 'cc-after-second'] },
    { name: 'codex-tool-loop', steps: ['cx-first', 'cx-after-notes', 'cx-after-second'] },
  ];
  for (const { name, steps } of loops) {
    test(`each request of ${name} is answered by the rule for its step, and no decoy matches`, async () => {
      const requests = capture(name);
      assert.equal(requests.length, steps.length);
      for (const [i, request] of requests.entries()) {
        const sent = await replay(server.url, request);
        assert.equal(sent.status, 200, sent.text.slice(0, 300));
        assert.equal(sent.match, steps[i], `${name} request ${i}`);
        assert.equal(streamedText(sent.text), `${name.startsWith('claude') ? 'cc' : 'cx'} step ${i}`);
      }
    });
  }

  test('the journal explains a step by the conditions that held', async () => {
    await replay(server.url, capture('codex-tool-loop')[1]!);
    const { body } = await admin<{ requests: { ruleId: string; explanation: { matched: boolean; conditions: string[] } }[] }>(server, 'GET', '/admin/requests?limit=1');
    assert.equal(body.requests[0]!.ruleId, 'cx-after-notes');
    assert.deepEqual(body.requests[0]!.explanation, { matched: true, ruleId: 'cx-after-notes', source: 'file', conditions: ['provider', 'tool_result', 'turn'] });
  });
});

describe('an exact prompt ignores the <system-reminder> blocks Claude Code adds', () => {
  for (const mode of ['normalized', 'exact'] as const) {
    test(`claude -p "ping" matches a "ping" entry of the responses map (settings.match: ${mode}), and {{prompt}} is "ping"`, async () => {
      const server = await startTestServer(`settings: { match: ${mode}, strict: true }\nresponses:\n  "ping": "pong to {{prompt}}"\ndefaults:\n  unknown_response: "no rule"\n`);
      try {
        for (const name of ['claude-code-ping', 'codex-ping'] as const) {
          const sent = await replay(server.url, capture(name)[0]!);
          assert.equal(sent.status, 200, sent.text.slice(0, 300));
          assert.notEqual(sent.match, 'none', `${name}: no rule matched`);
          assert.equal(streamedText(sent.text), 'pong to ping', name);
        }
      } finally {
        await server.stop();
      }
    });
  }

  test('the reminder is still in the message, where on: any finds it', async () => {
    const conversation = await conversationOf(capture('claude-code-ping')[0]!);
    assert.equal(conversation.prompt, 'ping');
    assert.equal(compileMatcher({ contains: 'Co-Authored-By' }, 'normalized').test(conversation), false);
    assert.equal(compileMatcher({ contains: 'Co-Authored-By', on: 'any' }, 'normalized').test(conversation), true);
  });
});

describe('the new conditions explain why they did not hold', () => {
  const why = async (match: MatchSpec, name: CaptureName, step: number, mode: 'normalized' | 'exact' = 'normalized') => {
    const conversation = await conversationOf(capture(name)[step]!);
    const matcher = compileMatcher(match, mode);
    assert.equal(matcher.test(conversation), false, `${JSON.stringify(match)} should not match ${name} step ${step}`);
    const failed = matcher.conditions.find((c) => !c.test(conversation))!;
    return { condition: failed.name, why: failed.why(conversation) };
  };

  test('turn: the count wanted and the count the conversation holds', async () => {
    assert.deepEqual(await why({ turn: 2 }, 'codex-tool-loop', 1), { condition: 'turn', why: 'wanted exactly 2 assistant turns before this request, got 1 assistant turn' });
    assert.deepEqual(await why({ turn: { gte: 1, lte: 3 } }, 'claude-code-tool-loop', 0), { condition: 'turn', why: 'wanted at least 1 and at most 3 assistant turns before this request, got 0 assistant turns' });
    assert.deepEqual(await why({ assistant_turns: { lte: 1 } }, 'claude-code-tool-loop', 2), { condition: 'assistant_turns', why: 'wanted at most 1 assistant turns before this request, got 2 assistant turns' });
  });

  test('tool_result: no result, another tool, another call, or text it lacks', async () => {
    assert.deepEqual(await why({ tool_result: { name: 'Read' } }, 'claude-code-tool-loop', 0), { condition: 'tool_result', why: 'the last message is not a tool result' });
    assert.deepEqual(await why({ tool_result: { name: 'Bash' } }, 'claude-code-tool-loop', 1), { condition: 'tool_result', why: 'wanted a result of `Bash`, got one of `Read`' });
    assert.deepEqual(await why({ tool_result: { tool_call_id: 'call_mock_cat_notes' } }, 'codex-tool-loop', 2), {
      condition: 'tool_result',
      why: 'wanted the result of call `call_mock_cat_notes`, got the result of call `call_mock_cat_second`',
    });
    const lacking = await why({ tool_result: { name: 'Read', contains: 'marmalade' } }, 'claude-code-tool-loop', 2);
    assert.equal(lacking.why, 'the result of `Read` does not contain `marmalade` (it reads `1\tThe second word is quince.\n2\t`)');
  });

  test('system_contains and system_regex: what the system prompt lacks', async () => {
    assert.deepEqual(await why({ system_contains: 'You are Codex' }, 'claude-code-ping', 0), { condition: 'system_contains', why: 'the system prompt does not contain `You are Codex`' });
    assert.deepEqual(await why({ system_regex: '/^You are a Claude agent/' }, 'codex-ping', 0), { condition: 'system_regex', why: 'the system prompt does not match `/^You are a Claude agent/`' });
  });

  test('last_role: whose turn came last', async () => {
    assert.deepEqual(await why({ last_role: 'tool' }, 'codex-ping', 0), { condition: 'last_role', why: "wanted the last turn to be the tool's (a tool result), got the user's" });
    assert.deepEqual(await why({ last_role: 'user' }, 'codex-tool-loop', 1), { condition: 'last_role', why: "wanted the last turn to be the user's, got a tool result" });
  });

  test('an unmatched request lists the rules that came closest with the condition each missed', async () => {
    const server = await startTestServer(`rules:\n  - id: later-step\n    match: { prompt: ping, turn: 1 }\n    response: "x"\n  - id: wrong-tool\n    match: { prompt: ping, tool_result: { name: Read } }\n    response: "x"\n`);
    try {
      const sent = await replay(server.url, capture('claude-code-ping')[0]!);
      assert.equal(sent.match, 'none');
      const { body } = await admin<{ requests: { explanation: { matched: false; nearMisses: { ruleId: string; held: string[]; failed: { condition: string; why: string } }[] } }[] }>(server, 'GET', '/admin/requests?limit=1');
      const misses = Object.fromEntries(body.requests[0]!.explanation.nearMisses.map((m) => [m.ruleId, { held: m.held, failed: m.failed }]));
      assert.deepEqual(misses['later-step'], { held: ['prompt'], failed: { condition: 'turn', why: 'wanted exactly 1 assistant turn before this request, got 0 assistant turns' } });
      assert.deepEqual(misses['wrong-tool'], { held: ['prompt'], failed: { condition: 'tool_result', why: 'the last message is not a tool result' } });
    } finally {
      await server.stop();
    }
  });
});

describe('which reminder text is left out of the prompt', () => {
  // Text blocks of one Anthropic user turn; the parser joins them with newlines.
  const cases: { what: string; blocks: string[]; prompt: string }[] = [
    { what: 'a reminder block before the typed text', blocks: ['<system-reminder>\nBe careful.\n</system-reminder>\n', 'ping'], prompt: 'ping' },
    { what: 'reminder blocks around the typed text', blocks: ['<system-reminder>a</system-reminder>', 'ping', '<system-reminder>b</system-reminder>'], prompt: 'ping' },
    { what: 'one block with a reminder on its own lines', blocks: ['<system-reminder>a</system-reminder>\nping'], prompt: 'ping' },
    { what: 'a reminder inside a line of typed text', blocks: ['say <system-reminder>x</system-reminder> back'], prompt: 'say <system-reminder>x</system-reminder> back' },
    { what: 'a reminder left open', blocks: ['<system-reminder>never closed', 'ping'], prompt: '<system-reminder>never closed\nping' },
    { what: 'a turn that is only a reminder', blocks: ['<system-reminder>only</system-reminder>'], prompt: '' },
  ];
  for (const { what, blocks, prompt } of cases) {
    test(`${what}: the prompt is ${JSON.stringify(prompt)}`, async () => {
      const request = structuredClone(capture('claude-code-ping')[0]!);
      request.body.messages = [{ role: 'user', content: blocks.map((text) => ({ type: 'text', text })) }];
      assert.equal((await conversationOf(request)).prompt, prompt);
    });
  }
});

describe('the config check on the new conditions', () => {
  const problems = (match: string) => {
    try {
      parseConfig(`rules:\n  - match: ${match}\n    response: "x"\n`, 'responses.yml');
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };
  test('turn and assistant_turns together are refused: they are one condition', () => {
    assert.match(problems('{ turn: 1, assistant_turns: 1 }'), /rules\.0\.match\.assistant_turns is the same condition as turn; give only one of them/);
  });
  test('a turn range that no count fits is refused', () => {
    assert.match(problems('{ turn: { gte: 3, lte: 1 } }'), /rules\.0\.match\.turn matches no conversation: gte 3 is above lte 1/);
  });
  test('an empty tool_result object, an unknown role and a catastrophic system_regex are refused', () => {
    assert.match(problems('{ tool_result: {} }'), /tool_result/);
    assert.match(problems('{ last_role: system }'), /last_role/);
    assert.match(problems('{ system_regex: "(a+)+$" }'), /system_regex may backtrack catastrophically/);
  });
  test('the new conditions load as written', () => {
    assert.equal(problems('{ turn: { gte: 1 }, tool_result: { name: Read, contains: x, tool_call_id: t1 }, system_contains: s, system_regex: "^s", last_role: tool }'), '');
    assert.equal(problems('{ assistant_turns: 2 }'), '');
  });
});

describe('the conditions hold alike for every provider', () => {
  const CONFIG = `rules:
  - id: after-weather
    match: { turn: 1, last_role: tool, system_contains: terse, system_regex: "^You are", tool_result: { name: get_weather, contains: SUNNY, tool_call_id: call_1 } }
    response: "It is sunny."
  - { id: decoy-other-call, priority: 10, match: { tool_result: { tool_call_id: call_2 } }, response: "decoy" }
  - { id: decoy-turn, priority: 10, match: { turn: { gte: 2 } }, response: "decoy" }
  - { id: decoy-system, priority: 10, match: { system_contains: verbose }, response: "decoy" }
  - { id: decoy-last-role, priority: 10, match: { last_role: user }, response: "decoy" }
defaults:
  unknown_response: "no rule"
`;
  const system = 'You are terse.';
  const requests: { provider: string; path: string; body: unknown; headers?: Record<string, string> }[] = [
    {
      provider: 'openai chat',
      path: '/v1/chat/completions',
      body: {
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        ],
      },
    },
    {
      provider: 'openai responses',
      path: '/v1/responses',
      body: {
        model: 'gpt-4o',
        instructions: system,
        input: [
          { role: 'user', content: 'weather?' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
        ],
      },
    },
    {
      provider: 'anthropic',
      path: '/v1/messages',
      headers: { 'anthropic-version': '2023-06-01' },
      body: {
        model: 'claude-sonnet-5-5',
        max_tokens: 64,
        system,
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' }] },
        ],
      },
    },
    {
      provider: 'gemini',
      path: '/v1beta/models/gemini-2.5-flash:generateContent',
      body: {
        systemInstruction: { parts: [{ text: system }] },
        contents: [
          { role: 'user', parts: [{ text: 'weather?' }] },
          { role: 'model', parts: [{ functionCall: { id: 'call_1', name: 'get_weather', args: {} } }] },
          { role: 'user', parts: [{ functionResponse: { id: 'call_1', name: 'get_weather', response: { result: 'sunny' } } }] },
        ],
      },
    },
    {
      provider: 'bedrock converse',
      path: '/model/anthropic.claude-3-haiku-20240307-v1:0/converse',
      body: {
        system: [{ text: system }],
        messages: [
          { role: 'user', content: [{ text: 'weather?' }] },
          { role: 'assistant', content: [{ toolUse: { toolUseId: 'call_1', name: 'get_weather', input: {} } }] },
          { role: 'user', content: [{ toolResult: { toolUseId: 'call_1', content: [{ text: 'sunny' }] } }] },
        ],
      },
    },
    {
      provider: 'ollama',
      path: '/api/chat',
      body: {
        model: 'llama3',
        stream: false,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', function: { name: 'get_weather', arguments: {} } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        ],
      },
    },
  ];

  let server: TestServer;
  before(async () => {
    server = await startTestServer(CONFIG);
  });
  after(() => server.stop());

  for (const { provider, path, body, headers } of requests) {
    test(`${provider}: the second step of a tool loop matches by turn, last role, system and the tool result's name, text and call id`, async () => {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      assert.equal(response.headers.get('x-mockllm-match'), 'after-weather', text);
    });
  }
});
