// The generateContent request (API-FORMATS §11 "Request"): validated with the API's own wording
// (a proto field path such as `GenerateContentRequest.contents[0].parts`) and normalised into the
// neutral conversation.
import { withoutClientReminders, type Conversation, type ConversationMessage, type ToolResult } from '../../engine/conversation.ts';
import type { RequestInfo } from '../provider.ts';
import { geminiStructure } from './structured.ts';
import { invalidArgument, shown } from './errors.ts';

export interface Part {
  text?: string;
  thought?: boolean;
  inlineData?: { mimeType?: string; data?: string };
  fileData?: { mimeType?: string; fileUri?: string };
  functionCall?: { name?: string; args?: Record<string, unknown>; id?: string };
  functionResponse?: { name?: string; response?: Record<string, unknown>; id?: string };
}

export interface Content {
  role?: string;
  parts: Part[];
}

export interface GenerateContentBody {
  contents: Content[];
  systemInstruction?: Content;
  tools?: { functionDeclarations?: { name?: string }[] }[];
  generationConfig?: Record<string, unknown>;
}

export interface GenerateRequest {
  body: GenerateContentBody;
  /** The model as the path names it, without `models/` or a publisher prefix. */
  model: string;
  /** `?alt=sse`: SSE frames; otherwise a streamed JSON array. */
  sse: boolean;
  stream: boolean;
  /** The estimated promptTokenCount, counted while parsing (a body too deep to count is a 400). */
  promptTokens: number;
}

