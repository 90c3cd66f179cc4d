// GET /v1/models and /v1/models/{id}: OpenAI's shape for OpenAI clients, Anthropic's (with cursor
// paging) for requests that carry anthropic-version, through both official SDKs and plain fetch;
// the built-in list, a configured `models:` list, reloads, 404s, and the unknown-path 404s around it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { eventually, startTestServer, type TestServer } from '../helpers/server.ts';

const OPENAI_DEFAULTS = [
  'gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini', 'o3', 'o3-mini', 'o4-mini',
  'gpt-4-turbo', 'gpt-3.5-turbo', 'gpt-3.5-turbo-instruct', 'davinci-002', 'babbage-002', 'text-embedding-3-small',
  'text-embedding-3-large', 'text-embedding-ada-002',
];
// Newest first, as Anthropic lists them.
const ANTHROPIC_DEFAULTS = [
  'claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-opus-4-5', 'claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1',
  'claude-opus-4-0', 'claude-sonnet-4-0', 'claude-3-7-sonnet-latest', 'claude-3-5-haiku-latest',
];

const CONFIGURED = `
responses:
  hi: hello
models:
  - my-finetune
  - {id: gpt-4o, created: 1715367049, owned_by: openai}
  - {id: claude-sonnet-4-5-20250929, created: "2025-09-29T00:00:00Z", max_tokens: 64000}
  - {id: claude-custom, display_name: "Our Claude", created: 1767225600}
  - {id: proxy-model, provider: anthropic}
`;

type Json = Record<string, any>;
let server: TestServer;
let configured: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  server = await startTestServer('responses:\n  hi: hello\n');
  configured = await startTestServer(CONFIGURED);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});

after(async () => {
  await Promise.all([server?.stop(), configured?.stop()]);
});

