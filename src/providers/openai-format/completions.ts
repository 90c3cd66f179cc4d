// The legacy text completions endpoint (API-FORMATS §2; OpenAI's POST /v1/completions, Azure's
// deployments and v1 paths), as an AnswerAdapter: each prompt is matched like a user message and
// answered by its own rule; `n` choices per prompt.
import { schemaValidator } from '../../http/schema-validator.ts';
import type { Conversation } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { alnum } from '../../http/ids.ts';
import { ApiError, invalidRequest } from '../../http/errors.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import type { AnswerAdapter, MoreReply, Parsed, RequestInfo } from '../provider.ts';
import { countCl100k, decodeCl100k, loadCl100k } from './cl100k.ts';
import { openAiStreamError } from './errors.ts';
import { describeValue, openAiValidationError } from './validation.ts';
import { openAiFinishReason } from './finish.ts';

export interface CompletionsBody {
  model: string;
  prompt: unknown;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  n?: number | null;
  echo?: boolean | null;
}

interface Prompt {
  text: string;
  /** Its length in tokens when it was sent as a token array. */
  tokens: number | undefined;
}

export interface CompletionsRequest {
  body: CompletionsBody;
  prompts: Prompt[];
}

// Every parameter of CompletionCreateParams; strict mode rejects anything else.
const KNOWN_FIELDS = [
  'model', 'prompt', 'best_of', 'echo', 'frequency_penalty', 'logit_bias', 'logprobs', 'max_tokens', 'n',
  'presence_penalty', 'seed', 'stop', 'stream', 'stream_options', 'suffix', 'temperature', 'top_p', 'user',
];

function completionsSchema(strict: boolean) {
  return {
    type: 'object',
    required: ['model', 'prompt'],
    additionalProperties: !strict,
    properties: {
      ...Object.fromEntries(KNOWN_FIELDS.map((f) => [f, {}])),
      model: { type: 'string' },
      prompt: { type: ['string', 'array'], minItems: 1 },
      stream: { type: ['boolean', 'null'] },
      stream_options: { type: ['object', 'null'], properties: { include_usage: { type: ['boolean', 'null'] } } },
      n: { type: ['integer', 'null'], minimum: 1, maximum: 128 },
      best_of: { type: ['integer', 'null'], minimum: 0, maximum: 20 },
      echo: { type: ['boolean', 'null'] },
      logprobs: { type: ['integer', 'null'], minimum: 0, maximum: 5 },
      max_tokens: { type: ['integer', 'null'], minimum: 0 },
      temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
      top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
      stop: { type: ['string', 'array', 'null'], maxItems: 4, items: { type: 'string' } },
      suffix: { type: ['string', 'null'] },
    },
  };
}

// Compiled on first use, or precompiled in dist/ (src/http/schema-validator.ts).
const OPTIONS = { allErrors: false, strict: true, allowUnionTypes: true };
const validateLenient = schemaValidator<CompletionsBody>('openai-completions-lenient', OPTIONS, completionsSchema(false));
const validateStrict = schemaValidator<CompletionsBody>('openai-completions-strict', OPTIONS, completionsSchema(true));

// Models the real endpoint refuses (strict mode only): everything but the instruct and base models.
const CHAT_MODEL = /^(gpt-4|gpt-5|o\d|chatgpt-|gpt-3\.5-turbo(?!-instruct)|gpt-oss)/;

const isTokenArray = (value: unknown): value is number[] => Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number');

/** `prompt` as a string, strings, one token array or token arrays (decoded with cl100k_base to be matched). */
function promptsOf(prompt: unknown): Prompt[] {
  if (typeof prompt === 'string') return [{ text: prompt, tokens: undefined }];
  const list = prompt as unknown[];
  if (list.every((p) => typeof p === 'string')) return list.map((text) => ({ text: text as string, tokens: undefined }));
  if (isTokenArray(list)) return [{ text: decodeCl100k(list, 'prompt'), tokens: list.length }];
  if (list.every(isTokenArray)) return list.map((tokens) => ({ text: decodeCl100k(tokens, 'prompt'), tokens: tokens.length }));
  const bad = list.findIndex((p) => typeof p !== 'string' && !isTokenArray(p));
  const at = bad >= 0 ? `prompt[${bad}]` : 'prompt';
  const value = bad >= 0 ? list[bad] : list;
  if (Array.isArray(value) && value.length === 0) {
    throw invalidRequest(`Invalid '${at}': empty array. Expected an array with minimum length 1, but got an empty array instead.`, at, 'empty_array');
  }
  throw invalidRequest(
    `Invalid type for '${at}': expected one of a string, an array of strings, an array of integers, or an array of arrays of integers, but got ${describeValue(value)} instead.`,
    at,
    'invalid_type',
  );
}

