// :embedContent, :batchEmbedContents and Vertex AI's :predict (API-FORMATS §11 "countTokens,
// embeddings, models"): deterministic vectors from model and text (src/engine/embedding.ts), or the
// config's fixed ones (`embeddings.vectors`); `outputDimensionality` shortens them.
import { MAX_EMBEDDING_DIMENSIONS } from '../../config/schema.ts';
import type { Conversation } from '../../engine/conversation.ts';
import { generatedEmbedding } from '../../engine/embedding.ts';
import { countTextTokens } from '../../engine/tokens.ts';
import { answerRoute } from '../answer-route.ts';
import type { Parsed, ProviderDeps, ProviderRoute, RouteRequest } from '../provider.ts';
import { invalidArgument, shown } from './errors.ts';
import { modelIdOf } from './request.ts';

// The real embedding models' sizes (https://ai.google.dev/gemini-api/docs/embeddings); any other
// model gets the config's `embeddings.default_dimensions`, else gemini-embedding-001's 3072.
const DIMENSIONS: [RegExp, number][] = [
  [/^gemini-embedding-/, 3072],
  [/^text-embedding-00[45]/, 768],
  [/^(?:text-)?embedding-00[1-3]/, 768],
  [/^text-multilingual-embedding-/, 768],
];
const GEMINI_DEFAULT_DIMENSIONS = 3072;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

interface EmbedInput {
  text: string;
  dimensions: number | undefined;
}

type EmbedShape = 'single' | 'batch' | 'predict';

interface EmbedRequest {
  model: string;
  shape: EmbedShape;
  inputs: EmbedInput[];
  fullDimensions: number;
  fixed: Record<string, number[]> | undefined;
}

/** One EmbedContentRequest's text and requested size, checked in the API's words. */
function inputOf(request: unknown, at: string, pathModel: string): EmbedInput {
  if (!isObject(request)) throw invalidArgument(`Invalid JSON payload received. Expected an object for "${at || 'request'}".`);
  const prefix = at === '' ? '' : `${at}.`;
  if (request.model !== undefined && (typeof request.model !== 'string' || modelIdOf(request.model) !== pathModel)) {
    throw invalidArgument(`* BatchEmbedContentsRequest.${prefix}model: The model in the request (${shown(request.model)}) does not match the model in the URL (models/${pathModel}).\n`);
  }
  const content = request.content;
  if (content === undefined) throw invalidArgument(`* EmbedContentRequest.${prefix}content: content is not specified\n`);
  if (!isObject(content) || !Array.isArray(content.parts) || content.parts.length === 0) {
    throw invalidArgument(`* EmbedContentRequest.${prefix}content.parts: contents.parts must not be empty.\n`);
  }
  const texts: string[] = [];
  for (const [index, part] of content.parts.entries()) {
    if (!isObject(part) || typeof part.text !== 'string') throw invalidArgument(`* EmbedContentRequest.${prefix}content.parts[${index}].text: text must be a string.\n`);
    texts.push(part.text);
  }
  const text = texts.join('\n');
  if (text.trim() === '') throw invalidArgument(`* EmbedContentRequest.${prefix}content: text content is empty.\n`);
  // Vertex AI's embedContent puts the size in `embedContentConfig`.
  const config = isObject(request.embedContentConfig) ? request.embedContentConfig : {};
  const size = request.outputDimensionality ?? config.outputDimensionality;
  if (size !== undefined && size !== null && (typeof size !== 'number' || !Number.isInteger(size) || size < 1)) {
    throw invalidArgument(`* EmbedContentRequest.${prefix}output_dimensionality: Output dimensionality must be a positive integer.\n`);
  }
  return { text, dimensions: typeof size === 'number' ? size : undefined };
}

function conversationOf(model: string, endpoint: string, text: string, header: RouteRequest['header']): Conversation {
  return { provider: 'gemini', endpoint, model, system: '', messages: [{ role: 'user', text }], prompt: text, tools: [], toolResult: undefined, stream: false, header };
}

/**
 * Vertex AI's `:predict` for embedding models (what @google/genai sends for gemini-embedding-001
 * and text-embedding-*): `{instances: [{content, task_type?, title?}], parameters:
 * {outputDimensionality?}}` (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api).
 */
