// GET /v1/models and /v1/models/{id} in OpenAI's shape (API-FORMATS §4).
import type { ModelSpec } from '../../config/schema.ts';
import { ApiError } from '../../http/errors.ts';
import type { CatalogModel } from '../models.ts';

/** The built-in list, used when the config has no `models:`: ids with the `created` the real API reports. */
export const OPENAI_MODELS: readonly ModelSpec[] = [
  { id: 'gpt-5', created: 1754425777 },
  { id: 'gpt-5-mini', created: 1754425928 },
  { id: 'gpt-5-nano', created: 1754426384 },
  { id: 'gpt-4.1', created: 1744316542 },
  { id: 'gpt-4.1-mini', created: 1744318173 },
  { id: 'gpt-4.1-nano', created: 1744321707 },
  { id: 'gpt-4o', created: 1715367049 },
  { id: 'gpt-4o-mini', created: 1721172741 },
  { id: 'o3', created: 1744225308 },
  { id: 'o3-mini', created: 1737146383 },
  { id: 'o4-mini', created: 1744225351 },
  { id: 'gpt-4-turbo', created: 1712361441 },
  { id: 'gpt-3.5-turbo', created: 1677610602, owned_by: 'openai' },
  { id: 'gpt-3.5-turbo-instruct', created: 1692901427 },
  { id: 'davinci-002', created: 1692634301 },
  { id: 'babbage-002', created: 1692634615 },
  { id: 'text-embedding-3-small', created: 1705948997 },
  { id: 'text-embedding-3-large', created: 1705953180 },
  { id: 'text-embedding-ada-002', created: 1671217299, owned_by: 'openai-internal' },
];

function openAiModel(model: CatalogModel) {
  return { id: model.id, object: 'model', created: model.created, owned_by: model.ownedBy };
}

export function openAiModelsPage(models: readonly CatalogModel[]) {
  return { object: 'list', data: models.map(openAiModel) };
}

export function openAiModelById(models: readonly CatalogModel[], id: string) {
  const model = models.find((m) => m.id === id);
  if (!model) throw new ApiError({ status: 404, kind: 'not_found', message: `The model '${id}' does not exist`, param: 'model', code: 'model_not_found' });
  return openAiModel(model);
}