export function parseCompletionsRequest(body: unknown, info: RequestInfo, endpoint: string, provider: string): Parsed<CompletionsRequest> {
  const validate = info.strict ? validateStrict : validateLenient;
  if (!validate(body)) throw openAiValidationError(validate.errors![0]!, body);
  if (info.strict) {
    if (body.stream_options != null && body.stream !== true) {
      throw invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
    }
    if (CHAT_MODEL.test(body.model)) {
      throw new ApiError({
        status: 404,
        kind: 'not_found',
        message: 'This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?',
        param: 'model',
      });
    }
  }
  const prompts = promptsOf(body.prompt);
  const conversations = prompts.map(
    (prompt): Conversation => ({
      provider,
      endpoint,
      model: body.model,
      system: '',
      messages: [{ role: 'user', text: prompt.text }],
      prompt: prompt.text,
      tools: [],
      toolResult: undefined,
      stream: body.stream === true,
      header: info.header,
    }),
  );
  return { request: { body, prompts }, conversation: conversations[0]!, more: conversations.slice(1) };
}

/** A legacy completion has no tool calls: a tool_calls answer gives its text (if any) and stops. */
function finishOf(reply: Reply): string {
  const finish = openAiFinishReason(reply.delivery.finish);
  return finish === 'tool_calls' ? 'stop' : finish;
}

interface Answered {
  prompt: Prompt;
  reply: Reply;
}

function answered(reply: Reply, request: CompletionsRequest, more: readonly MoreReply[]): Answered[] {
  return [reply, ...more.map((m) => m.reply)].map((r, i) => ({ prompt: request.prompts[i]!, reply: r }));
}

/** Counted with cl100k_base, the tokenizer of gpt-3.5-turbo-instruct, unless a rule fixes the figures. */
function usageOf(answers: readonly Answered[], n: number) {
  let prompt = 0;
  let completion = 0;
  for (const { prompt: p, reply } of answers) {
    prompt += reply.delivery.usage?.input ?? p.tokens ?? countCl100k(p.text);
    completion += (reply.delivery.usage?.output ?? countCl100k(reply.text?.text ?? '')) * n;
  }
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function renderCompletion(reply: Reply, conversation: Conversation, request: CompletionsRequest, more: readonly MoreReply[]): unknown {
  const n = request.body.n ?? 1;
  const echo = request.body.echo === true;
  const answers = answered(reply, request, more);
  const choices = [];
  for (const [p, { prompt, reply: r }] of answers.entries()) {
    for (let j = 0; j < n; j++) {
      choices.push({ text: (echo ? prompt.text : '') + (r.text?.text ?? ''), index: p * n + j, logprobs: null, finish_reason: finishOf(r) });
    }
  }
  return {
    id: `cmpl-${alnum(29)}`,
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: conversation.model,
    system_fingerprint: null,
    choices,
    usage: usageOf(answers, n),
  };
}

/**
 * Per choice (prompt by prompt, `n` each): the echoed prompt when asked, the text pieces, then a
 * chunk with empty text and the finish_reason; the usage chunk when include_usage asks; `[DONE]`.
 */
export function* renderCompletionStream(reply: Reply, conversation: Conversation, request: CompletionsRequest, more: readonly MoreReply[]): Generator<StreamItem> {
  const n = request.body.n ?? 1;
  const includeUsage = request.body.stream_options?.include_usage === true;
  const answers = answered(reply, request, more);
  const created = Math.floor(Date.now() / 1000);
  const head =
    `data: {"id":"cmpl-${alnum(29)}","object":"text_completion","created":${created},"model":${JSON.stringify(conversation.model)},` +
    `"system_fingerprint":null,"choices":[`;
  const tail = includeUsage ? '],"usage":null}\n\n' : ']}\n\n';
  for (const [p, { prompt, reply: r }] of answers.entries()) {
    for (let j = 0; j < n; j++) {
      const close = `,"index":${p * n + j},"logprobs":null,"finish_reason":null}${tail}`;
      if (request.body.echo === true) yield `${head}{"text":${JSON.stringify(prompt.text)}${close}`;
      for (const chunk of r.textChunksJson) {
        yield CONTENT_CHUNK;
        yield `${head}{"text":${chunk}${close}`;
      }
      yield `${head}{"text":"","index":${p * n + j},"logprobs":null,"finish_reason":"${finishOf(r)}"}${tail}`;
    }
  }
  if (includeUsage) yield `${head}],"usage":${JSON.stringify(usageOf(answers, n))}}\n\n`;
  yield 'data: [DONE]\n\n';
}

/** The endpoint's codec, for the provider that serves it at `endpoint` (a route template). */
export function completionsAdapter(endpoint: string, provider: string): AnswerAdapter<CompletionsRequest> {
  return {
    // cl100k_base is loaded first: parsing decodes token prompts and rendering counts with it.
    parse: async (request) => {
      await loadCl100k();
      return parseCompletionsRequest(request.body, request, endpoint, provider);
    },
    renderJson: renderCompletion,
    renderStream: renderCompletionStream,
    renderStreamError: openAiStreamError,
    streams: (request) => request.body.stream === true,
  };
}
