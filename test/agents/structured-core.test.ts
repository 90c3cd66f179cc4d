// Structured outputs across providers and runs (issue 15 item 4): Ollama `format` and Bedrock
// Converse `outputConfig` (and toolSpec `arguments: auto`) through their official clients; the
// same request gets the same JSON after a restart; a rule's JSON that fails the request's schema is
// reported (header and warn log line) and, in strict mode, sent as written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConverseCommand, BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { Ollama } from 'ollama';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertValid } from './structured-support.ts';

const PERSON = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer', minimum: 0, maximum: 130 },
    email: { type: 'string', format: 'email' },
    languages: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 },
  },
  required: ['name', 'age', 'email', 'languages'],
  additionalProperties: false,
} as const;

const CONFIG = `
rules:
  - id: wrong-json
    match: { contains: "stale fixture" }
    response: '{"name":"Ada","age":"thirty-six"}'
  - id: lookup-tool
    match: { contains: "look it up" }
    response:
      tool_calls:
        - name: lookup
          arguments: auto
  - id: thought-json
    match: { contains: "think first" }
    response: { json: auto, thinking: "The schema wants a person; I will make one up." }
  - id: json-without-schema
    match: { contains: "no schema here" }
    response: { json: auto }
defaults:
  unknown_response: "Prose, which no schema accepts."
`;

const chatBody = (content: string) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content }],
  response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: PERSON } },
});

async function chat(server: TestServer, content: string): Promise<{ response: Response; content: string }> {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
    body: JSON.stringify(chatBody(content)),
  });
  assert.equal(response.status, 200, await response.clone().text());
  const body = (await response.json()) as { choices: { message: { content: string } }[] };
  return { response, content: body.choices[0]!.message.content };
}

async function anthropic(server: TestServer, content: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 512, messages: [{ role: 'user', content }], output_config: { format: { type: 'json_schema', schema: PERSON } } }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { content: { text: string }[] }).content[0]!.text;
}

async function gemini(server: TestServer, text: string): Promise<string> {
  const response = await fetch(`${server.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'g' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text }] }], generationConfig: { responseMimeType: 'application/json', responseJsonSchema: PERSON } }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { candidates: { content: { parts: { text: string }[] } }[] }).candidates[0]!.content.parts[0]!.text;
}

describe('the same request, the same JSON', () => {
  test('across providers and a server restart, and other prompts get other values', async () => {
    const prompt = 'Describe a polyglot engineer who lives in Nairobi.';
    const first = await startTestServer(CONFIG);
    let before: string[];
    try {
      before = [(await chat(first, prompt)).content, await anthropic(first, prompt), await gemini(first, prompt)];
      for (const json of before) assertValid(PERSON, JSON.parse(json));
      assert.notEqual((await chat(first, 'Describe a retired sailor from Oslo.')).content, before[0]);
    } finally {
      await first.stop();
    }
    const second = await startTestServer(CONFIG);
    try {
      assert.deepEqual([(await chat(second, prompt)).content, await anthropic(second, prompt), await gemini(second, prompt)], before);
    } finally {
      await second.stop();
    }
  });
});

describe('json: auto with thinking', () => {
  test('Anthropic with thinking enabled gets the thinking block first, then the generated JSON as text', async () => {
    const server = await startTestServer(CONFIG);
    try {
      const response = await fetch(`${server.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'think first, then describe someone' }], output_config: { format: { type: 'json_schema', schema: PERSON } } }),
      });
      const body = (await response.json()) as { content: { type: string; thinking?: string; text?: string }[] };
      assert.deepEqual(body.content.map((block) => block.type), ['thinking', 'text']);
      assert.equal(body.content[0]!.thinking, 'The schema wants a person; I will make one up.');
      assertValid(PERSON, JSON.parse(body.content[1]!.text!));
    } finally {
      await server.stop();
    }
  });
});