// Every field of GenerateContentRequest (https://ai.google.dev/api/generate-content#request-body);
// strict mode refuses others, as the proto JSON parser does (`Unknown name "x": Cannot find field.`).
const FIELDS = new Set([
  'model', 'contents', 'systemInstruction', 'tools', 'toolConfig', 'safetySettings', 'generationConfig', 'cachedContent',
  'labels', 'serviceTier', 'store', 'continuationToken', 'modelArmorConfig',
]);
const ROLES = ['user', 'model', 'function'];
const PART_DATA = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult', 'toolCall', 'toolResponse'];

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Strips what clients put before a model id: `models/`, `tunedModels/`, `publishers/google/models/`. */
export function modelIdOf(raw: string): string {
  return raw.replace(/^(?:.*\/)?models\//, '');
}

function checkContent(content: unknown, at: string, isSystem: boolean): void {
  if (!isObject(content)) {
    throw invalidArgument(`Invalid JSON payload received. Expected an object for "${at}", got ${shown(content)}.`);
  }
  const { role, parts } = content;
  if (role !== undefined && (typeof role !== 'string' || (!isSystem && role !== '' && !ROLES.includes(role)))) {
    throw invalidArgument('Please use a valid role: user, model.');
  }
  if (parts === undefined) throw invalidArgument(`* GenerateContentRequest.${at}.parts: contents.parts must not be empty.\n`);
  if (!Array.isArray(parts)) throw invalidArgument(`Invalid value at '${at}.parts' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part), ${shown(parts)}`);
  if (parts.length === 0) throw invalidArgument(`* GenerateContentRequest.${at}.parts: contents.parts must not be empty.\n`);
  parts.forEach((part, index) => {
    const where = `${at}.parts[${index}]`;
    if (!isObject(part)) throw invalidArgument(`Invalid JSON payload received. Expected an object for "${where}", got ${shown(part)}.`);
    if (part.text !== undefined && typeof part.text !== 'string') throw invalidArgument(`Invalid value at '${where}.text' (TYPE_STRING), ${shown(part.text)}`);
    if (!PART_DATA.some((key) => part[key] !== undefined)) {
      throw invalidArgument(`* GenerateContentRequest.${where}.data: required oneof field 'data' must have one initialized field\n`);
    }
    for (const key of ['functionCall', 'functionResponse'] as const) {
      const value = part[key];
      if (value === undefined) continue;
      if (!isObject(value)) throw invalidArgument(`Invalid JSON payload received. Expected an object for "${where}.${key}", got ${shown(value)}.`);
      if (typeof value.name !== 'string' || value.name === '') throw invalidArgument(`* GenerateContentRequest.${where}.${key}.name: Name cannot be empty.\n`);
    }
    if (part.inlineData !== undefined && (!isObject(part.inlineData) || typeof part.inlineData.mimeType !== 'string' || typeof part.inlineData.data !== 'string')) {
      throw invalidArgument(`* GenerateContentRequest.${where}.inline_data: inline_data must have mime_type and data.\n`);
    }
  });
}

/** Throws INVALID_ARGUMENT for what the real API refuses; returns the body typed. */
export function validateGenerateBody(body: unknown, strict: boolean, name = 'GenerateContentRequest'): GenerateContentBody {
  if (!isObject(body)) throw invalidArgument(`Invalid JSON payload received. Expected an object, got ${shown(body)}.`);
  if (strict) {
    const unknown = Object.keys(body).find((key) => !FIELDS.has(key));
    if (unknown !== undefined) throw invalidArgument(`Invalid JSON payload received. Unknown name "${unknown}": Cannot find field.`);
  }
  const { contents, systemInstruction, tools, generationConfig } = body;
  if (contents === undefined || (Array.isArray(contents) && contents.length === 0)) throw invalidArgument(`* ${name}.contents: contents is not specified\n`);
  if (!Array.isArray(contents)) throw invalidArgument(`Invalid value at 'contents' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${shown(contents)}`);
  contents.forEach((content, index) => checkContent(content, `contents[${index}]`, false));
  // @google/genai turns a string system instruction into a Content; a raw string is accepted too.
  if (systemInstruction !== undefined && typeof systemInstruction !== 'string') checkContent(systemInstruction, 'system_instruction', true);
  if (tools !== undefined) {
    if (!Array.isArray(tools)) throw invalidArgument(`Invalid value at 'tools' (type.googleapis.com/google.ai.generativelanguage.v1beta.Tool), ${shown(tools)}`);
    tools.forEach((tool, index) => {
      if (!isObject(tool)) throw invalidArgument(`Invalid JSON payload received. Expected an object for "tools[${index}]", got ${shown(tool)}.`);
      const declarations = tool.functionDeclarations ?? tool.function_declarations;
      if (declarations === undefined) return;
      if (!Array.isArray(declarations)) throw invalidArgument(`Invalid value at 'tools[${index}].function_declarations' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionDeclaration), ${shown(declarations)}`);
      declarations.forEach((declaration, j) => {
        if (!isObject(declaration) || typeof declaration.name !== 'string' || declaration.name === '') {
          throw invalidArgument(`* GenerateContentRequest.tools[${index}].function_declarations[${j}].name: [FIELD_INVALID] Invalid function name. Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length of 128.\n`);
        }
      });
    });
  }
  if (generationConfig !== undefined) checkGenerationConfig(generationConfig);
  return body as unknown as GenerateContentBody;
}

function checkGenerationConfig(config: unknown): void {
  if (!isObject(config)) throw invalidArgument(`Invalid JSON payload received. Expected an object for "generation_config", got ${shown(config)}.`);
  const number = (key: string, min: number, max: number) => {
    const value = config[key];
    if (value === undefined || value === null) return;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArgument(`Invalid value at 'generation_config.${snake(key)}' (TYPE_FLOAT), ${shown(value)}`);
    if (value < min || value > max) throw invalidArgument(`* GenerateContentRequest.generation_config.${snake(key)}: must be in the range [${min}, ${max}].\n`);
  };
  number('temperature', 0, 2);
  number('topP', 0, 1);
  const integer = (key: string, min: number) => {
    const value = config[key];
    if (value === undefined || value === null) return;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidArgument(`Invalid value at 'generation_config.${snake(key)}' (TYPE_INT32), ${shown(value)}`);
    if (value < min) throw invalidArgument(`* GenerateContentRequest.generation_config.${snake(key)}: must be at least ${min}.\n`);
  };
  integer('maxOutputTokens', 1);
  integer('candidateCount', 1);
  integer('topK', 1);
  const mime = config.responseMimeType;
  if (mime !== undefined && mime !== null && (typeof mime !== 'string' || !['text/plain', 'application/json', 'text/x.enum', 'application/xml', 'application/yaml'].includes(mime))) {
    throw invalidArgument(`* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are \`text/plain\`, \`application/json\`, \`application/xml\`, \`application/yaml\` and \`text/x.enum\`.\n`);
  }
  if ((config.responseSchema !== undefined || config.responseJsonSchema !== undefined) && mime !== 'application/json' && mime !== 'text/x.enum') {
    throw invalidArgument('* GenerateContentRequest.generation_config.response_mime_type: must be set to application/json or text/x.enum when response_schema is set.\n');
  }
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A part's text for matching: its own text (thought summaries aside). */
function textOf(content: Content | string | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.parts
    .filter((part) => typeof part.text === 'string' && part.thought !== true)
    .map((part) => part.text)
    .join('\n');
}

const isFunctionResponse = (part: Part) => part.functionResponse !== undefined;
const onlyFunctionResponses = (content: Content) => content.parts.length > 0 && content.parts.every(isFunctionResponse);

/**
 * JSON text of a request value. A value nested too deeply for JSON.stringify (a RangeError) is the
 * client's fault, as the proto parser's nesting limit makes it on the real API.
 */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    throw invalidArgument('Invalid JSON payload received. Too deep nesting.');
  }
}

