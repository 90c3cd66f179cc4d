// Structured outputs through the frameworks (issue 15 item 4): the AI SDK's generateObject and
// generateText with Output.object (OpenAI Responses and chat, Anthropic, Google), LangChain's
// withStructuredOutput (ChatOpenAI, ChatAnthropic), @anthropic-ai/sdk messages.parse and
// @google/genai responseSchema / responseJsonSchema, each answered with JSON that an independent
// ajv validates against the schema the client sent (recorded off the wire, not rebuilt here).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateObject, generateText, Output } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { ChatOpenAI } from '@langchain/openai';
import { ChatAnthropic } from '@langchain/anthropic';
import Anthropic from '@anthropic-ai/sdk';
import { zodOutputFormat } from '@anthropic-ai/sdk/helpers/zod';
import { GoogleGenAI, Type } from '@google/genai';
import { z } from 'zod';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assertValid } from './structured-support.ts';

const Event = z.object({
  name: z.string(),
  date: z.string().describe('ISO date'),
  attendees: z.array(z.object({ name: z.string(), email: z.string().email() })).min(1),
  priority: z.enum(['low', 'normal', 'high']),
  capacity: z.number().int().min(10).max(500),
  notes: z.string().nullable(),
});

const CONFIG = `
rules:
  - id: anthropic-tool
    match: { contains: "book a table", provider: anthropic }
    response:
      tool_calls:
        - name: book_table
          arguments: auto
  - id: gemini-tool
    match: { contains: "book a table", provider: gemini }
    response:
      tool_calls:
        - name: book_table
          arguments: auto
defaults:
  unknown_response: "I am prose, not JSON."
`;

const PROMPT = 'Plan the launch party: Alice, Bob and Chen are invited to the Lisbon office on Friday.';

let server: TestServer;
/** Request bodies as the server received them, by path, newest last. */
const bodies: { path: string; body: Record<string, unknown> }[] = [];

const recordingFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (typeof init?.body === 'string') bodies.push({ path: url.pathname, body: JSON.parse(init.body) as Record<string, unknown> });
  return fetch(input, init);
};

function lastBody(pathPart: string): Record<string, unknown> {
  const found = bodies.findLast((b) => b.path.includes(pathPart));
  assert.ok(found, `no request to ${pathPart} was recorded`);
  return found.body;
}

before(async () => {
  server = await startTestServer(CONFIG);
});

after(async () => {
  await server?.stop();
});

describe('AI SDK', () => {
  const openai = () => createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ai', fetch: recordingFetch });
  const anthropic = () => createAnthropic({ baseURL: `${server.url}/v1`, apiKey: 'sk-ant', fetch: recordingFetch });
  const google = () => createGoogleGenerativeAI({ baseURL: `${server.url}/v1beta`, apiKey: 'g-key', fetch: recordingFetch });

  test('generateObject through OpenAI Responses gets an object valid against the text.format schema', async () => {
    const { object } = await generateObject({ model: openai()('gpt-4o'), schema: Event, prompt: PROMPT, maxRetries: 0 });
    const format = (lastBody('/v1/responses').text as { format: { type: string; schema: unknown } }).format;
    assert.equal(format.type, 'json_schema');
    assertValid(format.schema, object);
  });

  test('generateObject through OpenAI chat gets an object valid against the response_format schema', async () => {
    const { object } = await generateObject({ model: openai().chat('gpt-4o'), schema: Event, prompt: PROMPT, maxRetries: 0 });
    const format = lastBody('/v1/chat/completions').response_format as { json_schema: { schema: unknown } };
    assertValid(format.json_schema.schema, object);
  });

  test('generateText with Output.object through Anthropic gets an object valid against output_config.format', async () => {
    const { output } = await generateText({ model: anthropic()('claude-sonnet-4-5'), output: Output.object({ schema: Event }), prompt: PROMPT, maxRetries: 0 });
    const config = lastBody('/v1/messages').output_config as { format: { type: string; schema: unknown } };
    assert.equal(config.format.type, 'json_schema');
    assertValid(config.format.schema, output);
  });

  test("generateText with Output.object through Anthropic's JSON-tool mode (a forced tool) gets an object valid against the tool's schema", async () => {
    const { output } = await generateText({
      model: anthropic()('claude-sonnet-4-5'),
      output: Output.object({ schema: Event }),
      prompt: PROMPT,
      maxRetries: 0,
      providerOptions: { anthropic: { structuredOutputMode: 'jsonTool' } },
    });
    const body = lastBody('/v1/messages') as { tools: { name: string; input_schema: unknown }[]; tool_choice: unknown; output_config?: unknown };
    assert.equal(body.output_config, undefined);
    assertValid(body.tools.find((t) => t.name === 'json')!.input_schema, output);
  });

  test('generateObject through Google gets an object valid against responseJsonSchema', async () => {
    const { object } = await generateObject({ model: google()('gemini-2.5-flash'), schema: Event, prompt: PROMPT, maxRetries: 0 });
    const config = lastBody(':generateContent').generationConfig as { responseJsonSchema: unknown };
    assertValid(config.responseJsonSchema, object);
  });
});