describe('a rule whose JSON fails the schema', () => {
  let lenient: TestServer;
  let strict: TestServer;

  before(async () => {
    lenient = await startTestServer(CONFIG);
    strict = await startTestServer(`${CONFIG}settings:\n  strict: true\n`);
  });

  after(async () => {
    await Promise.all([lenient?.stop(), strict?.stop()]);
  });

  test('strict mode sends it as written, with a header and a warn log line naming the rule and the ajv error', async () => {
    const { response, content } = await chat(strict, 'Load the stale fixture.');
    assert.equal(content, '{"name":"Ada","age":"thirty-six"}');
    const header = response.headers.get('x-mockllm-schema-mismatch');
    assert.match(header ?? '', /^rule wrong-json: its JSON fails response_format\.json_schema\.schema: \(root\) must have required property 'email'; \(root\) must have required property 'languages'; \/age must be integer \(sent as written: strict mode\)$/);
    const requestId = response.headers.get('x-request-id');
    const warning = strict.logs.find((line) => line.level === 40 && line.requestId === requestId);
    assert.ok(warning, 'a warn line for the request');
    assert.equal(warning.ruleId, 'wrong-json');
    assert.match(String(warning.msg), /rule wrong-json: its JSON fails .*\/age must be integer/);
  });

  test('lenient mode sends generated JSON that validates, and still reports the mismatch', async () => {
    const { response, content } = await chat(lenient, 'Load the stale fixture.');
    assertValid(PERSON, JSON.parse(content));
    assert.match(response.headers.get('x-mockllm-schema-mismatch') ?? '', /^rule wrong-json: .*\/age must be integer \(generated JSON sent instead\)$/);
  });

  test('an answer that validates carries no mismatch header', async () => {
    const { response } = await chat(strict, 'Anything at all.');
    assert.equal(response.headers.get('x-mockllm-schema-mismatch'), null);
  });

  test('a schema nested thousands of levels deep gets an answer, not a server error', async () => {
    const depth = 5000;
    const schema = `${'{"type":"array","items":'.repeat(depth)}{"type":"string"}${'}'.repeat(depth)}`;
    const body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"deep"}],"response_format":{"type":"json_schema","json_schema":{"name":"deep","schema":${schema}}}}`;
    const response = await fetch(`${lenient.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(response.status, 200, await response.clone().text());
    const content = ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
    assert.doesNotThrow(() => JSON.parse(content));
  });

  test('json: auto without a schema in the request answers an empty object', async () => {
    const response = await fetch(`${lenient.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'no schema here' }] }),
    });
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]!.message.content, '{}');
  });
});

describe('Ollama and Bedrock', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(CONFIG);
  });

  after(async () => {
    await server?.stop();
  });

  test('ollama chat and generate with format: <schema> get JSON valid against it', async () => {
    const ollama = new Ollama({ host: server.url });
    const chat = await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Describe a chess player.' }], format: PERSON });
    assertValid(PERSON, JSON.parse(chat.message.content));
    const generated = await ollama.generate({ model: 'llama3.2', prompt: 'Describe a chess player.', format: PERSON });
    assertValid(PERSON, JSON.parse(generated.response ?? ''));
  });

  test('Bedrock Converse outputConfig gets JSON valid against its schema, and toolSpec arguments: auto against inputSchema', async () => {
    const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: server.url, credentials: { accessKeyId: 'AKIAMOCK', secretAccessKey: 'secret' }, maxAttempts: 1 });
    const answered = await client.send(
      new ConverseCommand({
        modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
        messages: [{ role: 'user', content: [{ text: 'Describe a chess player.' }] }],
        outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'person', schema: JSON.stringify(PERSON) } } } },
      }),
    );
    assertValid(PERSON, JSON.parse(answered.output!.message!.content![0]!.text!));

    const called = await client.send(
      new ConverseCommand({
        modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
        messages: [{ role: 'user', content: [{ text: 'Please look it up.' }] }],
        toolConfig: { tools: [{ toolSpec: { name: 'lookup', inputSchema: { json: JSON.parse(JSON.stringify(PERSON)) as Record<string, never> } } }] },
      }),
    );
    const use = called.output!.message!.content!.find((block) => block.toolUse)?.toolUse;
    assert.equal(use?.name, 'lookup');
    assertValid(PERSON, use?.input);
  });
});
