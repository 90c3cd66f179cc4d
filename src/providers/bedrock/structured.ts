// Where a Bedrock Converse request asks for structured output and declares its tools' argument
// schemas, read into the neutral Conversation fields (providers/structured-fields.ts). What each
// field is: the API's reference and the official SDK's request types.
import { ANY_TOOL, NONE, declared, fields, isObject, type Structured } from '../structured-fields.ts';

/**
 * Bedrock Converse: `outputConfig.textFormat: {type: "json_schema", structure: {jsonSchema:
 * {schema: "<JSON text>", name}}}` (the schema is a string: @aws-sdk/client-bedrock-runtime
 * JsonSchemaDefinition); `toolConfig.tools[].toolSpec.inputSchema.json`. Returns the problem
 * when the schema text is not JSON, for the caller to report in the service's words.
 */
export function converseStructure(body: { outputConfig?: unknown; toolConfig?: unknown }, strict: boolean): Structured | { problem: string } {
  const textFormat = isObject(body.outputConfig) ? body.outputConfig.textFormat : undefined;
  const structure = isObject(textFormat) && isObject(textFormat.structure) ? textFormat.structure.jsonSchema : undefined;
  let schema: unknown;
  if (isObject(structure) && structure.schema !== undefined) {
    if (typeof structure.schema !== 'string') schema = structure.schema;
    else {
      try {
        schema = JSON.parse(structure.schema);
      } catch {
        return { problem: 'outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON' };
      }
    }
  }
  const tools = declared(isObject(body.toolConfig) ? body.toolConfig.tools : undefined, (t) => {
    const spec = t.toolSpec;
    return isObject(spec) ? [spec.name, isObject(spec.inputSchema) ? spec.inputSchema.json : undefined] : undefined;
  });
  if (schema === undefined && tools === undefined) return NONE;
  const choice = isObject(body.toolConfig) ? body.toolConfig.toolChoice : undefined;
  const forced = isObject(choice) ? (isObject(choice.tool) ? choice.tool.name : 'any' in choice ? ANY_TOOL : undefined) : undefined;
  return fields(schema, 'json-schema', 'outputConfig.textFormat.structure.jsonSchema.schema', strict, tools, forced);
}
