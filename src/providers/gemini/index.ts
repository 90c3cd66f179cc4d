// Google's Gemini API and Vertex AI's Gemini endpoints (API-FORMATS §11), one provider: the same
// bodies under the Gemini API's versions and Vertex AI's publisher-model paths.
import { hex } from '../../http/ids.ts';
import { modelsRoutes } from '../models.ts';
import type { Provider, ProviderRoute } from '../provider.ts';
import { batchEmbedContentsRoute, embedContentRoute, vertexPredictRoute } from './embeddings.ts';
import { geminiErrorBody } from './errors.ts';
import { geminiRecorder } from './recorder.ts';
import { generateRoutes } from './generate.ts';
import { GEMINI_MODELS, geminiModelById, geminiModelsPage, ownsGeminiModel, vertexModelById, vertexModelsPage } from './models.ts';

// `@google/genai` 3.x calls v1 by default, the AI SDK and LangChain v1beta; v1alpha carries previews.
const GEMINI_VERSIONS = ['/v1', '/v1beta', '/v1alpha'];
// Vertex AI: v1beta1 is @google/genai's default with `vertexai: true`.
const VERTEX_VERSIONS = ['/v1', '/v1beta1'];

function geminiApiRoutes(version: string): ProviderRoute[] {
  const models = `${version}/models`;
  return [
    ...generateRoutes(models),
    embedContentRoute(`${models}/{model}:embedContent`),
    batchEmbedContentsRoute(`${models}/{model}:batchEmbedContents`),
    ...modelsRoutes(geminiModelsPage, geminiModelById, models),
  ];
}

function vertexRoutes(version: string): ProviderRoute[] {
  // With a project and location, and in express mode (an API key, no project).
  const regional = `${version}/projects/{project}/locations/{location}/publishers/google/models`;
  const express = `${version}/publishers/google/models`;
  return [
    ...[regional, express].flatMap((models) => [
      ...generateRoutes(models),
      embedContentRoute(`${models}/{model}:embedContent`),
      vertexPredictRoute(`${models}/{model}:predict`),
    ]),
    // models.get and models.list name base models without the project prefix.
    ...modelsRoutes(vertexModelsPage, vertexModelById, express),
  ];
}

// What Google's front end sends on every answer.
const RESPONSE_HEADERS = { vary: 'Origin, X-Origin, Referer', 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', 'x-xss-protection': '0' };

// Paths only Google's APIs use, and Gemini's `models/{model}:method` under /v1 (an OpenAI fine-tune
// id holds colons too: `/v1/models/ft:gpt-4o-mini:org::abc` stays OpenAI's).
const GOOGLE_PATH = /^\/(?:v1beta1?|v1alpha)\/|^\/v1\/(?:projects|publishers)\/|^\/v1\/models\/[^/]+:(?:generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$/;

export const gemini: Provider = {
  name: 'gemini',
  routes: [...GEMINI_VERSIONS.flatMap(geminiApiRoutes), ...VERTEX_VERSIONS.flatMap(vertexRoutes)],
  // A path only Google serves, or a Google API key (`x-goog-api-key` or `?key=`; a raw request
  // line's path still holds its query): GET /v1/models with a Google key is Gemini's listing,
  // without one OpenAI's.
  claims: (path, header, query) => GOOGLE_PATH.test(path) || header('x-goog-api-key') !== undefined || query?.('key') !== undefined || /[?&]key=/.test(path),
  models: { defaults: GEMINI_MODELS, owns: ownsGeminiModel },
  requestHeaders: ['x-goog-api-key', 'x-goog-api-client', 'x-goog-user-project', 'x-goog-request-params'],
  newRequestId: () => hex(16),
  responseHeaders: () => RESPONSE_HEADERS,
  errorBody: geminiErrorBody,
  recorder: geminiRecorder,
  malformedJsonMessage: 'Invalid JSON payload received. Unexpected token.',
  unknownRouteMessage: (method, path) => `The requested URL ${path} was not found on this server (${method}).`,
};
