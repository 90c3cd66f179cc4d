// `--record FILE`: every proxied exchange that completed normally becomes a rule in FILE, which is
// always a valid mockllm config (README.md, "Record and replay"). Writes are queued one at a time,
// each one reads what the file holds now, merges the new rule in, checks the result with the
// server's own config validation, and replaces the file atomically (a temporary file, then rename).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dump as dumpYaml, load as loadYaml } from 'js-yaml';
import { parseConfig } from '../config/load.ts';
import type { ConfigFile, LatencySpec, MatchSpec, ResponseObject, ResponseSpec, RuleSpec } from '../config/schema.ts';
import { assistantTurns, type Conversation } from '../engine/conversation.ts';
import { countTextTokens } from '../engine/tokens.ts';
import type { Logger } from '../observability/logger.ts';
import type { Recording } from '../providers/provider.ts';
import type { Scrubber } from './scrub.ts';

export interface RecordingFileOptions {
  path: string;
  /** Provider → upstream URL, named in the file's header comment (origins only). */
  upstreams: Readonly<Record<string, string>>;
  logger: Logger;
  clock?: () => Date;
}

const HEADER_MARK = '# Recorded by mockllm';

/** The conditions that pin one request of a recorded conversation (see README.md, "Record and replay"). */
export function recordedMatch(conversation: Conversation): MatchSpec {
  return {
    provider: conversation.provider,
    endpoint: conversation.endpoint,
    model: conversation.model,
    prompt: conversation.prompt,
    // What the last message is: the user's, or a tool's result (and whose), and how far into the
    // loop the conversation is, so two steps of one agent loop never share a rule.
    tool_result: conversation.toolResult ? (conversation.toolResult.name ?? true) : false,
    // Counted as the matcher counts them (one per model response, however many items it came as).
    assistant_turns: assistantTurns(conversation),
  };
}

/**
 * The upstream's timing as the rule's latency: `ttft_ms` is when the first content frame came;
 * the rest of the content is paced by `tokens_per_second` over the output tokens the replay counts
 * (the recorded usage, else the o200k count), so the stream takes as long whatever its chunking.
 */
export function latencyOf(contentAtMs: readonly number[], response: ResponseObject): LatencySpec | undefined {
  if (contentAtMs.length === 0) return undefined;
  const latency: LatencySpec = { ttft_ms: Math.round(contentAtMs[0]!) };
  const spanMs = contentAtMs.at(-1)! - contentAtMs[0]!;
  const tokens = response.usage?.output_tokens ?? response.usage?.completion_tokens ?? replayTokens(response);
  if (contentAtMs.length > 1 && spanMs >= 1 && tokens > 0) latency.tokens_per_second = Math.max(0.1, Math.round((tokens / (spanMs / 1000)) * 10) / 10);
  return latency;
}

function replayTokens(response: ResponseObject): number {
  let tokens = response.text === undefined ? 0 : countTextTokens(response.text);
  for (const call of response.tool_calls ?? []) {
    tokens += countTextTokens(call.name) + countTextTokens(typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}));
  }
  return tokens;
}

