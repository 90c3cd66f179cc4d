// Azure OpenAI through `AzureOpenAI` from `openai` (deployments surface, api-version), the plain
// `OpenAI` client on Azure's v1 surface, and @ai-sdk/azure (v1 by default, and deployment-based
// URLs) against a real mockllm on 127.0.0.1: chat, completions, Responses, embeddings and models,
// streamed and not, a tool-call round trip, Azure's content-filter fields, errors through each
// SDK's typed error, usage figures, and the raw wire where a client is lenient.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:http2';
import OpenAI, { AzureOpenAI } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { APICallError, embed, generateText, jsonSchema, stepCountIs, streamText, tool, type LanguageModel } from 'ai';
import { createAzure } from '@ai-sdk/azure';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { post, startTestServer, type TestServer } from '../../helpers/server.ts';

const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
const FINAL = 'It is 19 degrees in Lisbon.';
const ARGS = { city: 'Lisbon' };
const API_VERSION = '2024-10-21';
const DEPLOYMENT = 'my-gpt4o';

const CONFIG = `
responses:
  "what colour is the sky?": ${JSON.stringify(SKY)}
rules:
  - id: weather-call
    match: {contains: "weather in lisbon", tool_result: false}
    response:
      tool_calls:
        - name: get_weather
          arguments: ${JSON.stringify(ARGS)}
  - id: weather-answer
    match: {tool_result: get_weather}
    response: ${JSON.stringify(FINAL)}
  - id: slow-down
    match: {contains: "rate limit me"}
    response: {error: {status: 429, message: "Requests to the ChatCompletions_Create Operation have exceeded the rate limit.", retry_after: 0}}
  - id: azure-only
    match: {contains: "which provider", provider: azure}
    response: "Answered by {{provider}} for {{model}} at {{endpoint}}."
  - id: flaky
    match: {contains: "flaky question"}
    response:
      sequence:
        - error: {status: 429, retry_after: 0.05}
        - "Answered after the retry."
  - id: filtered
    match: {contains: "filter this"}
    response: {text: "", finish_reason: content_filter}
defaults:
  unknown_response: "No rule matched."
`;

let server: TestServer;
let azure: AzureOpenAI;
let v1: OpenAI;