describe('LangChain withStructuredOutput', () => {
  test('ChatOpenAI (json_schema) parses JSON valid against the schema it sent', async () => {
    const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: 'sk-lc', configuration: { baseURL: `${server.url}/v1`, fetch: recordingFetch }, maxRetries: 0 });
    const parsed = await model.withStructuredOutput(Event, { name: 'event', method: 'jsonSchema' }).invoke(PROMPT);
    const format = lastBody('/v1/chat/completions').response_format as { json_schema: { schema: unknown } };
    assertValid(format.json_schema.schema, parsed);
  });

  test('ChatAnthropic by default (a forced tool call) gets a tool_use whose input validates, from a rule that answers prose', async () => {
    const model = new ChatAnthropic({ model: 'claude-sonnet-4-5', apiKey: 'sk-lc', anthropicApiUrl: server.url, clientOptions: { fetch: recordingFetch }, maxRetries: 0 });
    const parsed = await model.withStructuredOutput(Event, { name: 'event' }).invoke(PROMPT);
    const body = lastBody('/v1/messages') as { tool_choice: { type: string; name: string }; tools: { name: string; input_schema: unknown }[] };
    assert.deepEqual(body.tool_choice, { type: 'tool', name: 'event' });
    assertValid(body.tools[0]!.input_schema, parsed);
  });

  test('ChatOpenAI with functionCalling (tool_choice names the function) gets arguments that validate', async () => {
    const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: 'sk-lc', configuration: { baseURL: `${server.url}/v1`, fetch: recordingFetch }, maxRetries: 0 });
    const parsed = await model.withStructuredOutput(Event, { name: 'event', method: 'functionCalling' }).invoke(PROMPT);
    const body = lastBody('/v1/chat/completions') as { tools: { function: { parameters: unknown } }[] };
    assertValid(body.tools[0]!.function.parameters, parsed);
  });

  test('ChatAnthropic (jsonSchema) parses JSON valid against the schema it sent', async () => {
    const model = new ChatAnthropic({ model: 'claude-sonnet-4-5', apiKey: 'sk-lc', anthropicApiUrl: server.url, clientOptions: { fetch: recordingFetch }, maxRetries: 0 });
    const parsed = await model.withStructuredOutput(Event, { name: 'event', method: 'jsonSchema' }).invoke(PROMPT);
    const body = lastBody('/v1/messages');
    const format = ((body.output_config as { format?: unknown } | undefined)?.format ?? body.output_format) as { schema: unknown };
    assertValid(format.schema, parsed);
  });
});

