// GET /api/tags, POST /api/show, GET /api/ps, GET /api/version (API-FORMATS §15): the models the
// catalogue lists for Ollama (the config's `models:` entries for `provider: ollama`, else a
// built-in list), described the way the real server describes pulled models.
import { createHash } from 'node:crypto';
import type { ModelSpec } from '../../config/schema.ts';
import { stampProcessingTime } from '../../http/timing.ts';
import { modelsOf, type CatalogModel } from '../models.ts';
import type { ProviderRoute } from '../provider.ts';
import { bodyObject, checkFields, modelNotFound, modelRequired } from './wire.ts';

/** What `GET /api/version` reports: the Ollama release whose API this follows. */
export const OLLAMA_VERSION = '0.12.6';

/** Pulled models, when the config lists none for Ollama. `created` is their modified_at. */
export const OLLAMA_MODELS: readonly ModelSpec[] = [
  { id: 'llama3.2:latest', created: '2025-09-25T10:00:00Z', max_input_tokens: 131072 },
  { id: 'llama3.1:8b', created: '2025-08-14T10:00:00Z', max_input_tokens: 131072 },
  { id: 'qwen3:8b', created: '2025-07-30T10:00:00Z', max_input_tokens: 40960 },
  { id: 'gemma3:4b', created: '2025-06-12T10:00:00Z', max_input_tokens: 131072 },
  { id: 'mistral:latest', created: '2025-05-20T10:00:00Z', max_input_tokens: 32768 },
  { id: 'gpt-oss:20b', created: '2025-08-05T10:00:00Z', max_input_tokens: 131072 },
  { id: 'nomic-embed-text:latest', created: '2025-04-02T10:00:00Z', max_input_tokens: 2048 },
];

// Families Ollama's library publishes, by name prefix: details and the capabilities /api/show reports.
interface Family {
  family: string;
  parameterSize: string;
  size: number;
  capabilities: string[];
}

const FAMILIES: [prefix: string, family: Family][] = [
  ['llama3.2', { family: 'llama', parameterSize: '3.2B', size: 2019393189, capabilities: ['completion', 'tools'] }],
  ['llama3.1', { family: 'llama', parameterSize: '8.0B', size: 4920753328, capabilities: ['completion', 'tools'] }],
  ['llama', { family: 'llama', parameterSize: '8.0B', size: 4661224676, capabilities: ['completion', 'tools'] }],
  ['qwen3', { family: 'qwen3', parameterSize: '8.2B', size: 5225387923, capabilities: ['completion', 'tools', 'thinking'] }],
  ['qwen', { family: 'qwen2', parameterSize: '7.6B', size: 4683087332, capabilities: ['completion', 'tools'] }],
  ['gemma3', { family: 'gemma3', parameterSize: '4.3B', size: 3338801804, capabilities: ['completion', 'vision'] }],
  ['mistral', { family: 'llama', parameterSize: '7.2B', size: 4372824384, capabilities: ['completion', 'tools'] }],
  ['gpt-oss', { family: 'gptoss', parameterSize: '20.9B', size: 13780173734, capabilities: ['completion', 'tools', 'thinking'] }],
  ['deepseek-r1', { family: 'qwen2', parameterSize: '8.2B', size: 5225376047, capabilities: ['completion', 'thinking'] }],
  ['nomic-embed-text', { family: 'nomic-bert', parameterSize: '137M', size: 274302450, capabilities: ['embedding'] }],
  ['mxbai-embed-large', { family: 'bert', parameterSize: '334M', size: 669615493, capabilities: ['embedding'] }],
  ['all-minilm', { family: 'bert', parameterSize: '23M', size: 45960996, capabilities: ['embedding'] }],
];

const OTHER: Family = { family: 'llama', parameterSize: '7B', size: 4109865159, capabilities: ['completion', 'tools'] };

// Bedrock model ids also carry a colon (`anthropic.claude-3-haiku-20240307-v1:0`): a vendor prefix
// with a dot and a numeric version tag, which Ollama names never have.
const BEDROCK_LIKE = /^([a-z]{2,6}\.)?(anthropic|amazon|meta|mistral|cohere|ai21|stability|deepseek|writer|qwen|openai|twelvelabs|luma)\.|:\d+$/;