function predictInputsOf(body: unknown): EmbedInput[] {
  if (!isObject(body) || !Array.isArray(body.instances) || body.instances.length === 0) throw invalidArgument('instances must be a non-empty list.');
  const parameters = isObject(body.parameters) ? body.parameters : {};
  const size = parameters.outputDimensionality;
  if (size !== undefined && size !== null && (typeof size !== 'number' || !Number.isInteger(size) || size < 1)) {
    throw invalidArgument('parameters.outputDimensionality must be a positive integer.');
  }
  return body.instances.map((instance, index) => {
    const content = isObject(instance) ? instance.content : undefined;
    const text = typeof content === 'string' ? content : undefined;
    if (text === undefined || text.trim() === '') throw invalidArgument(`instances[${index}].content must be a non-empty string.`);
    return { text, dimensions: typeof size === 'number' ? size : undefined };
  });
}

function parser(endpoint: string, shape: EmbedShape) {
  return (request: RouteRequest, deps: ProviderDeps): Parsed<EmbedRequest> => {
    const model = modelIdOf(request.params.model!);
    const body = request.body;
    let inputs: EmbedInput[];
    if (shape === 'predict') {
      inputs = predictInputsOf(body);
    } else if (shape === 'batch') {
      if (!isObject(body) || body.requests === undefined) throw invalidArgument('* BatchEmbedContentsRequest.requests: requests is not specified\n');
      if (!Array.isArray(body.requests) || body.requests.length === 0) throw invalidArgument('* BatchEmbedContentsRequest.requests: requests must not be empty\n');
      if (body.requests.length > 100) throw invalidArgument('* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch.\n');
      inputs = body.requests.map((r, i) => inputOf(r, `requests[${i}]`, model));
    } else {
      inputs = [inputOf(body, '', model)];
    }
    const rules = deps.store.current;
    const family = DIMENSIONS.find(([pattern]) => pattern.test(model));
    const fullDimensions = family?.[1] ?? rules.embeddings?.default_dimensions ?? GEMINI_DEFAULT_DIMENSIONS;
    const max = family ? family[1] : MAX_EMBEDDING_DIMENSIONS;
    for (const input of inputs) {
      if (input.dimensions !== undefined && input.dimensions > max) {
        throw invalidArgument(`* EmbedContentRequest.output_dimensionality: Output dimensionality must be at most ${max}, got ${input.dimensions}.\n`);
      }
    }
    // Each input is a text a rule naming this endpoint may match; the first that one matches decides
    // errors, latency and faults (the core's `inputs`).
    const conversations = inputs.map((input) => conversationOf(model, endpoint, input.text, request.header));
    return { request: { model, shape, inputs, fullDimensions, fixed: rules.embeddings?.vectors }, conversation: conversations[0]!, inputs: conversations };
  };
}

function vectorOf(request: EmbedRequest, input: EmbedInput): number[] {
  const { fixed } = request;
  const configured = fixed && Object.hasOwn(fixed, input.text) ? fixed[input.text]! : undefined;
  if (configured) {
    if (input.dimensions !== undefined && configured.length !== input.dimensions) {
      throw invalidArgument(
        `* EmbedContentRequest.output_dimensionality: the mock config's embeddings.vectors fixes the vector for ${JSON.stringify(input.text.slice(0, 60))} at ${configured.length} dimensions, but the request asks for ${input.dimensions}.\n`,
      );
    }
    return configured;
  }
  return generatedEmbedding(request.model, input.text, input.dimensions ?? request.fullDimensions);
}

function renderJson(_reply: unknown, _conversation: Conversation, request: EmbedRequest): unknown {
  if (request.shape === 'predict') {
    const predictions = request.inputs.map((input) => ({
      embeddings: { values: vectorOf(request, input), statistics: { token_count: countTextTokens(input.text), truncated: false } },
    }));
    return { predictions, metadata: { billableCharacterCount: request.inputs.reduce((sum, input) => sum + input.text.replace(/\s/g, '').length, 0) } };
  }
  const vectors = request.inputs.map((input) => ({ values: vectorOf(request, input) }));
  return request.shape === 'batch' ? { embeddings: vectors } : { embedding: vectors[0] };
}

export function embedContentRoute(path: string): ProviderRoute {
  return answerRoute('POST', path, { parse: parser(path, 'single'), renderJson, streams: () => false });
}

export function batchEmbedContentsRoute(path: string): ProviderRoute {
  return answerRoute('POST', path, { parse: parser(path, 'batch'), renderJson, streams: () => false });
}

export function vertexPredictRoute(path: string): ProviderRoute {
  return answerRoute('POST', path, { parse: parser(path, 'predict'), renderJson, streams: () => false });
}
