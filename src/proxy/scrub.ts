// Keeps credentials out of recorded files: the client's own credentials (whatever their shape)
// and anything shaped like a provider's API key are replaced before a rule is written.
import { isCredentialHeader } from '../observability/logger.ts';

export const REDACTED = '[REDACTED]';

/**
 * Key shapes, from the providers' documentation of their key formats: OpenAI `sk-…` (and
 * `sk-proj-…`), Anthropic `sk-ant-…`, Google `AIza…` (39 characters), AWS access key ids
 * (`AKIA…`/`ASIA…`, 20 characters), an AWS secret access key next to its name, and bearer tokens.
 * `sk-` needs a digit in what follows, so hyphenated words (`sk-learn-…`) are left alone.
 */
const KEY_SHAPES: readonly RegExp[] = [
  /\bsk-(?=[A-Za-z0-9_-]{0,300}\d)[A-Za-z0-9_-]{20,}/g,
  /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
  /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g,
  /((?:aws_?secret_?access_?key|secretAccessKey)["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/gi,
  /(\bBearer\s+)[A-Za-z0-9._~+/=-]{16,}/g,
];


/** Credentials shorter than this are not searched for verbatim: they would scrub ordinary words. */
const MIN_SECRET_LENGTH = 8;

export class Scrubber {
  readonly #secrets: string[];

  /** `secrets`: the exact credential values the client sent, removed wherever they appear. */
  constructor(secrets: Iterable<string> = []) {
    const unique = new Set<string>();
    for (const secret of secrets) {
      const value = secret.trim();
      if (value.length >= MIN_SECRET_LENGTH) unique.add(value);
    }
    // Longest first, so a value that contains another is removed whole.
    this.#secrets = [...unique].sort((a, b) => b.length - a.length);
  }

  /** The client's credentials: values of credential headers (a bearer token without its scheme) and of `key`-like query parameters; `extra`: more secrets (the mock's own). */
  static fromRequest(headers: Record<string, string | string[] | undefined>, query: URLSearchParams, extra: readonly string[] = []): Scrubber {
    const secrets: string[] = [...extra];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || !isCredentialHeader(name)) continue;
      for (const one of [value].flat()) {
        secrets.push(one);
        const scheme = /^\s*\S+\s+(.+)$/.exec(one);
        if (scheme) secrets.push(scheme[1]!);
        // AWS Signature V4: Credential=AKIA…/date/region/service/aws4_request, Signature=…
        for (const part of one.matchAll(/(?:Credential|Signature)=([^,/\s]+)/g)) secrets.push(part[1]!);
      }
    }
    for (const [name, value] of query) if (/key|token|signature|credential/i.test(name)) secrets.push(value);
    return new Scrubber(secrets);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const shape of KEY_SHAPES) out = out.replace(shape, (_whole, prefix?: unknown) => (typeof prefix === 'string' ? prefix : '') + REDACTED);
    return out;
  }

  /** A copy of a JSON-like value with every string (keys included) scrubbed. */
  deep<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((item) => this.deep(item)) as T;
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[this.text(key)] = this.deep(item);
      return out as T;
    }
    return value;
  }
}
