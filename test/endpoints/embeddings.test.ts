// POST /v1/embeddings through the official openai SDK (its default base64 path and float), the
// Vercel AI SDK (`embed`, `embedMany`), LangChain's OpenAIEmbeddings and plain fetch. Every vector is
// compared exactly with one computed here, independently, from the algorithm docs/endpoints.md
// documents, or with the config's fixed vectors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import OpenAI from 'openai';
import { embed, embedMany } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { OpenAIEmbeddings } from '@langchain/openai';
import { countTokens, encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { eventually, post, startTestServer, type TestServer } from '../helpers/server.ts';

const SMALL = 'text-embedding-3-small';
const LARGE = 'text-embedding-3-large';
const ADA = 'text-embedding-ada-002';
const FIXED_TEXT = 'the fixed sentence';
const FIXED = [0.1, -0.25, 0.5, 0.125];
const FIXED_AFTER_RELOAD = [1, 0, 0];

const config = (vectors: Record<string, number[]>, extra = '') => `
responses:
  hi: "a chat answer that must never reach the embeddings endpoint"
rules:
  - id: embed-limit
    match: {contains: "rate limit me", endpoint: /v1/embeddings}
    response: {error: {status: 429, message: "Too many embedding requests", retry_after: 0}}
  - id: chat-error
    match: {contains: "chat only failure"}
    response: {error: {status: 500, message: "chat rules do not apply to embeddings"}}
embeddings:
  vectors: ${JSON.stringify(vectors)}
${extra}`;

type Json = Record<string, any>;
let server: TestServer;
let client: OpenAI;
const sent: Json[] = [];

before(async () => {
  server = await startTestServer(config({ [FIXED_TEXT]: FIXED }, '  default_dimensions: 64\n'));
  const recording: typeof fetch = (input, init) => {
    if (typeof init?.body === 'string') sent.push(JSON.parse(init.body) as Json);
    return fetch(input, init);
  };
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0, fetch: recording });
});

after(async () => {
  await server?.stop();
});

/**
 * The documented algorithm, written out again: sha256(model ‖ 0x00 ‖ text), its first 16 bytes as
 * four little-endian uint32 a, b, c, d seeding sfc32; component i = 2·(draw / 2³²) − 1; divided by
 * the Euclidean norm (the square root of the sum of squares, summed in order in double precision);
 * each component rounded to float32. Here sfc32 keeps its state in a Uint32Array, which wraps.
 */
function expected(model: string, text: string, dimensions: number): number[] {
  const digest = createHash('sha256').update(Buffer.concat([Buffer.from(model), Buffer.from([0]), Buffer.from(text)])).digest();
  const s = new Uint32Array([digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)]);
  const draw = () => {
    const [a, b, c, d] = [s[0]!, s[1]!, s[2]!, s[3]!];
    const t = (a + b + d) % 2 ** 32;
    s[0] = b ^ (b >>> 9);
    s[1] = c * 9;
    s[2] = ((c << 21) | (c >>> 11)) + t;
    s[3] = d + 1;
    return t / 2 ** 32;
  };
  const raw = Array.from({ length: dimensions }, () => draw() * 2 - 1);
  const length = Math.sqrt(raw.reduce((sum, x) => sum + x * x, 0));
  return raw.map((x) => Math.fround(x / length));
}

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));

