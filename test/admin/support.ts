// Shared by the admin API tests: admin calls (from test/helpers/admin.ts), SDK clients pointed at
// a test server, and a small Prometheus text-format parser (so metric checks compare numbers, never substrings).
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

// The admin API calls themselves live in test/helpers/admin.ts, shared with the other folders.
export { admin, assertAdminError, listRules, type AdminCallOptions, type AdminReply, type PresentedRule } from '../helpers/admin.ts';

export const UNKNOWN = 'Nothing configured answers this prompt (admin test fallback).';
export const OPENAI_MODEL = 'gpt-4o-mini';
export const ANTHROPIC_MODEL = 'claude-sonnet-5-5';

export function openaiClient(server: { url: string }, apiKey = 'sk-admin-test'): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
}

export function anthropicClient(server: { url: string }, apiKey = 'sk-ant-admin-test'): Anthropic {
  return new Anthropic({ baseURL: server.url, apiKey, maxRetries: 0 });
}

export interface Answer {
  text: string;
  /** The `x-mockllm-match` header. */
  match: string | null;
}

/** Asks through the official OpenAI SDK; returns the answer text and the match header. */
export async function askOpenAI(client: OpenAI, prompt: string): Promise<Answer> {
  const { data, response } = await client.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: prompt }] }).withResponse();
  return { text: data.choices[0]!.message.content ?? '', match: response.headers.get('x-mockllm-match') };
}

/** Asks through the official Anthropic SDK; returns the answer text and the match header. */
export async function askAnthropic(client: Anthropic, prompt: string): Promise<Answer> {
  const { data, response } = await client.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 256, messages: [{ role: 'user', content: prompt }] }).withResponse();
  const text = data.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
  return { text, match: response.headers.get('x-mockllm-match') };
}

/** YAML for a config: a `responses` map, optional `rules` (prompt, answer, id?), fallback, settings. */
export function yamlConfig(options: {
  responses?: Record<string, string>;
  rules?: { prompt: string; text: string; id?: string }[];
  unknown?: string;
  settings?: string[];
}): string {
  const lines: string[] = [];
  if (options.responses) {
    lines.push('responses:');
    for (const [prompt, answer] of Object.entries(options.responses)) lines.push(`  ${JSON.stringify(prompt)}: ${JSON.stringify(answer)}`);
  }
  if (options.rules) {
    lines.push('rules:');
    for (const rule of options.rules) {
      lines.push(`  - match: {prompt: ${JSON.stringify(rule.prompt)}}`, `    response: {text: ${JSON.stringify(rule.text)}}`);
      if (rule.id !== undefined) lines.push(`    id: ${JSON.stringify(rule.id)}`);
    }
  }
  lines.push('defaults:', `  unknown_response: ${JSON.stringify(options.unknown ?? UNKNOWN)}`);
  if (options.settings) lines.push('settings:', ...options.settings.map((line) => `  ${line}`));
  return lines.join('\n') + '\n';
}

// --- Prometheus text exposition format -------------------------------------------------------

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` lines: metric family → type. */
  types: Map<string, string>;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!name) throw new Error(`bad label name in ${JSON.stringify(line)}`);
    i += name[0].length;
    if (text.slice(i, i + 2) !== '="') throw new Error(`expected =" after label ${name[0]} in ${JSON.stringify(line)}`);
    i += 2;
    let value = '';
    for (;;) {
      if (i >= text.length) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
      const c = text[i]!;
      if (c === '\\') {
        const next = text[i + 1];
        value += next === 'n' ? '\n' : next === '\\' ? '\\' : next === '"' ? '"' : `\\${next ?? ''}`;
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else {
        value += c;
        i++;
      }
    }
    if (Object.hasOwn(labels, name[0])) throw new Error(`label ${name[0]} repeated in ${JSON.stringify(line)}`);
    labels[name[0]] = value;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`expected , or } in ${JSON.stringify(line)}`);
  }
  return labels;
}

/** Values are read as Prometheus reads them (Go's ParseFloat): NaN and Inf in any letter case. */
function parseValue(text: string, line: string): number {
  const special = text.toLowerCase();
  if (special === 'nan') return NaN;
  if (special === 'inf' || special === '+inf' || special === 'infinity' || special === '+infinity') return Infinity;
  if (special === '-inf' || special === '-infinity') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad sample value in ${JSON.stringify(line)}`);
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`bad sample value in ${JSON.stringify(line)}`);
  return value;
}

/** Parses the text format strictly: every non-comment line must be `name{labels} value [ts]`. */
export function parsePrometheus(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      else if (!/^# HELP \S+ /.test(line)) throw new Error(`unexpected comment line ${JSON.stringify(line)}`);
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    samples.push({ name: match[1]!, labels: match[2] ? parseLabels(match[2], line) : {}, value: parseValue(match[3]!, line) });
  }
  return { samples, types };
}

export async function scrape(server: { url: string }): Promise<Exposition> {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parsePrometheus(await res.text());
}

/**
 * The value of the one sample named `name` whose labels are exactly `labels` (0 when absent, as
 * Prometheus treats a counter that has not been touched yet).
 */
export function value(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = exposition.samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted);
  assert.ok(found.length <= 1, `${found.length} samples for ${name}${wanted}`);
  return found[0]?.value ?? 0;
}

/** Every sample of a family, e.g. all `mockllm_http_requests_total` series. */
export function series(exposition: Exposition, name: string): Sample[] {
  return exposition.samples.filter((s) => s.name === name);
}
