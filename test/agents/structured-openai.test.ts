// Structured outputs through the `openai` package (issue 15 item 4): chat.completions.parse and
// responses.parse with zod schemas get JSON that validates (checked by an independent ajv with the
// standard formats), the same JSON for the same request, a rule's valid JSON as written, `json:
// auto`, and `arguments: auto` tool calls valid against the declared parameters.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertValid } from './structured-support.ts';

const MODEL = 'gpt-4o-2024-08-06';

const CalendarEvent = z.object({
  name: z.string(),
  date: z.string().describe('ISO date'),
  participants: z.array(z.string()),
});

const Recipe = z.object({
  title: z.string(),
  servings: z.number().int().min(1).max(12),
  difficulty: z.enum(['easy', 'medium', 'hard']),
  ingredients: z.array(z.object({ item: z.string(), grams: z.number().nullable() })),
  vegetarian: z.boolean(),
  source: z.string().url().nullable(),
  id: z.string().uuid(),
  created: z.string().datetime(),
  tags: z.array(z.string()).min(1).max(3),
});

const WeatherArgs = z.object({
  city: z.string(),
  unit: z.enum(['celsius', 'fahrenheit']),
  days: z.number().int().min(1).max(7),
});

const CONFIG = `
rules:
  - id: literal-event
    match: { contains: "literal event" }
    response: '{"name":"Science fair","date":"2026-03-06","participants":["Alice","Bob"]}'
  - id: auto-json
    match: { contains: "auto json" }
    response: { json: auto }
  - id: weather-tool
    match: { contains: "weather" }
    response:
      tool_calls:
        - name: get_weather
          arguments: auto
  - id: missing-tool
    match: { contains: "undeclared tool" }
    response:
      tool_calls:
        - name: not_offered
          arguments: auto
defaults:
  unknown_response: "I am prose, not JSON."
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

describe('chat.completions.parse', () => {
  test('a prompt no rule matches gets JSON valid against the zod schema instead of the prose fallback', async () => {
    const format = zodResponseFormat(Recipe, 'recipe');
    const completion = await client.chat.completions.parse({
      model: MODEL,
      messages: [{ role: 'user', content: 'Give me a pancake recipe for Sunday brunch.' }],
      response_format: format,
    });
    const message = completion.choices[0]!.message;
    assert.ok(message.parsed, 'the SDK parsed the JSON');
    assertValid(format.json_schema.schema, JSON.parse(message.content!));
    assert.deepEqual(message.parsed, Recipe.parse(JSON.parse(message.content!)));
  });

  test('the same request gets the same JSON every time, and another prompt other values', async () => {
    const ask = async (content: string) =>
      (await client.chat.completions.parse({ model: MODEL, messages: [{ role: 'user', content }], response_format: zodResponseFormat(Recipe, 'recipe') })).choices[0]!.message.content;
    const first = await ask('A recipe for lentil soup, please.');
    assert.equal(await ask('A recipe for lentil soup, please.'), first);
    assert.notEqual(await ask('A recipe for apple pie, please.'), first);
  });

  test("a rule's JSON that fits the schema is sent as written", async () => {
    const completion = await client.chat.completions.parse({
      model: MODEL,
      messages: [{ role: 'user', content: 'Parse the literal event.' }],
      response_format: zodResponseFormat(CalendarEvent, 'event'),
    });
    assert.deepEqual(completion.choices[0]!.message.parsed, { name: 'Science fair', date: '2026-03-06', participants: ['Alice', 'Bob'] });
  });

  test('json: auto streams generated JSON that the stream helper parses', async () => {
    const format = zodResponseFormat(CalendarEvent, 'event');
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'auto json: Alice and Bob are going to a science fair on Friday.' }],
      response_format: format,
    });
    const final = await stream.finalChatCompletion();
    const parsed = final.choices[0]!.message.parsed;
    assertValid(format.json_schema.schema, parsed);
  });

  test('arguments: auto are valid against the declared parameters and parsed by the SDK', async () => {
    const tool = zodFunction({ name: 'get_weather', parameters: WeatherArgs });
    const completion = await client.chat.completions.parse({
      model: MODEL,
      messages: [{ role: 'user', content: 'What is the weather in Lisbon?' }],
      tools: [tool],
    });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    assert.equal(call.type, 'function');
    if (call.type !== 'function') return;
    assertValid(tool.function.parameters!, JSON.parse(call.function.arguments));
    assert.deepEqual(call.function.parsed_arguments, WeatherArgs.parse(JSON.parse(call.function.arguments)));
  });

  test('arguments: auto for a tool the request does not declare is a 400 naming the rule and the tool', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'call the undeclared tool' }],
        tools: [zodFunction({ name: 'get_weather', parameters: WeatherArgs })],
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /rule missing-tool calls the tool "not_offered" with arguments: auto, but this request declares no tool of that name \(declared: "get_weather"\)/);
        return true;
      },
    );
  });
});

describe('responses.parse', () => {
  test('text.format json_schema gets JSON that validates and that the SDK parses, streaming or not', async () => {
    const format = zodTextFormat(Recipe, 'recipe');
    const response = await client.responses.parse({ model: MODEL, input: 'A recipe for a vegetable curry.', text: { format } });
    assert.ok(response.output_parsed);
    assertValid(format.schema, JSON.parse(response.output_text));

    const stream = client.responses.stream({ model: MODEL, input: 'A recipe for a vegetable curry.', text: { format } });
    const streamed = await stream.finalResponse();
    assert.equal(streamed.output_text, response.output_text, 'the same request, streamed, gets the same JSON');
  });

  test('function tools with arguments: auto get arguments valid against their parameters', async () => {
    const parameters = z.toJSONSchema(WeatherArgs) as Record<string, unknown>;
    const response = await client.responses.create({
      model: MODEL,
      input: 'weather for Oslo',
      tools: [{ type: 'function', name: 'get_weather', parameters, strict: true }],
    });
    const call = response.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assertValid(parameters, JSON.parse(call.arguments));
  });
});