describe('openai SDK embeddings.create', () => {
  test('without encoding_format the SDK asks for base64 and decodes it to exactly the documented vector', async () => {
    sent.length = 0;
    const result = await client.embeddings.create({ model: SMALL, input: 'hello world' });
    assert.equal(sent[0]!.encoding_format, 'base64', 'the SDK no longer asks for base64: this test no longer covers that path');
    assert.equal(result.object, 'list');
    assert.equal(result.model, SMALL);
    assert.equal(result.data.length, 1);
    assert.equal(result.data[0]!.object, 'embedding');
    assert.equal(result.data[0]!.index, 0);
    const vector = Array.from(result.data[0]!.embedding);
    assert.equal(vector.length, 1536);
    assert.deepEqual(vector, expected(SMALL, 'hello world', 1536));
    assert.ok(Math.abs(norm(vector) - 1) < 1e-5);
    assert.deepEqual(result.usage, { prompt_tokens: countTokens('hello world'), total_tokens: countTokens('hello world') });
  });

  test('encoding_format float gives the very same numbers as JSON', async () => {
    const result = await client.embeddings.create({ model: SMALL, input: 'hello world', encoding_format: 'float' });
    assert.deepEqual(result.data[0]!.embedding, expected(SMALL, 'hello world', 1536));
  });

  test('base64 on the wire is little-endian float32', async () => {
    const response = await post(`${server.url}/v1/embeddings`, { model: SMALL, input: 'bytes', encoding_format: 'base64', dimensions: 3 });
    const body = (await response.json()) as Json;
    const bytes = Buffer.from(body.data[0].embedding as string, 'base64');
    assert.equal(bytes.length, 12);
    const values = [0, 4, 8].map((offset) => bytes.readFloatLE(offset));
    assert.deepEqual(values, expected(SMALL, 'bytes', 3));
  });

  test('default sizes per model: 1536 for 3-small and ada-002, 3072 for 3-large, default_dimensions for others', async () => {
    for (const [model, size] of [[SMALL, 1536], [ADA, 1536], [LARGE, 3072], ['my-own-embedder', 64]] as const) {
      const result = await client.embeddings.create({ model, input: 'size check', encoding_format: 'float' });
      assert.equal(result.data[0]!.embedding.length, size, model);
      assert.deepEqual(result.data[0]!.embedding, expected(model, 'size check', size));
    }
  });

  test('dimensions shortens a vector to a renormalised prefix of the full one', async () => {
    const short = (await client.embeddings.create({ model: LARGE, input: 'matryoshka', dimensions: 256, encoding_format: 'float' })).data[0]!.embedding;
    assert.equal(short.length, 256);
    assert.deepEqual(short, expected(LARGE, 'matryoshka', 256));
    const full = expected(LARGE, 'matryoshka', 3072).slice(0, 256);
    const scale = norm(full);
    short.forEach((x, i) => assert.ok(Math.abs(x - full[i]! / scale) < 1e-6));
  });

  test('deterministic: the same text gives the same vector every time; other texts and models differ', async () => {
    const again = async (model: string, input: string) => (await client.embeddings.create({ model, input, encoding_format: 'float' })).data[0]!.embedding;
    const first = await again(SMALL, 'same text');
    assert.deepEqual(await again(SMALL, 'same text'), first);
    assert.notDeepEqual(await again(SMALL, 'same text.'), first);
    assert.notDeepEqual((await again(ADA, 'same text')).slice(0, 10), first.slice(0, 10));
  });

  test('every input shape: strings, one token array, token arrays; tokens embed like their text', async () => {
    const texts = ['first document', 'second document', 'third'];
    const many = await client.embeddings.create({ model: SMALL, input: texts, encoding_format: 'float' });
    assert.deepEqual(many.data.map((d) => d.index), [0, 1, 2]);
    many.data.forEach((d, i) => assert.deepEqual(d.embedding, expected(SMALL, texts[i]!, 1536)));
    const tokenCount = texts.reduce((sum, t) => sum + countTokens(t), 0);
    assert.deepEqual(many.usage, { prompt_tokens: tokenCount, total_tokens: tokenCount });

    const one = await client.embeddings.create({ model: SMALL, input: encode('first document'), encoding_format: 'float' });
    assert.deepEqual(one.data[0]!.embedding, expected(SMALL, 'first document', 1536));
    assert.equal(one.usage.prompt_tokens, encode('first document').length);

    const arrays = await client.embeddings.create({ model: SMALL, input: texts.map((t) => encode(t)), encoding_format: 'float' });
    arrays.data.forEach((d, i) => assert.deepEqual(d.embedding, expected(SMALL, texts[i]!, 1536)));
  });

  test('a fixed vector from the config comes back as written (float) and as float32 (base64)', async () => {
    const float = await client.embeddings.create({ model: SMALL, input: [FIXED_TEXT, 'generated'], encoding_format: 'float' });
    assert.deepEqual(float.data[0]!.embedding, FIXED);
    assert.equal(float.data[1]!.embedding.length, 1536);
    const decoded = await client.embeddings.create({ model: LARGE, input: FIXED_TEXT });
    assert.deepEqual(Array.from(decoded.data[0]!.embedding), FIXED.map(Math.fround));
    assert.equal((await client.embeddings.create({ model: SMALL, input: FIXED_TEXT, dimensions: 4 })).data[0]!.embedding.length, 4);
  });

  test('a fixed vector asked for at another size is a clear 400', async () => {
    await assert.rejects(client.embeddings.create({ model: SMALL, input: ['x', FIXED_TEXT], dimensions: 8 }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.param, 'dimensions');
      assert.equal(
        error.message,
        `400 Invalid 'dimensions': the mock config's embeddings.vectors fixes the vector for input [1] "${FIXED_TEXT}" at 4 dimensions, but the request asks for 8.`,
      );
      return true;
    });
  });

  test('validation errors are OpenAI-shaped 400s', async () => {
    const tooMany = Array.from({ length: 2049 }, (_, i) => `t${i}`);
    const cases: [Json, string, string | null, string | null][] = [
      [{ input: 'x' }, 'you must provide a model parameter', null, null],
      [{ model: SMALL }, "Missing required parameter: 'input'.", 'input', 'missing_required_parameter'],
      [{ model: SMALL, input: '' }, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", null, null],
      [{ model: SMALL, input: ['ok', ''] }, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", null, null],
      [{ model: SMALL, input: ['ok', 5] }, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", null, null],
      [{ model: SMALL, input: [] }, "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'input', 'empty_array'],
      [{ model: SMALL, input: tooMany }, "Invalid 'input': array too long. Expected an array with maximum length 2048, but got an array with length 2049 instead.", 'input', 'array_above_max_length'],
      [{ model: SMALL, input: 'x', dimensions: 0 }, "Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got 0 instead.", 'dimensions', 'integer_below_min_value'],
      [{ model: SMALL, input: 'x', dimensions: 1537 }, "Invalid 'dimensions': integer above maximum value. Expected a value <= 1536, but got 1537 instead.", 'dimensions', 'integer_above_max_value'],
      [{ model: 'anything-else', input: 'x', dimensions: 3073 }, "Invalid 'dimensions': integer above maximum value. Expected a value <= 3072, but got 3073 instead.", 'dimensions', 'integer_above_max_value'],
      [{ model: SMALL, input: 'x', dimensions: 'big' }, "Invalid type for 'dimensions': expected an integer, but got a string instead.", 'dimensions', 'invalid_type'],
      [{ model: ADA, input: 'x', dimensions: 512 }, 'This model does not support specifying dimensions.', null, null],
      [{ model: SMALL, input: 'x', encoding_format: 'hex' }, "Invalid value: 'hex'. Supported values are: 'float' and 'base64'.", 'encoding_format', 'invalid_value'],
      [{ model: SMALL, input: 'x', encoding_format: { toString: 1 } }, "Invalid type for 'encoding_format': expected a string, but got an object instead.", 'encoding_format', 'invalid_type'],
      [{ model: SMALL, input: [100_300] }, 'Invalid token in input: 100300. Minimum value is 0, maximum value is 100276 (inclusive).', null, null],
    ];
    for (const [body, message, param, code] of cases) {
      const response = await post(`${server.url}/v1/embeddings`, body);
      assert.equal(response.status, 400, JSON.stringify(body).slice(0, 80));
      assert.deepEqual(((await response.json()) as Json).error, { message, type: 'invalid_request_error', param, code });
    }
  });

  test('an input over 8192 tokens is refused with the context length message', async () => {
    const long = 'word '.repeat(9000);
    const response = await post(`${server.url}/v1/embeddings`, { model: SMALL, input: long });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as Json;
    assert.equal(error.code, 'context_length_exceeded');
    assert.match(error.message, new RegExp(`^This model's maximum context length is 8192 tokens, however you requested ${countTokens(long)} tokens`));
  });

  test('rules naming /v1/embeddings apply (errors), chat rules never do', async () => {
    await assert.rejects(client.embeddings.create({ model: SMALL, input: ['fine', 'please rate limit me'] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.message, '429 Too many embedding requests');
      return true;
    });
    const ok = await client.embeddings.create({ model: SMALL, input: ['a chat only failure', 'hi'], encoding_format: 'float' });
    assert.deepEqual(ok.data[1]!.embedding, expected(SMALL, 'hi', 1536));
  });
});

describe('other clients', () => {
  test('AI SDK embed and embedMany with openai.embedding() get the documented vectors and token usage', async () => {
    const model = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ai' }).embedding(SMALL);
    const one = await embed({ model, value: 'sunny day at the beach', maxRetries: 0 });
    assert.deepEqual(one.embedding, expected(SMALL, 'sunny day at the beach', 1536));
    assert.equal(one.usage.tokens, countTokens('sunny day at the beach'));
    const values = ['rainy day in the mountains', 'snowy night in the city', FIXED_TEXT];
    const many = await embedMany({ model, values, maxRetries: 0 });
    assert.deepEqual(many.embeddings[0], expected(SMALL, values[0]!, 1536));
    assert.deepEqual(many.embeddings[1], expected(SMALL, values[1]!, 1536));
    assert.deepEqual(many.embeddings[2], FIXED);
    const dims = await embed({ model, value: 'short one', maxRetries: 0, providerOptions: { openai: { dimensions: 32 } } });
    assert.deepEqual(dims.embedding, expected(SMALL, 'short one', 32));
  });

  test('LangChain OpenAIEmbeddings embedQuery and embedDocuments (base64 through the SDK) get the documented vectors', async () => {
    const embeddings = new OpenAIEmbeddings({ model: LARGE, apiKey: 'sk-langchain', maxRetries: 0, configuration: { baseURL: `${server.url}/v1` } });
    assert.deepEqual(await embeddings.embedQuery('what is the capital of France?'), expected(LARGE, 'what is the capital of France?', 3072));
    const docs = await embeddings.embedDocuments(['Paris is the capital of France.', 'Berlin is the capital of Germany.']);
    assert.deepEqual(docs, [expected(LARGE, 'Paris is the capital of France.', 3072), expected(LARGE, 'Berlin is the capital of Germany.', 3072)]);
  });
});

describe('config reload', () => {
  test('a reloaded embeddings section takes effect without a restart', async () => {
    const local = await startTestServer(config({ [FIXED_TEXT]: FIXED }));
    try {
      await writeFile(local.configPath, config({ [FIXED_TEXT]: FIXED_AFTER_RELOAD }));
      await eventually(
        async () => {
          const body = (await (await post(`${local.url}/v1/embeddings`, { model: SMALL, input: FIXED_TEXT, encoding_format: 'float' })).json()) as Json;
          return JSON.stringify(body.data[0].embedding) === JSON.stringify(FIXED_AFTER_RELOAD);
        },
        { what: 'the reloaded vector' },
      );
    } finally {
      await local.stop();
    }
  });
});
