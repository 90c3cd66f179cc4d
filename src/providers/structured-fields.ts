// Structured output and tool schemas, read into the neutral Conversation fields
// (engine/conversation.ts responseSchema, toolSchemas, forcedTool): the helpers every provider's
// reader uses (each provider's own reader lives in its folder, `structured.ts`), and the reader of
// Anthropic Messages bodies, which two providers take (Anthropic, and Bedrock's InvokeModel).
import type { Conversation, DeclaredTool, RequestedSchema } from '../engine/conversation.ts';

export type Structured = Pick<Conversation, 'responseSchema' | 'toolSchemas' | 'forcedTool'>;
type Dialect = RequestedSchema['dialect'];

export const NONE: Structured = Object.freeze({});
export const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A tool choice that forces some tool without naming it (`required`, `any`, mode ANY). */
export const ANY_TOOL = Symbol('any tool');

export function fields(schema: unknown, dialect: Dialect, source: string, strict: boolean, tools: DeclaredTool[] | undefined, forced?: unknown): Structured {
  if (schema === undefined && tools === undefined) return NONE;
  // A forced tool counts when the request declares it; "any tool" forces the only one declared.
  const forcedTool = forced === ANY_TOOL ? (tools?.length === 1 ? tools[0]!.name : undefined) : typeof forced === 'string' && tools?.some((t) => t.name === forced) ? forced : undefined;
  return {
    ...(schema !== undefined && { responseSchema: { schema, dialect, source, strict } }),
    ...(tools !== undefined && { toolSchemas: tools }),
    ...(forcedTool !== undefined && { forcedTool }),
  };
}

export function declared(list: unknown, read: (tool: Record<string, unknown>) => [unknown, unknown, Dialect?] | undefined): DeclaredTool[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: DeclaredTool[] = [];
  for (const tool of list) {
    if (!isObject(tool)) continue;
    const found = read(tool);
    if (found && typeof found[0] === 'string') out.push({ name: found[0], schema: found[1], dialect: found[2] ?? 'json-schema' });
  }
  return out.length > 0 ? out : undefined;
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
