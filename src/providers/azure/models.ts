// GET /openai/models and /openai/v1/models (API-FORMATS §16): Azure's model list carries
// `created_at`, `status`, `lifecycle_status` and `capabilities`; `created` and `owned_by` are
// kept beside them so clients written for OpenAI's list read it too.
import type { ModelSpec } from '../../config/schema.ts';
import type { CatalogModel } from '../models.ts';
import { resourceNotFound } from './errors.ts';

/** The models an Azure resource lists when the config names none for `provider: azure`. */
export const AZURE_MODELS: readonly ModelSpec[] = [
  { id: 'gpt-4o', created: 1715367049 },
  { id: 'gpt-4o-mini', created: 1721172741 },
  { id: 'gpt-4.1', created: 1744316542 },
  { id: 'gpt-5-mini', created: 1754425928 },
  { id: 'text-embedding-3-small', created: 1705948997 },
  { id: 'text-embedding-3-large', created: 1705953180 },
];

function azureModel(model: CatalogModel) {
  const embeddings = model.id.includes('embedding');
  return {
    id: model.id,
    object: 'model',
    created: model.created,
    created_at: model.created,
    owned_by: model.ownedBy,
    status: 'succeeded',
    lifecycle_status: 'generally-available',
    capabilities: { fine_tune: false, inference: true, completion: false, chat_completion: !embeddings, embeddings },
  };
}

export function azureModelsPage(models: readonly CatalogModel[]) {
  return { object: 'list', data: models.map(azureModel) };
}

export function azureModelById(models: readonly CatalogModel[], id: string) {
  const model = models.find((m) => m.id === id);
  if (!model) throw resourceNotFound();
  return azureModel(model);
}