/** What a function result says, as text: the AI SDK's `{name, content}`, else the response object as JSON. */
function resultText(response: Record<string, unknown> | undefined): string {
  if (!response) return '';
  for (const key of ['content', 'output', 'result']) if (typeof response[key] === 'string') return response[key];
  return jsonText(response);
}

function lastToolResult(contents: readonly Content[]): ToolResult | undefined {
  const last = contents.at(-1);
  if (!last) return undefined;
  const result = [...last.parts].reverse().find(isFunctionResponse)?.functionResponse;
  return result ? { name: result.name, content: resultText(result.response), ...(result.id !== undefined && { callId: result.id }) } : undefined;
}

export function conversationOf(body: GenerateContentBody, model: string, endpoint: string, stream: boolean, info: RequestInfo): Conversation {
  const messages: ConversationMessage[] = body.contents.map((content) => ({
    role: content.role === 'model' ? 'assistant' : content.role === 'function' || onlyFunctionResponses(content) ? 'tool' : 'user',
    text: content.parts.some(isFunctionResponse) ? content.parts.filter(isFunctionResponse).map((p) => resultText(p.functionResponse!.response)).join('\n') : textOf(content),
  }));
  // A turn that only carries function results is the tool talking, not the user: the prompt is the
  // last turn the user wrote.
  let prompt = '';
  for (let i = body.contents.length - 1; i >= 0; i--) {
    const content = body.contents[i]!;
    if (content.role === 'model' || content.role === 'function' || onlyFunctionResponses(content)) continue;
    prompt = withoutClientReminders(textOf(content));
    break;
  }
  const tools: string[] = [];
  for (const tool of body.tools ?? []) {
    const declarations = tool.functionDeclarations ?? (tool as { function_declarations?: { name?: string }[] }).function_declarations ?? [];
    for (const declaration of declarations) if (typeof declaration.name === 'string') tools.push(declaration.name);
  }
  return {
    provider: 'gemini',
    endpoint,
    model,
    system: textOf(body.systemInstruction),
    messages,
    prompt,
    tools,
    toolResult: lastToolResult(body.contents),
    stream,
    header: info.header,
    ...geminiStructure(body, info.strict),
  };
}