before(async () => {
  server = await startTestServer(CONFIG);
  azure = new AzureOpenAI({ endpoint: server.url, apiKey: 'azure-key', apiVersion: API_VERSION, deployment: DEPLOYMENT, maxRetries: 0 });
  v1 = new OpenAI({ baseURL: `${server.url}/openai/v1`, apiKey: 'azure-key', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

const user = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];
/** OpenAI's chat framing (the shared OpenAI-format usage): 3 per message + role + content, 3 to prime. */
const chatPromptTokens = (content: string) => 3 + 3 + countTokens('user') + countTokens(content);

describe('AzureOpenAI (deployments surface)', () => {
  test('a chat completion answers on /openai/deployments/{deployment}/chat/completions with the deployment as model, usage and filter results', async () => {
    const { data, response } = await azure.chat.completions.create({ model: 'ignored-by-azure', messages: user('what colour is the sky?') }).withResponse();
    assert.match(response.url, new RegExp(`/openai/deployments/${DEPLOYMENT}/chat/completions\\?api-version=${API_VERSION}$`));
    assert.equal(data.choices[0]!.message.content, SKY);
    assert.equal(data.model, DEPLOYMENT);
    assert.equal(data.choices[0]!.finish_reason, 'stop');
    assert.deepEqual(data.usage && { p: data.usage.prompt_tokens, c: data.usage.completion_tokens, t: data.usage.total_tokens }, {
      p: chatPromptTokens('what colour is the sky?'),
      c: countTokens(SKY),
      t: chatPromptTokens('what colour is the sky?') + countTokens(SKY),
    });
    const extra = data as unknown as { prompt_filter_results: { prompt_index: number; content_filter_results: Record<string, { filtered: boolean }> }[]; choices: { content_filter_results: Record<string, { filtered: boolean; severity?: string }> }[] };
    assert.equal(extra.prompt_filter_results[0]!.prompt_index, 0);
    assert.equal(extra.prompt_filter_results[0]!.content_filter_results.hate!.filtered, false);
    assert.deepEqual(extra.choices[0]!.content_filter_results.violence, { filtered: false, severity: 'safe' });
    assert.ok(response.headers.get('apim-request-id'), 'apim-request-id is sent');
  });

  test('a streamed chat opens with the prompt-filter chunk (no choices), then rebuilds the text, with usage when asked', async () => {
    const stream = await azure.chat.completions.create({ model: DEPLOYMENT, messages: user('what colour is the sky?'), stream: true, stream_options: { include_usage: true } });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.deepEqual(chunks[0]!.choices, []);
    assert.ok((chunks[0] as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results.length === 1);
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), SKY);
    assert.equal(chunks.at(-1)!.usage?.completion_tokens, countTokens(SKY));
  });

  test('the .stream() helper assembles the final completion across the id-less first chunk', async () => {
    const stream = azure.chat.completions.stream({ model: DEPLOYMENT, messages: user('what colour is the sky?') });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0]!.message.content, SKY);
    assert.match(final.id, /^chatcmpl-/);
  });

  test('a tool-call round trip: call → tool result → final text', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const first = await azure.chat.completions.create({ model: DEPLOYMENT, messages: user('What is the weather in Lisbon?'), tools });
    const call = first.choices[0]!.message.tool_calls![0]!;
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(call.type, 'function');
    assert.deepEqual(call.type === 'function' && JSON.parse(call.function.arguments), ARGS);
    const second = await azure.chat.completions.create({
      model: DEPLOYMENT,
      tools,
      messages: [...user('What is the weather in Lisbon?'), first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"temperature": 19}' }],
    });
    assert.equal(second.choices[0]!.message.content, FINAL);
  });

  test('legacy completions and embeddings answer on their deployment paths', async () => {
    const completion = await azure.completions.create({ model: DEPLOYMENT, prompt: 'what colour is the sky?' });
    assert.equal(completion.choices[0]!.text, SKY);
    assert.ok((completion as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results.length === 1);
    const embeddings = new AzureOpenAI({ endpoint: server.url, apiKey: 'azure-key', apiVersion: API_VERSION, deployment: 'text-embedding-3-small', maxRetries: 0 });
    const result = await embeddings.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'float' });
    assert.equal(result.data.length, 2);
    assert.equal(result.data[0]!.embedding.length, 1536);
    assert.equal(result.model, 'text-embedding-3-small');
  });

  test('Responses and models are served without a deployment segment', async () => {
    const response = await azure.responses.create({ model: DEPLOYMENT, input: 'what colour is the sky?' });
    assert.equal(response.output_text, SKY);
    const models = await azure.models.list();
    assert.ok(models.data.some((m) => m.id === 'gpt-4o'));
  });

  test('match.provider and templates see azure, the deployment as model, the deployments route as endpoint', async () => {
    const completion = await azure.chat.completions.create({ model: DEPLOYMENT, messages: user('which provider is this?') });
    assert.equal(completion.choices[0]!.message.content, `Answered by azure for ${DEPLOYMENT} at /openai/deployments/{deployment}/chat/completions.`);
  });

  test('a rule error is a RateLimitError with Azure\'s code and message', async () => {
    const error = await azure.chat.completions.create({ model: DEPLOYMENT, messages: user('please rate limit me') }).then(
      () => assert.fail('expected a 429'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof OpenAI.RateLimitError, `got ${String(error)}`);
    assert.equal(error.status, 429);
    assert.equal(error.code, '429');
    assert.match(error.message, /exceeded the rate limit/);
  });

  test('a 429 with retry_after in a sequence: the SDK honours the retry hint and gets the next step', async () => {
    const retrying = new AzureOpenAI({ endpoint: server.url, apiKey: 'azure-key', apiVersion: API_VERSION, deployment: DEPLOYMENT, maxRetries: 2 });
    const { data, response } = await retrying.chat.completions.create({ model: DEPLOYMENT, messages: user('a flaky question') }).withResponse();
    assert.equal(data.choices[0]!.message.content, 'Answered after the retry.');
    assert.equal(response.status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /mockllm_responses_total\{[^}]*provider="azure"[^}]*\} [1-9]/);
  });

  test('a content_filter finish marks the choice filtered', async () => {
    const completion = await azure.chat.completions.create({ model: DEPLOYMENT, messages: user('filter this please') });
    assert.equal(completion.choices[0]!.finish_reason, 'content_filter');
    const results = (completion.choices[0] as unknown as { content_filter_results: Record<string, { filtered: boolean }> }).content_filter_results;
    assert.equal(results.violence!.filtered, true);
  });
});

