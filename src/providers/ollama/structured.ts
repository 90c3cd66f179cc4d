// Where an Ollama request asks for structured output and declares its tools' argument schemas, read
// into the neutral Conversation fields (providers/structured-fields.ts). What each field is: the
// API's reference and the official SDK's request types.
import { NONE, declared, fields, isObject, type Structured } from '../structured-fields.ts';

/** Ollama `/api/chat` and `/api/generate`: `format` is `"json"` or a JSON Schema; `tools[].function.parameters`. */
export function ollamaStructure(body: { format?: unknown; tools?: unknown }, strict: boolean): Structured {
  const schema = isObject(body.format) ? body.format : undefined;
  const tools = declared(body.tools, (t) => (isObject(t.function) ? [t.function.name, t.function.parameters] : undefined));
  if (schema === undefined && tools === undefined) return NONE;
  return fields(schema, 'json-schema', 'format', strict, tools);
}
