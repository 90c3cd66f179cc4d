// The same rule file behind every framework entry point: the Vercel AI SDK's openai() (Responses),
// openai.chat() (Chat Completions) and anthropic() (Messages), each with generateText, streamText
// and a two-step tool loop; LangChain's ChatOpenAI (chat and Responses), ChatAnthropic (invoke,
// stream, a bound tool) and OpenAIEmbeddings. The server is strict: whatever these clients send
// must pass the real APIs' validation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, jsonSchema, stepCountIs, streamText, tool, type LanguageModel } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { ChatAnthropic } from '@langchain/anthropic';
import { AIMessage, HumanMessage, ToolMessage, type AIMessageChunk } from '@langchain/core/messages';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const HI = 'Hello from every framework.';
const STORY = 'Once upon a time, a mock server answered every client the same way, and the tests were green.';
const FINAL = 'The tool says it is 19°C in Lisbon.';
const ARGS = { city: 'Lisbon', unit: 'celsius' };

const CONFIG = `
responses:
  hi: ${JSON.stringify(HI)}
  "tell me a story": ${JSON.stringify(STORY)}
rules:
  - id: call
    match: {contains: "weather in lisbon", tools: get_weather, tool_result: false}
    response:
      tool_calls:
        - {name: get_weather, arguments: ${JSON.stringify(ARGS)}}
  - id: answer
    match: {tool_result: get_weather}
    response: ${JSON.stringify(FINAL)}
settings:
  strict: true
`;

let server: TestServer;

before(async () => {
  server = await startTestServer(CONFIG);
});

after(async () => {
  await server?.stop();
});