/** Whether a model id looks like an Ollama name: `name:tag`, or a family from its library. */
export function ownsOllamaModel(id: string): boolean {
  if (BEDROCK_LIKE.test(id)) return false;
  return /^[\w.-]+(\/[\w.-]+)?:[\w.-]+$/.test(id) || FAMILIES.some(([prefix]) => id === prefix || id.startsWith(`${prefix}:`));
}

/** `llama3.2` and `llama3.2:latest` name the same model. */
export function fullName(name: string): string {
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? name : `${name}:latest`;
}

function familyOf(name: string): Family {
  const base = name.split(':')[0]!;
  return FAMILIES.find(([prefix]) => base === prefix || base.startsWith(prefix))?.[1] ?? OTHER;
}

const digestOf = (name: string) => createHash('sha256').update(name).digest('hex');

function details(family: Family) {
  return { parent_model: '', format: 'gguf', family: family.family, families: [family.family], parameter_size: family.parameterSize, quantization_level: 'Q4_K_M' };
}

function modifiedAt(model: CatalogModel): string {
  return new Date(model.created * 1000).toISOString();
}

function tag(model: CatalogModel) {
  const name = fullName(model.id);
  const family = familyOf(name);
  return { name, model: name, modified_at: modifiedAt(model), size: family.size, digest: digestOf(name), details: details(family) };
}

function findModel(models: readonly CatalogModel[], name: string): CatalogModel | undefined {
  const wanted = fullName(name);
  return models.find((m) => fullName(m.id) === wanted);
}

function show(model: CatalogModel, asked: string) {
  const name = fullName(model.id);
  const family = familyOf(name);
  const contextLength = model.maxInputTokens ?? 131072;
  return {
    license: '',
    modelfile: `# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM ${asked}\n\nFROM ${name}\nTEMPLATE {{ .Prompt }}\n`,
    parameters: 'stop                           "<|eot_id|>"',
    template: '{{ .Prompt }}',
    details: details(family),
    model_info: {
      'general.architecture': family.family,
      'general.parameter_count': Math.round(family.size / 0.6),
      [`${family.family}.context_length`]: contextLength,
      [`${family.family}.embedding_length`]: 4096,
    },
    capabilities: family.capabilities,
    modified_at: modifiedAt(model),
  };
}

// How long a loaded model stays in memory after its last request (Ollama's default keep_alive).
const KEEP_ALIVE_MS = 5 * 60 * 1000;

export const modelRoutes: ProviderRoute[] = [
  {
    method: 'GET',
    path: '/api/tags',
    async handle(ctx, _request, deps) {
      const models = modelsOf(ctx, deps).map(tag);
      stampProcessingTime(ctx);
      ctx.body = { models };
    },
  },
  {
    method: 'POST',
    path: '/api/show',
    async handle(ctx, request, deps) {
      const body = bodyObject(request.body, 'ShowRequest');
      checkFields(body, 'ShowRequest', { model: 'string', name: 'string', system: 'string', verbose: 'bool', options: 'object' });
      const asked = (body.model as string | undefined) || (body.name as string | undefined) || '';
      if (asked === '') throw modelRequired();
      // Chat and generate answer any model; show, like the real server, knows only the listed ones.
      const model = findModel(modelsOf(ctx, deps), asked);
      if (!model) throw modelNotFound(asked);
      stampProcessingTime(ctx);
      ctx.body = show(model, asked);
    },
  },
  {
    method: 'GET',
    path: '/api/ps',
    async handle(ctx, _request, deps) {
      // Every listed chat model counts as loaded, its keep-alive running from now.
      const expiresAt = new Date(Date.now() + KEEP_ALIVE_MS).toISOString();
      const models = modelsOf(ctx, deps).map((model) => {
        const { name, model: id, size, digest, details: modelDetails } = tag(model);
        return { name, model: id, size, digest, details: modelDetails, expires_at: expiresAt, size_vram: size, context_length: model.maxInputTokens ?? 4096 };
      });
      stampProcessingTime(ctx);
      ctx.body = { models };
    },
  },
  {
    method: 'GET',
    path: '/api/version',
    async handle(ctx) {
      ctx.body = { version: OLLAMA_VERSION };
    },
  },
];
