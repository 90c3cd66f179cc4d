// Bedrock's model catalogue: ListFoundationModels (`GET /foundation-models`) and GetFoundationModel
// (`GET /foundation-models/{id}`) of the Bedrock control plane, served on the same port so a
// `BedrockClient` pointed at the mock lists what the mock answers as.
import type { ModelSpec } from '../../config/schema.ts';
import { ApiError } from '../../http/errors.ts';
import type { CatalogModel } from '../models.ts';

export const BEDROCK_MODELS: readonly ModelSpec[] = [
  { id: 'anthropic.claude-sonnet-4-5-20250929-v1:0', display_name: 'Claude Sonnet 4.5' },
  { id: 'anthropic.claude-haiku-4-5-20251001-v1:0', display_name: 'Claude Haiku 4.5' },
  { id: 'anthropic.claude-3-5-haiku-20241022-v1:0', display_name: 'Claude 3.5 Haiku' },
  { id: 'amazon.nova-pro-v1:0', display_name: 'Nova Pro' },
  { id: 'amazon.nova-lite-v1:0', display_name: 'Nova Lite' },
  { id: 'meta.llama3-3-70b-instruct-v1:0', display_name: 'Llama 3.3 70B Instruct' },
  { id: 'mistral.mistral-large-2407-v1:0', display_name: 'Mistral Large (24.07)' },
];

const PROVIDER_NAMES: Record<string, string> = {
  anthropic: 'Anthropic', amazon: 'Amazon', meta: 'Meta', mistral: 'Mistral AI', cohere: 'Cohere', ai21: 'AI21 Labs', deepseek: 'DeepSeek',
  qwen: 'Qwen', openai: 'OpenAI', writer: 'Writer',
};

// `anthropic.claude-…`, `us.anthropic.claude-…` (an inference profile), or an ARN.
const BEDROCK_ID = new RegExp(`^(?:[a-z]{2,6}\\.)?(?:${Object.keys(PROVIDER_NAMES).join('|')})\\.|^arn:aws[a-z-]*:bedrock:`);
export const ownsBedrockModel = (id: string): boolean => BEDROCK_ID.test(id);

function summary(model: CatalogModel) {
  const family = model.id.replace(/^[a-z]{2,6}\.(?=[a-z0-9]+\.)/, '').split('.')[0]!;
  return {
    modelArn: `arn:aws:bedrock:us-east-1::foundation-model/${model.id}`,
    modelId: model.id,
    modelName: model.displayName ?? model.id,
    providerName: PROVIDER_NAMES[family] ?? family,
    inputModalities: ['TEXT'],
    outputModalities: ['TEXT'],
    responseStreamingSupported: true,
    customizationsSupported: [],
    inferenceTypesSupported: ['ON_DEMAND'],
    modelLifecycle: { status: 'ACTIVE' },
  };
}

export const bedrockModelsPage = (models: readonly CatalogModel[]) => ({ modelSummaries: models.map(summary) });

export function bedrockModelById(models: readonly CatalogModel[], id: string): unknown {
  const wanted = id.slice(id.lastIndexOf('/') + 1);
  const model = models.find((m) => m.id === wanted);
  if (!model) throw new ApiError({ status: 404, kind: 'not_found', message: `The model ${id} does not exist.`, type: 'ResourceNotFoundException' });
  return { modelDetails: summary(model) };
}