describe('OpenAI shape (no anthropic-version)', () => {
  test('models.list: the built-in OpenAI models as {id, object: model, created, owned_by}, no Claude', async () => {
    const page = await openai.models.list();
    assert.deepEqual(page.data.map((m) => m.id), OPENAI_DEFAULTS);
    for (const model of page.data) {
      assert.deepEqual(Object.keys(model).sort(), ['created', 'id', 'object', 'owned_by']);
      assert.equal(model.object, 'model');
      assert.ok(Number.isInteger(model.created) && model.created > 1_600_000_000);
    }
    assert.equal(page.hasNextPage(), false);
    const raw = (await (await fetch(`${server.url}/v1/models`)).json()) as Json;
    assert.equal(raw.object, 'list');
  });

  test('models.retrieve returns one model; an unknown id is a NotFoundError with code model_not_found', async () => {
    assert.deepEqual(await openai.models.retrieve('gpt-4o-mini'), { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' });
    for (const id of ['gpt-9-ultra', 'claude-sonnet-4-5']) {
      await assert.rejects(openai.models.retrieve(id), (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError);
        assert.equal(error.code, 'model_not_found');
        assert.equal(error.param, 'model');
        assert.equal(error.type, 'invalid_request_error');
        assert.equal(error.message, `404 The model '${id}' does not exist`);
        return true;
      });
    }
  });

  test('the answer carries OpenAI headers; ids with colons (fine-tunes) arrive decoded', async () => {
    const response = await fetch(`${server.url}/v1/models/gpt-4o`, { headers: { authorization: 'Bearer sk-x' } });
    assert.equal(response.headers.get('openai-version'), '2020-10-01');
    assert.match(response.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/);
    assert.match(response.headers.get('openai-processing-ms') ?? '', /^\d+$/);
    const local = new OpenAI({ baseURL: `${configured.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    await assert.rejects(local.models.retrieve('ft:gpt-4o-mini:org::abc'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.equal(error.message, "404 The model 'ft:gpt-4o-mini:org::abc' does not exist");
      return true;
    });
  });
});

describe('Anthropic shape (anthropic-version present)', () => {
  test('models.list pages with limit and after_id; auto-paging walks every Claude model newest first', async () => {
    const first = await anthropic.models.list({ limit: 3 });
    assert.deepEqual(first.data.map((m) => m.id), ANTHROPIC_DEFAULTS.slice(0, 3));
    assert.equal(first.has_more, true);
    assert.equal(first.first_id, ANTHROPIC_DEFAULTS[0]);
    assert.equal(first.last_id, ANTHROPIC_DEFAULTS[2]);
    const all: string[] = [];
    for await (const model of anthropic.models.list({ limit: 4 })) all.push(model.id);
    assert.deepEqual(all, ANTHROPIC_DEFAULTS);
    const whole = await anthropic.models.list();
    assert.equal(whole.has_more, false);
    assert.deepEqual(whole.data.map((m) => m.id), ANTHROPIC_DEFAULTS);
    for (const model of whole.data) {
      assert.equal(model.type, 'model');
      assert.match(model.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.ok(model.display_name.startsWith('Claude '));
    }
  });

  test('before_id pages backwards; limit is validated like the real API', async () => {
    const before = (await (
      await fetch(`${server.url}/v1/models?before_id=${ANTHROPIC_DEFAULTS[5]}&limit=2`, { headers: { 'anthropic-version': '2023-06-01' } })
    ).json()) as Json;
    assert.deepEqual(before.data.map((m: Json) => m.id), ANTHROPIC_DEFAULTS.slice(3, 5));
    assert.equal(before.has_more, true);
    const start = (await (
      await fetch(`${server.url}/v1/models?before_id=${ANTHROPIC_DEFAULTS[2]}&limit=5`, { headers: { 'anthropic-version': '2023-06-01' } })
    ).json()) as Json;
    assert.deepEqual(start.data.map((m: Json) => m.id), ANTHROPIC_DEFAULTS.slice(0, 2));
    assert.equal(start.has_more, false);
    for (const [query, message] of [
      ['limit=0', 'limit: Input should be greater than or equal to 1'],
      ['limit=1001', 'limit: Input should be less than or equal to 1000'],
      ['limit=many', 'limit: Input should be a valid integer, unable to parse string as an integer'],
    ]) {
      const response = await fetch(`${server.url}/v1/models?${query}`, { headers: { 'anthropic-version': '2023-06-01' } });
      assert.equal(response.status, 400);
      const body = (await response.json()) as Json;
      assert.equal(body.type, 'error');
      assert.deepEqual(body.error, { type: 'invalid_request_error', message });
    }
  });

  test('models.retrieve returns one model in full; an unknown id is a NotFoundError of type not_found_error', async () => {
    const model = await anthropic.models.retrieve('claude-sonnet-5-5');
    assert.deepEqual(
      { ...model },
      {
        type: 'model',
        id: 'claude-sonnet-5-5',
        display_name: 'Claude Sonnet 5.5',
        created_at: '2026-09-30T00:00:00Z',
        capabilities: null,
        deprecated_at: null,
        lifecycle: 'active',
        line: null,
        max_input_tokens: 1_000_000,
        max_tokens: 128_000,
        retires_at: null,
      },
    );
    for (const id of ['claude-nope', 'gpt-4o']) {
      await assert.rejects(anthropic.models.retrieve(id), (error: unknown) => {
        assert.ok(error instanceof Anthropic.NotFoundError);
        assert.equal((error.error as Json).error.type, 'not_found_error');
        assert.equal((error.error as Json).error.message, `model: ${id}`);
        assert.match(error.requestID ?? '', /^req_011C/);
        return true;
      });
    }
  });

  test('the answer carries Anthropic headers', async () => {
    const response = await fetch(`${server.url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01', 'x-api-key': 'k' } });
    assert.match(response.headers.get('request-id') ?? '', /^req_011C/);
    assert.equal(response.headers.get('openai-version'), null);
  });
});

describe('configured models and routing', () => {
  test('a models: list replaces the built-in one; provider, dates, display names and owners apply', async () => {
    const local = new OpenAI({ baseURL: `${configured.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const listed = await local.models.list();
    assert.deepEqual(listed.data, [
      { id: 'my-finetune', object: 'model', created: 1735689600, owned_by: 'system' },
      { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'openai' },
    ]);
    const claude = new Anthropic({ baseURL: configured.url, apiKey: 'k', maxRetries: 0 });
    const models = (await claude.models.list()).data;
    assert.deepEqual(models.map((m) => [m.id, m.display_name, m.created_at, m.max_tokens]), [
      ['claude-custom', 'Our Claude', '2026-01-01T00:00:00Z', null],
      ['claude-sonnet-4-5-20250929', 'Claude Sonnet 4.5', '2025-09-29T00:00:00Z', 64000],
      ['proxy-model', 'proxy-model', '2025-01-01T00:00:00Z', null],
    ]);
    await assert.rejects(local.models.retrieve('gpt-5'), OpenAI.NotFoundError);
  });

  test('a reload changes the list without a restart', async () => {
    const local = await startTestServer('responses:\n  hi: hello\nmodels: [first-model]\n');
    try {
      await writeFile(local.configPath, 'responses:\n  hi: hello\nmodels: [second-model, third-model]\n');
      await eventually(
        async () => {
          const body = (await (await fetch(`${local.url}/v1/models`)).json()) as Json;
          return body.data.map((m: Json) => m.id).join() === 'second-model,third-model';
        },
        { what: 'the reloaded model list' },
      );
    } finally {
      await local.stop();
    }
  });

  test('unknown paths and methods keep each provider’s 404', async () => {
    const openAi404 = await fetch(`${server.url}/v1/model`);
    assert.equal(openAi404.status, 404);
    assert.deepEqual(((await openAi404.json()) as Json).error, { message: 'Invalid URL (GET /v1/model)', type: 'invalid_request_error', param: null, code: null });
    const post = await fetch(`${server.url}/v1/models`, { method: 'POST' });
    assert.equal(post.status, 404);
    assert.equal(((await post.json()) as Json).error.message, 'Invalid URL (POST /v1/models)');
    const nested = await fetch(`${server.url}/v1/models/gpt-4o/extra`);
    assert.equal(nested.status, 404);
    assert.equal(((await nested.json()) as Json).error.message, 'Invalid URL (GET /v1/models/gpt-4o/extra)');
    const anthropic404 = await fetch(`${server.url}/v1/nothing`, { headers: { 'anthropic-version': '2023-06-01' } });
    assert.equal(anthropic404.status, 404);
    assert.equal(((await anthropic404.json()) as Json).error.type, 'not_found_error');
  });

  test('config validation: duplicate ids per provider and unreadable dates are refused', () => {
    assert.throws(() => parseConfig('responses: {}\nmodels: [gpt-4o, gpt-4o]\n', 'm.yml'), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /models\.1.*"gpt-4o" is already listed for openai/);
      return true;
    });
    assert.throws(() => parseConfig('responses: {}\nmodels: [{id: x, created: "last tuesday"}]\n', 'm.yml'), /models\.0\.created.*must be Unix seconds or a date/);
    assert.throws(() => parseConfig('responses: {}\nmodels: [{id: x, provider: google}]\n', 'm.yml'), /models\.0/);
    assert.throws(() => parseConfig('responses: {}\nembeddings: {vectors: {a: [1, .nan]}}\n', 'm.yml'), /embeddings\.vectors\.a\.1 must be number/);
    assert.throws(() => parseConfig('responses: {}\nembeddings: {default_dimensions: 0}\n', 'm.yml'), /embeddings\.default_dimensions/);
    parseConfig('responses: {}\nmodels: [gpt-4o, {id: gpt-4o, provider: anthropic}]\nembeddings: {vectors: {a: [1, 2]}, default_dimensions: 8}\n', 'm.yml');
  });
});
