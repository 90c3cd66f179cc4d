// Client conversations through the official SDKs, each reduced to what a test can compare between
// the recording run (through the proxy, the upstream answering) and the replay run (the recorded
// file alone): text, tool calls with the ids the client sends back, finish reasons and usage.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ANTHROPIC_KEY, OPENAI_KEY } from './support.ts';

const GPT = 'gpt-4o-mini';
const CLAUDE = 'claude-sonnet-5-5';

const WEATHER_CHAT_TOOL = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
const WEATHER_RESPONSES_TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather by city',
  strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const WEATHER_ANTHROPIC_TOOL = { name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };
const WEATHER_RESULT = '{"temp_c":21,"sky":"clear"}';

export const openAiClient = (baseUrl: string) => new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: OPENAI_KEY, maxRetries: 0, timeout: 30_000 });
export const anthropicClient = (baseUrl: string) => new Anthropic({ baseURL: baseUrl, apiKey: ANTHROPIC_KEY, maxRetries: 0, timeout: 30_000 });

export interface Observed {
  [flow: string]: unknown;
}

/** OpenAI Chat Completions: plain text, a stream with usage, a two-step tool loop (non-stream, then streamed). */
export async function chatFlows(baseUrl: string): Promise<Observed> {
  const client = openAiClient(baseUrl);
  const hello = await client.chat.completions.create({ model: GPT, messages: [{ role: 'user', content: 'say hello' }] });
  const story: { text: string; finish: string | null; usage: unknown } = { text: '', finish: null, usage: null };
  const stream = await client.chat.completions.create({ model: GPT, messages: [{ role: 'user', content: 'tell a story' }], stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) {
    story.text += chunk.choices[0]?.delta.content ?? '';
    story.finish = chunk.choices[0]?.finish_reason ?? story.finish;
    if (chunk.usage) story.usage = { prompt: chunk.usage.prompt_tokens, completion: chunk.usage.completion_tokens };
  }

  const ask: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'weather in Paris?' };
  const step1 = await client.chat.completions.create({ model: GPT, messages: [ask], tools: [WEATHER_CHAT_TOOL] });
  const call = step1.choices[0]!.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  const step2Stream = await client.chat.completions.create({
    model: GPT,
    messages: [ask, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: WEATHER_RESULT }],
    tools: [WEATHER_CHAT_TOOL],
    stream: true,
  });
  let step2Text = '';
  let step2Finish: string | null = null;
  for await (const chunk of step2Stream) {
    step2Text += chunk.choices[0]?.delta.content ?? '';
    step2Finish = chunk.choices[0]?.finish_reason ?? step2Finish;
  }
  return {
    hello: { text: hello.choices[0]!.message.content, finish: hello.choices[0]!.finish_reason, usage: [hello.usage!.prompt_tokens, hello.usage!.completion_tokens] },
    story,
    loop: {
      step1: { id: call.id, name: call.function.name, arguments: JSON.parse(call.function.arguments) as unknown, finish: step1.choices[0]!.finish_reason, usage: [step1.usage!.prompt_tokens, step1.usage!.completion_tokens] },
      step2: { text: step2Text, finish: step2Finish },
    },
  };
}

