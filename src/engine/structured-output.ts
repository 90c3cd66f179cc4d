// Structured outputs in no provider's words: when a request asks for JSON against a schema, the
// answer it gets validates against it; `arguments: auto` tool calls get arguments valid against the
// tool's declared schema. Every provider's parser fills Conversation.responseSchema/toolSchemas;
// decide() calls conformAnswer() on the answer before planning the reply.
import type { Conversation } from './conversation.ts';
import { TextReply } from './reply.ts';
import { resolveText, type CompiledToolCall, type ErrorAnswer, type TextAnswer, type ToolCallsAnswer } from './response.ts';
import type { Rule } from './rules.ts';
import { checkInstance, compileSchema, generateInstance, hashString } from './schema-instance.ts';

export type Conformed =
  | { kind: 'answer'; answer: TextAnswer | ToolCallsAnswer; mismatch: string | undefined }
  | { kind: 'error'; error: ErrorAnswer };

/**
 * What makes generated values this request's own: its instructions and every turn. Hashed, so the
 * same conversation gets the same JSON in every run and every process.
 */
function requestSeed(conversation: Conversation): string {
  let text = `${conversation.system}\u0001`;
  for (const message of conversation.messages) text += `${message.role}\u0002${message.text}\u0001`;
  return hashString(text).toString(36);
}

function ruleName(rule: Rule | null): string {
  return rule ? `rule ${rule.id}` : 'defaults.unknown_response';
}

function mockError(message: string): ErrorAnswer {
  return { kind: 'error', status: 400, message, type: undefined, code: undefined, retryAfterSeconds: undefined };
}


/**
 * Tool calls with `arguments: auto` get arguments generated against the tool's declared schema;
 * a tool the request does not declare is an error (the real APIs never call an undeclared tool).
 */
function conformCalls(rule: Rule | null, answer: ToolCallsAnswer, conversation: Conversation): { answer: ToolCallsAnswer; mismatch: string | undefined } | ErrorAnswer {
  const seed = requestSeed(conversation);
  let mismatch: string | undefined;
  const calls: CompiledToolCall[] = [];
  for (const [index, call] of answer.calls.entries()) {
    if (!call.auto) {
      calls.push(call);
      continue;
    }
    const declared = conversation.toolSchemas?.find((tool) => tool.name === call.name);
    if (!declared) {
      const offered = conversation.tools.length > 0 ? conversation.tools.map((name) => `"${name}"`).join(', ') : 'none';
      return mockError(`mockllm: ${ruleName(rule)} calls the tool "${call.name}" with arguments: auto, but this request declares no tool of that name (declared: ${offered}).`);
    }
    const compiled = compileSchema(declared.schema ?? { type: 'object' }, declared.dialect);
    const { value, error } = generateInstance(compiled, { seed: `${seed}\u0000tool\u0000${call.name}\u0000${index}`, hint: conversation.prompt });
    if (error) mismatch ??= `${ruleName(rule)}: generated arguments for ${call.name} fail its schema: ${error}`;
    const input = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    calls.push({ name: call.name, argumentsJson: JSON.stringify(input), input, id: call.id });
  }
  return { answer: { ...answer, calls }, mismatch };
}

/**
 * The answer as a request for structured output gets it:
 * - `json: auto` → JSON generated from the schema (`{}` when the request names none);
 * - text that is valid JSON against the schema → sent as it is;
 * - text that is not JSON at all (prose, the default answer) → generated JSON, as a model
 *   constrained to the schema would answer;
 * - text that is JSON but fails the schema → reported (`mismatch`: the response header and a warn
 *   log line name the rule and the ajv error). In strict mode it is sent as written: the rule is the
 *   test's own fixture, and a client that parses it fails where the test author looks, instead of
 *   passing on values the author never wrote. Otherwise generated JSON is sent, as the real APIs
 *   (constrained decoding) never answer outside the schema.
 */
