// AWS Signature Version 4 for proxied requests (Bedrock's `--upstream`). A client that signed its
// request with SigV4 signed it for the mock's host, so the signature cannot be forwarded: the
// request is signed again for the upstream's host with the mock's own credentials.
//
// Written from AWS's description of the algorithm
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) on node:crypto,
// rather than taking @smithy/signature-v4: that package pulls in @smithy/core (about 7 MB) for
// some sixty lines of hashing. test/proxy/bedrock-*.test.ts checks these signatures with the AWS
// SDK's own signer.
import { createHash, createHmac } from 'node:crypto';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The standard AWS environment variables (https://docs.aws.amazon.com/sdkref/latest/guide/feature-static-credentials.html); empty values count as unset. */
export function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
}

/** The region and service a SigV4 Authorization header was scoped to (`Credential=AKID/date/region/service/aws4_request`). */
export function scopeOf(authorization: string): { region: string; service: string } | undefined {
  const match = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/.exec(authorization);
  return match ? { region: match[1]!, service: match[2]! } : undefined;
}

/** True for an Authorization header signed with SigV4. */
export const isSigV4 = (authorization: string | undefined): boolean => authorization !== undefined && authorization.trimStart().startsWith(`${SIGV4_ALGORITHM} `);

/**
 * The region to sign for: the one in the upstream's host (`bedrock-runtime.us-east-1.amazonaws.com`,
 * FIPS and VPC endpoint names alike), else the mock's AWS_REGION / AWS_DEFAULT_REGION, else the
 * region the client signed for.
 */
export function signingRegion(upstreamHost: string, env: Readonly<Record<string, string | undefined>>, clientRegion: string | undefined): string {
  const fromHost = /(?:^|\.)[a-z0-9-]+?(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/.exec(upstreamHost.replace(/:\d+$/, ''));
  return fromHost?.[1] ?? (env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || clientRegion || 'us-east-1');
}

/** RFC 3986 percent-encoding: everything but the unreserved characters (A–Z a–z 0–9 - . _ ~). */
const encodeRfc3986 = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The canonical URI: the path normalised (empty and `.` segments dropped, `..` resolved) and each
 * segment encoded again, as every service but S3 expects: the path as sent is already encoded once
 * (`v1%3A0`), so the canonical form encodes it twice (`v1%253A0`).
 */
function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(encodeRfc3986(segment));
  }
  if (segments.length === 0) return '/';
  return `/${segments.join('/')}${path.endsWith('/') ? '/' : ''}`;
}

/** Query parameters encoded and sorted by name, then value. */
function canonicalQuery(search: string): string {
  const pairs = [...new URLSearchParams(search)].map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const);
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** `20260101T120000Z` and `20260101`. */
function amzDates(now: Date): { long: string; short: string } {
  const long = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return { long, short: long.slice(0, 8) };
}

/** A header is signed when it is the host, the content type, or one of AWS's own (`x-amz-*`): the ones AWS requires signed. */
const SIGNED = (name: string) => name === 'host' || name === 'content-type' || name.startsWith('x-amz-');

export interface SignInput {
  method: string;
  url: URL;
  /** Lower-case names; every value a string. `host`, `x-amz-date` and `x-amz-security-token` are set here. */
  headers: Record<string, string>;
  body: string | Buffer;
  credentials: AwsCredentials;
  region: string;
  service: string;
  now?: Date;
}

/**
 * Signs a request in place (returns its headers): sets `host` and `x-amz-date` (and
 * `x-amz-security-token` for temporary credentials) and the Authorization header over the host,
 * the content type, every `x-amz-*` header and the SHA-256 of the body.
 */
export function signSigV4(input: SignInput): Record<string, string> {
  const { headers, credentials } = input;
  const { long, short } = amzDates(input.now ?? new Date());
  headers.host = input.url.host;
  headers['x-amz-date'] = long;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  else delete headers['x-amz-security-token'];
  const names = Object.keys(headers).filter(SIGNED).sort();
  const canonicalHeaders = names.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [input.method.toUpperCase(), canonicalUri(input.url.pathname), canonicalQuery(input.url.search), canonicalHeaders, signedHeaders, sha256Hex(input.body)].join('\n');
  const scope = `${short}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, long, scope, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, short);
  for (const part of [input.region, input.service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  headers.authorization = `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