/** OpenAI Responses: plain text, a stream, a two-step function-call loop with the items sent back. */
export async function responsesFlows(baseUrl: string): Promise<Observed> {
  const client = openAiClient(baseUrl);
  const hello = await client.responses.create({ model: GPT, input: 'say hello', store: false });
  const stream = await client.responses.create({ model: GPT, input: 'tell a story', stream: true, store: false });
  let storyText = '';
  let completed: OpenAI.Responses.Response | undefined;
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') storyText += event.delta;
    if (event.type === 'response.completed') completed = event.response;
  }
  const step1 = await client.responses.create({ model: GPT, input: 'weather in Paris?', tools: [WEATHER_RESPONSES_TOOL], store: false });
  const call = step1.output.find((item) => item.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
  const step2 = await client.responses.create({
    model: GPT,
    tools: [WEATHER_RESPONSES_TOOL],
    store: false,
    input: [
      { role: 'user', content: 'weather in Paris?' },
      { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: 'function_call_output', call_id: call.call_id, output: WEATHER_RESULT },
    ],
  });
  // The same loop continued by previous_response_id (the response stored where it was made: the
  // upstream while recording, the mock while replaying); another model, so it is another rule.
  const chained1 = await client.responses.create({ model: 'gpt-4.1-mini', input: 'weather in Paris?', tools: [WEATHER_RESPONSES_TOOL] });
  const chainedCall = chained1.output.find((item) => item.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
  const chained2 = await client.responses.create({
    model: 'gpt-4.1-mini',
    tools: [WEATHER_RESPONSES_TOOL],
    previous_response_id: chained1.id,
    input: [{ type: 'function_call_output', call_id: chainedCall.call_id, output: WEATHER_RESULT }],
  });
  return {
    hello: { text: hello.output_text, status: hello.status, usage: [hello.usage!.input_tokens, hello.usage!.output_tokens] },
    chained: { callId: chainedCall.call_id, text: chained2.output_text, continues: chained2.previous_response_id === chained1.id },
    story: { text: storyText, status: completed?.status, usage: [completed?.usage?.input_tokens, completed?.usage?.output_tokens] },
    loop: {
      step1: { callId: call.call_id, name: call.name, arguments: JSON.parse(call.arguments) as unknown, status: step1.status, usage: [step1.usage!.input_tokens, step1.usage!.output_tokens] },
      step2: { text: step2.output_text, status: step2.status },
    },
  };
}

/** Anthropic Messages: plain text, a stream, a two-step tool_use loop (streamed, then not). */
export async function anthropicFlows(baseUrl: string): Promise<Observed> {
  const client = anthropicClient(baseUrl);
  const hello = await client.messages.create({ model: CLAUDE, max_tokens: 256, messages: [{ role: 'user', content: 'say hello' }] });
  const story = await client.messages.stream({ model: CLAUDE, max_tokens: 256, messages: [{ role: 'user', content: 'tell a story' }] }).finalMessage();

  const ask: Anthropic.MessageParam = { role: 'user', content: 'weather in Paris?' };
  const step1 = await client.messages.stream({ model: CLAUDE, max_tokens: 256, messages: [ask], tools: [WEATHER_ANTHROPIC_TOOL] }).finalMessage();
  const use = step1.content.find((block) => block.type === 'tool_use') as Anthropic.ToolUseBlock;
  const step2 = await client.messages.create({
    model: CLAUDE,
    max_tokens: 256,
    tools: [WEATHER_ANTHROPIC_TOOL],
    messages: [ask, { role: 'assistant', content: step1.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: WEATHER_RESULT }] }],
  });
  const textOf = (message: Anthropic.Message) => message.content.filter((b) => b.type === 'text').map((b) => (b as Anthropic.TextBlock).text).join('');
  return {
    hello: { text: textOf(hello), stop: hello.stop_reason, usage: [hello.usage.input_tokens, hello.usage.output_tokens] },
    story: { text: textOf(story), stop: story.stop_reason, usage: [story.usage.input_tokens, story.usage.output_tokens] },
    loop: {
      step1: { id: use.id, name: use.name, input: use.input, stop: step1.stop_reason, usage: [step1.usage.input_tokens, step1.usage.output_tokens] },
      step2: { text: textOf(step2), stop: step2.stop_reason },
    },
  };
}

/** The same question three times (OpenAI chat). */
export async function askThreeTimes(baseUrl: string): Promise<string[]> {
  const client = openAiClient(baseUrl);
  const answers: string[] = [];
  for (let i = 0; i < 3; i++) {
    const completion = await client.chat.completions.create({ model: GPT, messages: [{ role: 'user', content: 'roll a die' }] });
    answers.push(completion.choices[0]!.message.content!);
  }
  return answers;
}

/** The upstream's error, as each SDK reports it. */
export async function errorFlows(baseUrl: string): Promise<Observed> {
  const openai = await openAiClient(baseUrl)
    .chat.completions.create({ model: GPT, messages: [{ role: 'user', content: 'fail please' }] })
    .then(() => undefined, (error: unknown) => error);
  const anthropic = await anthropicClient(baseUrl)
    .messages.create({ model: CLAUDE, max_tokens: 64, messages: [{ role: 'user', content: 'fail please' }] })
    .then(() => undefined, (error: unknown) => error);
  const describe = (error: unknown) => {
    if (!(error instanceof OpenAI.APIError) && !(error instanceof Anthropic.APIError)) return { notAnApiError: String(error) };
    const body = error.error as { error?: { type?: string; message?: string }; message?: string } | undefined;
    return { status: error.status, message: body?.error?.message ?? body?.message, retryAfter: error.headers?.get('retry-after') ?? null, type: body?.error?.type ?? (error as { type?: string }).type };
  };
  return { openai: describe(openai), anthropic: describe(anthropic) };
}