function conformText(rule: Rule | null, answer: TextAnswer, conversation: Conversation): { answer: TextAnswer; mismatch: string | undefined } {
  const requested = conversation.responseSchema;
  if (!requested) return answer.json === 'auto' ? { answer: { ...answer, text: new TextReply('{}') }, mismatch: undefined } : { answer, mismatch: undefined };
  // Compiled once per distinct schema (schema-instance.ts caches it), looked up once per request.
  const compiled = compileSchema(requested.schema, requested.dialect);
  const generate = (): { answer: TextAnswer; error: string | undefined } => {
    const { value, error } = generateInstance(compiled, { seed: requestSeed(conversation), hint: conversation.prompt });
    return { answer: { ...answer, text: new TextReply(JSON.stringify(value)) }, error };
  };
  const reportGenerated = (error: string | undefined) => (error ? `generated JSON fails ${requested.source}: ${error}` : undefined);
  if (answer.json === 'auto') {
    const generated = generate();
    return { answer: generated.answer, mismatch: reportGenerated(generated.error) };
  }
  const text = resolveText(answer.text, conversation);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.text);
  } catch {
    const generated = generate();
    return { answer: generated.answer, mismatch: reportGenerated(generated.error) };
  }
  const error = checkInstance(compiled, parsed);
  if (error === undefined) return { answer: { ...answer, text }, mismatch: undefined };
  if (rule === null) {
    const generated = generate();
    return { answer: generated.answer, mismatch: reportGenerated(generated.error) };
  }
  const mismatch = `${ruleName(rule)}: its JSON fails ${requested.source}: ${error}`;
  if (requested.strict) return { answer: { ...answer, text }, mismatch: `${mismatch} (sent as written: strict mode)` };
  return { answer: generate().answer, mismatch: `${mismatch} (generated JSON sent instead)` };
}

/**
 * A request that forces one tool gets a call to it, whatever text the answer holds: the real APIs
 * always call a forced tool. The text is the arguments when it is JSON valid against the tool's
 * schema (a rule written for the tool-based structured output of LangChain or the AI SDK);
 * otherwise they are generated, and a rule's JSON that fails the schema is reported as above.
 */
function forcedCall(rule: Rule | null, answer: TextAnswer, conversation: Conversation, name: string): { answer: ToolCallsAnswer; mismatch: string | undefined } {
  const declared = conversation.toolSchemas?.find((tool) => tool.name === name);
  const compiled = compileSchema(declared?.schema ?? { type: 'object' }, declared?.dialect ?? 'json-schema');
  let input: unknown;
  let mismatch: string | undefined;
  if (answer.json !== 'auto') {
    const text = resolveText(answer.text, conversation).text;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) {
      const error = checkInstance(compiled, parsed);
      if (error === undefined) input = parsed;
      else if (rule) mismatch = `${ruleName(rule)}: its JSON fails the schema of the forced tool ${name}: ${error} (generated arguments sent instead)`;
    }
  }
  if (input === undefined) {
    const generated = generateInstance(compiled, { seed: `${requestSeed(conversation)}\u0000tool\u0000${name}\u00000`, hint: conversation.prompt });
    input = generated.value;
    if (generated.error) mismatch ??= `${ruleName(rule)}: generated arguments for ${name} fail its schema: ${generated.error}`;
  }
  const args = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  const call: CompiledToolCall = { name, argumentsJson: JSON.stringify(args), input: args, id: undefined };
  const { json: _json, text: _text, ...rest } = answer;
  return { answer: { ...rest, kind: 'tool_calls', text: undefined, calls: [call], delivery: { ...answer.delivery, finish: { reason: 'tool_calls' } } }, mismatch };
}

/**
 * The answer made to fit what the request asks of its structure, or the error when it cannot be;
 * undefined (nothing allocated) when the request asks nothing of it, as nearly every request.
 */
export function conformAnswer(rule: Rule | null, answer: TextAnswer | ToolCallsAnswer, conversation: Conversation): Conformed | undefined {
  if (answer.kind === 'tool_calls') {
    if (!answer.calls.some((call) => call.auto)) return undefined;
    const result = conformCalls(rule, answer, conversation);
    return 'kind' in result ? { kind: 'error', error: result } : { kind: 'answer', ...result };
  }
  if (conversation.forcedTool !== undefined) return { kind: 'answer', ...forcedCall(rule, answer, conversation, conversation.forcedTool) };
  if (!conversation.responseSchema && answer.json === undefined) return undefined;
  return { kind: 'answer', ...conformText(rule, answer, conversation) };
}
