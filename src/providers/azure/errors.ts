// Azure OpenAI's error bodies (API-FORMATS §16): a request the model rejects keeps OpenAI's four
// fields (Azure relays them); everything the service itself answers (a missing api-version, a rate
// limit, an outage) is `{"error": {"code": "<status or name>", "message": "…"}}`.
import { ApiError } from '../../http/errors.ts';
import { openAiErrorBody } from '../openai-format/errors.ts';

export function azureErrorBody(error: ApiError): unknown {
  if (error.status === 400 && error.kind === 'invalid_request') return openAiErrorBody(error);
  const body: Record<string, unknown> = { code: error.code ?? String(error.status), message: error.message };
  if (error.type !== undefined) body.type = error.type;
  if (error.param !== null) body.param = error.param;
  return { error: body };
}

/** What Azure answers for a path it does not serve, or a deployments call without `api-version`. */
export const RESOURCE_NOT_FOUND = 'Resource not found';

export const resourceNotFound = () => new ApiError({ status: 404, kind: 'not_found', code: '404', message: RESOURCE_NOT_FOUND });