const MODELS: [string, () => LanguageModel][] = [
  ['openai() (Responses API)', () => createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ai' })('gpt-4o')],
  ['openai.chat() (Chat Completions)', () => createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ai' }).chat('gpt-4o')],
  ['anthropic() (Messages)', () => createAnthropic({ baseURL: `${server.url}/v1`, apiKey: 'sk-ant-ai' })('claude-sonnet-5-5')],
];

for (const [name, model] of MODELS) {
  describe(`AI SDK ${name}`, () => {
    test('generateText: configured text, finishReason stop, usage', async () => {
      const result = await generateText({ model: model(), prompt: 'hi', maxRetries: 0 });
      assert.equal(result.text, HI);
      assert.equal(result.finishReason, 'stop');
      assert.ok((result.usage.inputTokens ?? 0) > 0 && (result.usage.outputTokens ?? 0) > 0);
    });

    test('streamText: several pieces that rebuild the text, no error parts, the same usage as generateText', async () => {
      const errors: unknown[] = [];
      const result = streamText({ model: model(), prompt: 'tell me a story', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
      const pieces: string[] = [];
      for await (const piece of result.textStream) pieces.push(piece);
      assert.deepEqual(errors, []);
      assert.ok(pieces.length > 1);
      assert.equal(pieces.join(''), STORY);
      assert.equal(await result.finishReason, 'stop');
      const generated = await generateText({ model: model(), prompt: 'tell me a story', maxRetries: 0 });
      const usage = await result.usage;
      assert.equal(usage.inputTokens, generated.usage.inputTokens);
      assert.equal(usage.outputTokens, generated.usage.outputTokens);
    });

    for (const streamed of [false, true]) {
      test(`tool round trip with ${streamed ? 'streamText' : 'generateText'}: the call runs, the tool_result rule answers`, async () => {
        const executed: unknown[] = [];
        const tools = {
          get_weather: tool({
            description: 'Current weather for a city',
            inputSchema: jsonSchema<{ city: string; unit?: string }>({
              type: 'object',
              properties: { city: { type: 'string' }, unit: { type: 'string' } },
              required: ['city'],
            }),
            execute: async (input) => {
              executed.push(input);
              return { temperature: 19 };
            },
          }),
        };
        const options = { model: model(), tools, prompt: 'What is the weather in Lisbon?', stopWhen: stepCountIs(2), maxRetries: 0 };
        if (streamed) {
          const errors: unknown[] = [];
          const result = streamText({ ...options, onError: ({ error }) => void errors.push(error) });
          assert.equal(await result.text, FINAL);
          const steps = await result.steps;
          assert.deepEqual(errors, []);
          assert.equal(steps.length, 2);
          assert.equal(steps[0]!.finishReason, 'tool-calls');
        } else {
          const result = await generateText(options);
          assert.equal(result.text, FINAL);
          assert.equal(result.steps.length, 2);
          assert.equal(result.steps[0]!.toolCalls[0]!.toolName, 'get_weather');
          assert.equal(result.finishReason, 'stop');
        }
        assert.deepEqual(executed, [ARGS]);
      });
    }
  });
}

async function collect(stream: AsyncIterable<AIMessageChunk>): Promise<{ full: AIMessageChunk; chunks: number }> {
  let full: AIMessageChunk | undefined;
  let chunks = 0;
  for await (const chunk of stream) {
    full = full ? full.concat(chunk) : chunk;
    chunks++;
  }
  assert.ok(full);
  return { full, chunks };
}

describe('LangChain', () => {
  const chatOpenAI = (useResponsesApi: boolean) =>
    new ChatOpenAI({ model: 'gpt-4o-mini', apiKey: 'sk-lc', maxRetries: 0, useResponsesApi, configuration: { baseURL: `${server.url}/v1` } });
  const chatAnthropic = () =>
    new ChatAnthropic({ model: 'claude-sonnet-5-5', apiKey: 'sk-ant-lc', maxRetries: 0, anthropicApiUrl: server.url });

  for (const useResponsesApi of [false, true]) {
    test(`ChatOpenAI${useResponsesApi ? ' with useResponsesApi' : ''}: invoke and stream`, async () => {
      const model = chatOpenAI(useResponsesApi);
      assert.equal((await model.invoke('hi')).text, HI);
      const { full, chunks } = await collect(await model.stream('tell me a story'));
      assert.ok(chunks > 1);
      assert.equal(full.text, STORY);
      assert.ok((full.usage_metadata?.output_tokens ?? 0) > 0);
    });

    test(`ChatOpenAI${useResponsesApi ? ' with useResponsesApi' : ''}: a bound tool is called, and its result answered`, async () => {
      const model = chatOpenAI(useResponsesApi).bindTools([
        { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      ]);
      const question = new HumanMessage('What is the weather in Lisbon?');
      const call = await model.invoke([question]);
      assert.equal(call.tool_calls?.length, 1);
      assert.equal(call.tool_calls![0]!.name, 'get_weather');
      assert.deepEqual(call.tool_calls![0]!.args, ARGS);
      const answer = await model.invoke([question, call, new ToolMessage({ tool_call_id: call.tool_calls![0]!.id!, content: '{"temperature":19}' })]);
      assert.equal(answer.text, FINAL);
    });
  }

  test('ChatAnthropic: invoke and stream', async () => {
    const model = chatAnthropic();
    assert.equal((await model.invoke('hi')).text, HI);
    const { full, chunks } = await collect(await model.stream('tell me a story'));
    assert.ok(chunks > 1);
    assert.equal(full.text, STORY);
    assert.ok((full.usage_metadata?.output_tokens ?? 0) > 0);
  });

  test('ChatAnthropic: a bound tool is called, and its result answered', async () => {
    const model = chatAnthropic().bindTools([{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }]);
    const question = new HumanMessage('What is the weather in Lisbon?');
    const call = await model.invoke([question]);
    assert.equal(call.tool_calls?.[0]?.name, 'get_weather');
    assert.deepEqual(call.tool_calls?.[0]?.args, ARGS);
    const answer = await model.invoke([question, new AIMessage(call), new ToolMessage({ tool_call_id: call.tool_calls![0]!.id!, content: '19' })]);
    assert.equal(answer.text, FINAL);
  });

  test('OpenAIEmbeddings: one vector per document, deterministic, of the model size', async () => {
    const embeddings = new OpenAIEmbeddings({ model: 'text-embedding-3-small', apiKey: 'sk-lc', maxRetries: 0, configuration: { baseURL: `${server.url}/v1` } });
    const [a, b] = await embeddings.embedDocuments(['alpha', 'beta']);
    assert.equal(a!.length, 1536);
    assert.notDeepEqual(a, b);
    assert.deepEqual(await embeddings.embedQuery('alpha'), a);
    const short = new OpenAIEmbeddings({ model: 'text-embedding-3-small', dimensions: 8, apiKey: 'sk-lc', maxRetries: 0, configuration: { baseURL: `${server.url}/v1` } });
    assert.equal((await short.embedQuery('alpha')).length, 8);
  });
});
