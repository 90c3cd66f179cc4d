// Where an OpenAI-format request (chat completions, Responses) asks for structured output and
// declares its tools' argument schemas, read into the neutral Conversation fields
// (providers/structured-fields.ts). What each field is: the API's reference and the official SDK's
// request types.
import { ANY_TOOL, NONE, declared, fields, isObject, type Structured } from '../structured-fields.ts';

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
