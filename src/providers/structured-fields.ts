// Where each API's request asks for structured output and declares its tools' argument schemas,
// read into the neutral Conversation fields (engine/conversation.ts responseSchema, toolSchemas).
// One neutral module, so providers keep to their folders (docs/architecture.md) and each parser
// needs one line. What each field is: the APIs' references and the official SDKs' request types.
import type { Conversation, DeclaredTool, RequestedSchema } from '../engine/conversation.ts';

type Structured = Pick<Conversation, 'responseSchema' | 'toolSchemas' | 'forcedTool'>;
type Dialect = RequestedSchema['dialect'];

const NONE: Structured = Object.freeze({});
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A tool choice that forces some tool without naming it (`required`, `any`, mode ANY). */
const ANY_TOOL = Symbol('any tool');

function fields(schema: unknown, dialect: Dialect, source: string, strict: boolean, tools: DeclaredTool[] | undefined, forced?: unknown): Structured {
  if (schema === undefined && tools === undefined) return NONE;
  // A forced tool counts when the request declares it; "any tool" forces the only one declared.
  const forcedTool = forced === ANY_TOOL ? (tools?.length === 1 ? tools[0]!.name : undefined) : typeof forced === 'string' && tools?.some((t) => t.name === forced) ? forced : undefined;
  return {
    ...(schema !== undefined && { responseSchema: { schema, dialect, source, strict } }),
    ...(tools !== undefined && { toolSchemas: tools }),
    ...(forcedTool !== undefined && { forcedTool }),
  };
}


function declared(list: unknown, read: (tool: Record<string, unknown>) => [unknown, unknown, Dialect?] | undefined): DeclaredTool[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: DeclaredTool[] = [];
  for (const tool of list) {
    if (!isObject(tool)) continue;
    const found = read(tool);
    if (found && typeof found[0] === 'string') out.push({ name: found[0], schema: found[1], dialect: found[2] ?? 'json-schema' });
  }
  return out.length > 0 ? out : undefined;
}

/** OpenAI chat completions: `response_format: {type: "json_schema", json_schema: {schema, strict}}`; `tools[].function.parameters`, legacy `functions[].parameters`. */
export function openAiChatStructure(body: { response_format?: unknown; tools?: unknown; functions?: unknown; tool_choice?: unknown; function_call?: unknown }, strict: boolean): Structured {
  const format = body.response_format;
  const schema = isObject(format) && format.type === 'json_schema' && isObject(format.json_schema) ? (format.json_schema.schema ?? {}) : undefined;
  let tools = declared(body.tools, (t) => (isObject(t.function) ? [t.function.name, t.function.parameters] : undefined));
  const functions = declared(body.functions, (f) => [f.name, f.parameters]);
  if (functions) tools = [...(tools ?? []), ...functions];
  if (schema === undefined && tools === undefined) return NONE;
  const choice = body.tool_choice ?? body.function_call;
  const forced = choice === 'required' ? ANY_TOOL : isObject(choice) ? (isObject(choice.function) ? choice.function.name : choice.name) : undefined;
  return fields(schema, 'json-schema', 'response_format.json_schema.schema', strict, tools, forced);
}

/** OpenAI Responses: `text.format: {type: "json_schema", schema}` (flat, unlike chat); `tools[]` of type function with `parameters`. */
export function openAiResponsesStructure(body: { text?: unknown; tools?: unknown; tool_choice?: unknown }, strict: boolean): Structured {
  const format = isObject(body.text) ? body.text.format : undefined;
  const schema = isObject(format) && format.type === 'json_schema' ? (format.schema ?? {}) : undefined;
  const tools = declared(body.tools, (t) => (t.type === 'function' ? [t.name, t.parameters] : undefined));
  if (schema === undefined && tools === undefined) return NONE;
  const choice = body.tool_choice;
  const forced = choice === 'required' ? ANY_TOOL : isObject(choice) && choice.type === 'function' ? choice.name : undefined;
  return fields(schema, 'json-schema', 'text.format.schema', strict, tools, forced);
}

/**
 * Anthropic Messages (and Bedrock's Anthropic body): GA `output_config.format: {type:
 * "json_schema", schema}`, the beta `output_format` of the same shape; `tools[].input_schema`.
 */
export function anthropicStructure(body: { output_config?: unknown; output_format?: unknown; tools?: unknown; tool_choice?: unknown }, strict: boolean): Structured {
  const config = isObject(body.output_config) ? body.output_config.format : undefined;
  const format = isObject(config) ? config : body.output_format;
  const schema = isObject(format) && format.type === 'json_schema' ? (format.schema ?? {}) : undefined;
  const tools = declared(body.tools, (t) => [t.name, t.input_schema]);
  if (schema === undefined && tools === undefined) return NONE;
  const choice = body.tool_choice;
  const forced = isObject(choice) ? (choice.type === 'tool' ? choice.name : choice.type === 'any' ? ANY_TOOL : undefined) : undefined;
  return fields(schema, 'json-schema', isObject(config) ? 'output_config.format.schema' : 'output_format.schema', strict, tools, forced);
}

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

/** Ollama `/api/chat` and `/api/generate`: `format` is `"json"` or a JSON Schema; `tools[].function.parameters`. */
export function ollamaStructure(body: { format?: unknown; tools?: unknown }, strict: boolean): Structured {
  const schema = isObject(body.format) ? body.format : undefined;
  const tools = declared(body.tools, (t) => (isObject(t.function) ? [t.function.name, t.function.parameters] : undefined));
  if (schema === undefined && tools === undefined) return NONE;
  return fields(schema, 'json-schema', 'format', strict, tools);
}

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