describe('@anthropic-ai/sdk', () => {
  test('messages.parse with zodOutputFormat gets parsed_output valid against the schema', async () => {
    const client = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant', fetch: recordingFetch, maxRetries: 0 });
    const message = await client.messages.parse({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user', content: PROMPT }],
      output_config: { format: zodOutputFormat(Event) },
    });
    const config = lastBody('/v1/messages').output_config as { format: { schema: unknown } };
    assert.ok(message.parsed_output);
    assertValid(config.format.schema, message.parsed_output);
  });

  test('a tool_use with arguments: auto has input valid against input_schema', async () => {
    const client = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant', maxRetries: 0 });
    const input_schema = {
      type: 'object' as const,
      properties: { restaurant: { type: 'string' }, party_size: { type: 'integer', minimum: 1, maximum: 12 }, time: { type: 'string', format: 'date-time' } },
      required: ['restaurant', 'party_size', 'time'],
      additionalProperties: false,
    };
    const message = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 512,
      messages: [{ role: 'user', content: 'Please book a table for four.' }],
      tools: [{ name: 'book_table', description: 'Books a table', input_schema }],
    });
    const use = message.content.find((block) => block.type === 'tool_use');
    assert.ok(use && use.type === 'tool_use');
    assert.equal(message.stop_reason, 'tool_use');
    assertValid(input_schema, use.input);
  });
});

describe('@google/genai', () => {
  const client = () => new GoogleGenAI({ apiKey: 'g-key', httpOptions: { baseUrl: server.url } });

  test("responseSchema in Gemini's OpenAPI style (upper-case types, nullable) gets JSON valid against its JSON Schema reading", async () => {
    const response = await client().models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'List two cookie recipes.',
      config: {
        responseMimeType: 'application/json',
        responseSchema: {
          type: Type.ARRAY,
          minItems: '2',
          items: {
            type: Type.OBJECT,
            properties: {
              recipeName: { type: Type.STRING },
              servings: { type: Type.INTEGER, minimum: 1, maximum: 24 },
              rating: { type: Type.NUMBER, nullable: true },
              difficulty: { type: Type.STRING, format: 'enum', enum: ['easy', 'hard'] },
            },
            required: ['recipeName', 'servings', 'difficulty'],
            propertyOrdering: ['recipeName', 'servings', 'rating', 'difficulty'],
          },
        },
      },
    });
    const value = JSON.parse(response.text!) as unknown;
    assertValid(
      {
        type: 'array',
        minItems: 2,
        items: {
          type: 'object',
          properties: {
            recipeName: { type: 'string' },
            servings: { type: 'integer', minimum: 1, maximum: 24 },
            rating: { type: ['number', 'null'] },
            difficulty: { enum: ['easy', 'hard'] },
          },
          required: ['recipeName', 'servings', 'difficulty'],
        },
      },
      value,
    );
  });

  test('responseJsonSchema gets valid JSON, and a functionCall with arguments: auto has args valid against the declaration', async () => {
    const responseJsonSchema = z.toJSONSchema(Event);
    const response = await client().models.generateContent({
      model: 'gemini-2.5-flash',
      contents: PROMPT,
      config: { responseMimeType: 'application/json', responseJsonSchema },
    });
    assertValid(responseJsonSchema, JSON.parse(response.text!));

    const parameters = { type: Type.OBJECT, properties: { restaurant: { type: Type.STRING }, party_size: { type: Type.INTEGER, minimum: 1, maximum: 12 } }, required: ['restaurant', 'party_size'] };
    const called = await client().models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'book a table for two',
      config: { tools: [{ functionDeclarations: [{ name: 'book_table', parameters }] }] },
    });
    const call = called.functionCalls?.[0];
    assert.equal(call?.name, 'book_table');
    assertValid({ type: 'object', properties: { restaurant: { type: 'string' }, party_size: { type: 'integer', minimum: 1, maximum: 12 } }, required: ['restaurant', 'party_size'] }, call?.args);
  });
});