describe('OpenAI client on the v1 surface (/openai/v1)', () => {
  test('chat, stream, Responses, embeddings and models answer without api-version', async () => {
    const completion = await v1.chat.completions.create({ model: 'gpt-4o', messages: user('what colour is the sky?') });
    assert.equal(completion.choices[0]!.message.content, SKY);
    assert.equal(completion.model, 'gpt-4o');
    let text = '';
    for await (const chunk of await v1.chat.completions.create({ model: 'gpt-4o', messages: user('what colour is the sky?'), stream: true })) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, SKY);
    const response = await v1.responses.create({ model: 'gpt-4o', input: 'what colour is the sky?' });
    assert.equal(response.output_text, SKY);
    const streamed = v1.responses.stream({ model: 'gpt-4o', input: 'what colour is the sky?' });
    assert.equal((await streamed.finalResponse()).output_text, SKY);
    const embedding = await v1.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha' });
    assert.equal(embedding.data[0]!.embedding.length, 1536);
    const model = await v1.models.retrieve('gpt-4o-mini');
    assert.equal(model.id, 'gpt-4o-mini');
    await assert.rejects(v1.models.retrieve('no-such-model'), (e: unknown) => e instanceof OpenAI.NotFoundError);
  });

  test('a Responses tool-call round trip with previous_response_id', async () => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    const first = await v1.responses.create({ model: 'gpt-4o', input: 'What is the weather in Lisbon?', tools });
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assert.deepEqual(JSON.parse(call.arguments), ARGS);
    const second = await v1.responses.create({ model: 'gpt-4o', previous_response_id: first.id, tools, input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temperature":19}' }] });
    assert.equal(second.output_text, FINAL);
    assert.ok((second.usage?.input_tokens ?? 0) > 0);
  });
});

