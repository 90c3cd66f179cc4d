// Where a Gemini request asks for structured output and declares its tools' argument schemas, read
// into the neutral Conversation fields (providers/structured-fields.ts). What each field is: the
// API's reference and the official SDK's request types.
import type { DeclaredTool } from '../../engine/conversation.ts';
import { ANY_TOOL, NONE, declared, fields, isObject, type Structured } from '../structured-fields.ts';

/**
 * Gemini: `generationConfig.responseJsonSchema` (plain JSON Schema) or `responseSchema` (the
 * OpenAPI-style Schema object); the REST API also takes the proto's snake_case names. Function
 * declarations: `parametersJsonSchema` or `parameters` (OpenAPI-style).
 */
export function geminiStructure(body: { generationConfig?: unknown; tools?: unknown; toolConfig?: unknown }, strict: boolean): Structured {
  const config = isObject(body.generationConfig) ? body.generationConfig : undefined;
  const jsonSchema = config?.responseJsonSchema ?? config?.response_json_schema;
  const openApi = config?.responseSchema ?? config?.response_schema;
  let tools: DeclaredTool[] | undefined;
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      if (!isObject(tool)) continue;
      const found = declared(tool.functionDeclarations ?? tool.function_declarations, (d) => {
        const plain = d.parametersJsonSchema ?? d.parameters_json_schema;
        return plain !== undefined ? [d.name, plain] : [d.name, d.parameters, 'openapi'];
      });
      if (found) tools = [...(tools ?? []), ...found];
    }
  }
  if (jsonSchema === undefined && openApi === undefined && tools === undefined) return NONE;
  // Mode ANY (or VALIDATED, the AI SDK's strict tools, which still may answer text: not forced) with one allowed function.
  const calling = isObject(body.toolConfig) ? (body.toolConfig.functionCallingConfig ?? body.toolConfig.function_calling_config) : undefined;
  const allowed = isObject(calling) ? (calling.allowedFunctionNames ?? calling.allowed_function_names) : undefined;
  const forced = isObject(calling) && calling.mode === 'ANY' ? (Array.isArray(allowed) && allowed.length === 1 ? allowed[0] : ANY_TOOL) : undefined;
  if (jsonSchema !== undefined) return fields(jsonSchema, 'json-schema', 'generationConfig.responseJsonSchema', strict, tools, forced);
  return fields(openApi, 'openapi', 'generationConfig.responseSchema', strict, tools, forced);
}