/** A stable id per match: the same request recorded twice lands on the same rule. */
function ruleIdOf(match: MatchSpec): string {
  return `rec-${String(match.provider)}-${createHash('sha256').update(canonical(match)).digest('hex').slice(0, 16)}`;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** One sequence step more: a second identical request makes the rule a sequence, in the order seen. */
function appendStep(existing: ResponseSpec, next: ResponseSpec): ResponseSpec {
  if (typeof existing === 'object' && existing.sequence) return { ...existing, sequence: [...existing.sequence, next] };
  return { sequence: [existing, next] };
}

export class RecordingFile {
  readonly path: string;
  readonly #options: RecordingFileOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: RecordingFileOptions) {
    this.path = options.path;
    this.#options = options;
  }

  /** Appends one exchange as a rule (or a sequence step). Resolves once the file is written; never rejects (failures are logged). */
  record(conversation: Conversation, recording: Recording, scrubber: Scrubber, stream: boolean): Promise<void> {
    const match = scrubber.deep(recordedMatch(conversation));
    const response: ResponseObject = scrubber.deep(recording.response);
    if (stream && recording.contentAtMs && response.error === undefined) {
      const latency = latencyOf(recording.contentAtMs, response);
      if (latency) response.latency = latency;
    }
    if (match.prompt !== conversation.prompt) this.#options.logger.warn({ path: this.path }, 'recorded prompt held a credential-shaped string: it is redacted, so the rule will not match that prompt again');
    const write = this.#queue.then(() => this.#write(match, response));
    this.#queue = write.catch(() => {});
    return write.then(
      (id) => this.#options.logger.info({ path: this.path, ruleId: id, provider: match.provider, endpoint: match.endpoint }, 'recorded upstream answer'),
      (error: unknown) => this.#options.logger.error({ err: error, path: this.path }, 'could not write the recording'),
    );
  }

  /** Waits for every queued write. */
  async flushed(): Promise<void> {
    await this.#queue;
  }

  async #write(match: MatchSpec, response: ResponseObject): Promise<string> {
    const { text: previous, doc } = this.#read();
    const rules: RuleSpec[] = [...(doc.rules ?? [])];
    const key = canonical(match);
    const index = rules.findIndex((rule) => canonical(rule.match ?? {}) === key);
    let id: string;
    if (index >= 0) {
      const existing = rules[index]!;
      id = existing.id ?? ruleIdOf(match);
      rules[index] = { ...existing, response: appendStep(existing.response, response) };
    } else {
      id = ruleIdOf(match);
      const taken = new Set(rules.map((r) => r.id));
      for (let n = 2; taken.has(id); n++) id = `${ruleIdOf(match)}-${n}`;
      rules.push({ id, match, response });
    }
    const next: ConfigFile = { ...doc, rules };
    const text = `${this.#header(previous)}${dumpYaml(next, { lineWidth: -1, noRefs: true })}`;
    // Only a file the server would load replaces the old one: "FILE is always a valid config".
    parseConfig(text, this.path);
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, text, { mode: 0o644 });
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return id;
  }

  #read(): { text: string; doc: ConfigFile } {
    if (!existsSync(this.path)) return { text: '', doc: {} };
    const text = readFileSync(this.path, 'utf8');
    if (text.trim() === '') return { text, doc: {} };
    // A file that does not load is left alone rather than overwritten: it may be someone's work.
    const loaded = parseConfig(text, this.path);
    return { text, doc: (loadYaml(text) as ConfigFile | null) ?? loaded.doc };
  }

  /** When and from which upstreams the file was recorded; an earlier header's first date and upstreams are kept. */
  #header(previous: string): string {
    const now = (this.#options.clock?.() ?? new Date()).toISOString();
    const upstreams = new Set(Object.entries(this.#options.upstreams).map(([provider, url]) => `${provider}=${originOf(url)}`));
    let first = now;
    if (previous.startsWith(HEADER_MARK)) {
      const from = /^# Recorded by mockllm from (.+)$/m.exec(previous)?.[1];
      for (const one of from?.split(', ') ?? []) upstreams.add(one.trim());
      first = /^# First recorded (\S+), last/m.exec(previous)?.[1] ?? now;
    }
    return (
      `${HEADER_MARK} from ${[...upstreams].sort().join(', ')}\n` +
      `# First recorded ${first}, last recorded ${now} (mockllm --upstream … --record).\n` +
      '# Replay with: mockllm --config <this file>. Each rule answers one request of a recorded\n' +
      '# conversation; `latency` is the upstream\'s own timing (delete it to answer at once).\n'
    );
  }
}

/** The URL's origin and path, without credentials or query (a key in the URL must not reach the file). */
export function originOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '[invalid url]';
  }
}