describe('@ai-sdk/azure', () => {
  const v1Provider = () => createAzure({ baseURL: `${server.url}/openai/v1`, apiKey: 'azure-key' });
  const deploymentProvider = () => createAzure({ baseURL: `${server.url}/openai`, apiKey: 'azure-key', apiVersion: API_VERSION, useDeploymentBasedUrls: true });
  const MODELS: [string, () => LanguageModel][] = [
    ['azure() (Responses, v1 surface)', () => v1Provider()(DEPLOYMENT)],
    ['azure.chat() (v1 surface)', () => v1Provider().chat(DEPLOYMENT)],
    ['azure.chat() with deployment-based URLs', () => deploymentProvider().chat(DEPLOYMENT)],
  ];

  for (const [name, model] of MODELS) {
    test(`${name}: generateText and streamText give the text and the same usage`, async () => {
      const generated = await generateText({ model: model(), prompt: 'what colour is the sky?', maxRetries: 0 });
      assert.equal(generated.text, SKY);
      assert.equal(generated.finishReason, 'stop');
      assert.equal(generated.usage.outputTokens, countTokens(SKY));
      const errors: unknown[] = [];
      const streamed = streamText({ model: model(), prompt: 'what colour is the sky?', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
      const pieces: string[] = [];
      for await (const piece of streamed.textStream) pieces.push(piece);
      assert.deepEqual(errors, []);
      assert.ok(pieces.length > 1);
      assert.equal(pieces.join(''), SKY);
      assert.equal((await streamed.usage).inputTokens, generated.usage.inputTokens);
    });

    test(`${name}: a tool round trip runs the tool and gets the final text`, async () => {
      const executed: unknown[] = [];
      const tools = {
        get_weather: tool({
          description: 'Current weather for a city',
          inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
          execute: async (input) => {
            executed.push(input);
            return { temperature: 19 };
          },
        }),
      };
      const result = await generateText({ model: model(), tools, prompt: 'What is the weather in Lisbon?', stopWhen: stepCountIs(2), maxRetries: 0 });
      assert.equal(result.text, FINAL);
      assert.equal(result.steps.length, 2);
      assert.deepEqual(executed, [ARGS]);
    });
  }

  test('a rule error is an APICallError with the status and Azure\'s message', async () => {
    const error = await generateText({ model: v1Provider().chat(DEPLOYMENT), prompt: 'please rate limit me', maxRetries: 0 }).then(
      () => assert.fail('expected a 429'),
      (e: unknown) => e,
    );
    assert.ok(APICallError.isInstance(error), `got ${String(error)}`);
    assert.equal(error.statusCode, 429);
    assert.match(error.message, /exceeded the rate limit/);
  });

  test('embed on the v1 surface', async () => {
    const { embedding } = await embed({ model: v1Provider().embedding('text-embedding-3-small'), value: 'alpha', maxRetries: 0 });
    assert.equal(embedding.length, 1536);
  });
});

/** A POST over HTTP/2 without TLS (prior knowledge), as the server accepts beside HTTP/1.1 on one port. */
async function h2cPost(origin: string, path: string, body: unknown): Promise<{ status: number; contentType: string | undefined; text: string }> {
  const session = connect(origin);
  try {
    const request = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
    request.end(JSON.stringify(body));
    return await new Promise((resolve, reject) => {
      let headers: Record<string, unknown> = {};
      const chunks: Buffer[] = [];
      request.on('response', (received) => void (headers = received));
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => resolve({ status: Number(headers[':status']), contentType: headers['content-type'] as string | undefined, text: Buffer.concat(chunks).toString('utf8') }));
      request.on('error', reject);
    });
  } finally {
    session.close();
  }
}

describe('wire checks', () => {
  test('over h2c (HTTP/2 without TLS) a deployments chat answers as over HTTP/1.1', async () => {
    const { status, text } = await h2cPost(server.url, `/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`, { messages: user('what colour is the sky?') });
    assert.equal(status, 200);
    const body = JSON.parse(text) as { model: string; choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]!.message.content, SKY);
    assert.equal(body.model, DEPLOYMENT);
  });

  const deploymentsUrl = (path: string, query = `?api-version=${API_VERSION}`) => `${server.url}/openai/deployments/${DEPLOYMENT}${path}${query}`;

  test('a deployments call without api-version is 404 Resource not found, as Azure answers it', async () => {
    for (const query of ['', '?api-version=not-a-version']) {
      const response = await post(deploymentsUrl('/chat/completions', query), { messages: user('hi') }, { 'api-key': 'k' });
      assert.equal(response.status, 404);
      assert.deepEqual(await response.json(), { error: { code: '404', message: 'Resource not found' } });
    }
  });

  test('the body needs no model on a deployments path; api-key and bearer auth are both accepted', async () => {
    const auths: Record<string, string>[] = [{ 'api-key': 'k' }, { authorization: 'Bearer entra-token' }];
    for (const auth of auths) {
      const response = await post(deploymentsUrl('/chat/completions'), { messages: user('what colour is the sky?') }, auth);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { model: string; choices: { message: { content: string } }[] };
      assert.equal(body.model, DEPLOYMENT);
      assert.equal(body.choices[0]!.message.content, SKY);
    }
  });

  test('a raw stream: the first frame is the prompt-filter chunk, frames are data: lines, [DONE] ends it', async () => {
    const response = await post(deploymentsUrl('/chat/completions'), { messages: user('what colour is the sky?'), stream: true });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const frames = (await response.text()).split('\n\n').filter((f) => f !== '');
    assert.ok(frames.every((f) => f.startsWith('data: ')));
    const first = JSON.parse(frames[0]!.slice(6)) as { id: string; choices: unknown[]; prompt_filter_results: unknown[] };
    assert.deepEqual([first.id, first.choices, first.prompt_filter_results.length], ['', [], 1]);
    assert.equal(frames.at(-1), 'data: [DONE]');
  });

  test('bad input gets Azure\'s error body with a 4xx status, never a 5xx', async () => {
    const cases: [url: string, body: unknown, status: number][] = [
      [deploymentsUrl('/chat/completions'), { messages: 'hi' }, 400],
      [deploymentsUrl('/chat/completions'), { messages: [] }, 400],
      [deploymentsUrl('/chat/completions'), [1], 400],
      [deploymentsUrl('/embeddings'), { input: '' }, 400],
      [deploymentsUrl('/completions'), { prompt: [{}] }, 400],
      [`${server.url}/openai/v1/chat/completions`, { model: 'gpt-4o' }, 400],
      [`${server.url}/openai/v1/responses`, { model: 'gpt-4o', input: 5 }, 400],
      [`${server.url}/openai/no-such-route?api-version=${API_VERSION}`, {}, 404],
    ];
    for (const [url, body, status] of cases) {
      const response = await post(url, body);
      const json = (await response.json()) as { error: { message: unknown; code?: unknown } };
      assert.equal(response.status, status, `${url} ${JSON.stringify(body)} → ${response.status} ${JSON.stringify(json)}`);
      assert.equal(typeof json.error.message, 'string');
    }
    const malformed = await fetch(deploymentsUrl('/chat/completions'), { method: 'POST', body: '{"messages": [', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal(typeof ((await malformed.json()) as { error: { message: unknown } }).error.message, 'string');
  });
});

describe('server-wide behaviour on the Azure routes', () => {
  test('strict mode refuses what OpenAI refuses but accepts Azure\'s own chat fields (data_sources)', async () => {
    const strict = await startTestServer(`responses:\n  "what colour is the sky?": ${JSON.stringify(SKY)}\nsettings:\n  strict: true\n`);
    try {
      const url = `${strict.url}/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`;
      const withAzureField = await post(url, { messages: user('what colour is the sky?'), data_sources: [{ type: 'azure_search', parameters: {} }] });
      assert.equal(withAzureField.status, 200);
      const unknown = await post(url, { messages: user('what colour is the sky?'), not_a_field: 1 });
      assert.equal(unknown.status, 400);
      assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /not_a_field/);
    } finally {
      await strict.stop();
    }
  });

  test('the default config answers its prompts on both surfaces', async () => {
    const shipped = await readFile(new URL('../../../config/responses.yml', import.meta.url), 'utf8');
    const defaults = await startTestServer(shipped);
    try {
      const client = new AzureOpenAI({ endpoint: defaults.url, apiKey: 'k', apiVersion: API_VERSION, deployment: DEPLOYMENT, maxRetries: 0 });
      assert.equal((await client.chat.completions.create({ model: DEPLOYMENT, messages: user('What colour is the sky?') })).choices[0]!.message.content, SKY);
      const onV1 = new OpenAI({ baseURL: `${defaults.url}/openai/v1`, apiKey: 'k', maxRetries: 0 });
      assert.equal((await onV1.responses.create({ model: 'gpt-4o', input: 'ping' })).output_text, 'pong');
    } finally {
      await defaults.stop();
    }
  });

  test('on_unmatched: error answers in Azure\'s shape through NotFoundError, and the journal records the azure provider', async () => {
    const strict = await startTestServer('responses:\n  hi: "hello"\ndefaults:\n  on_unmatched: error\n');
    try {
      const client = new AzureOpenAI({ endpoint: strict.url, apiKey: 'k', apiVersion: API_VERSION, deployment: DEPLOYMENT, maxRetries: 0 });
      await assert.rejects(client.chat.completions.create({ model: DEPLOYMENT, messages: user('nothing matches this') }), (e: unknown) => e instanceof OpenAI.NotFoundError && e.status === 404);
      const { requests } = (await (await fetch(`${strict.url}/admin/requests`)).json()) as { requests: { provider: string; endpoint: string }[] };
      assert.ok(requests.some((r) => r.provider === 'azure' && r.endpoint === '/openai/deployments/{deployment}/chat/completions'), JSON.stringify(requests).slice(0, 500));
    } finally {
      await strict.stop();
    }
  });
});
