// A fake Bedrock endpoint for the proxy tests: it checks each request's credentials as AWS would
// (a SigV4 signature for its own host, verified with the AWS SDK's signer, or the Bedrock API key
// as a bearer token) and passes what it accepts on to a mockllm playing the API, streaming the
// answer back as it comes; what it refuses gets Bedrock's 403.
import { createHash, createHmac } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

const bytesOf = (data: string | ArrayBuffer | ArrayBufferView): string | Buffer =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

/** The SDK signer's hash (its `Checksum` interface) on node:crypto: a keyed one is an HMAC. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {}
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Verifies a SigV4 Authorization header with @smithy/signature-v4: the request is signed again
 * from the headers it lists as signed, at the time in its x-amz-date, and the result must be the
 * header received. Returns why it is refused, or undefined.
 */
export async function verifySigV4(
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined> },
  body: Buffer,
  credentials: AwsCredentials,
  expect: { region: string; service: string; host: string },
): Promise<string | undefined> {
  const authorization = String(request.headers.authorization ?? '');
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!match) return `not a SigV4 authorization: ${authorization.slice(0, 40)}`;
  const [, keyId, , region, service, signedHeaders] = match;
  if (keyId !== credentials.accessKeyId) return `signed with key ${keyId}, not ${credentials.accessKeyId}`;
  if (region !== expect.region || service !== expect.service) return `scoped to ${region}/${service}, not ${expect.region}/${expect.service}`;
  if (request.headers.host !== expect.host) return `host ${String(request.headers.host)}, not ${expect.host}`;
  const names = signedHeaders!.split(';');
  if (!names.includes('host')) return 'host is not signed';
  const headers: Record<string, string> = {};
  for (const name of names) headers[name] = String(request.headers[name] ?? '');
  const amzDate = headers['x-amz-date'] ?? '';
  const at = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(amzDate);
  if (!at) return `bad x-amz-date ${amzDate}`;
  const signingDate = new Date(Date.UTC(+at[1]!, +at[2]! - 1, +at[3]!, +at[4]!, +at[5]!, +at[6]!));
  if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return 'x-amz-date too far from now';
  const url = new URL(request.url, `http://${expect.host}`);
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const had = query[name];
    query[name] = had === undefined ? value : [had, value].flat();
  }
  const signer = new SignatureV4({ credentials, region: expect.region, service: expect.service, sha256: NodeSha256, uriEscapePath: true, applyChecksum: false });
  const signed = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers, body },
    { signingDate },
  );
  return signed.headers.authorization === authorization ? undefined : 'the signature does not match';
}

export interface Seen {
  path: string;
  auth: 'sigv4' | 'bearer' | 'none';
  refused?: string;
  /** The headers as received (credentials included: the test checks they never reach the file). */
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeBedrock {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** The fake endpoint on 127.0.0.1, in front of `target` (a mockllm). */
export async function fakeBedrock(target: string, accept: { credentials: AwsCredentials; region: string; bearer: string }): Promise<FakeBedrock> {
  const seen: Seen[] = [];
  let host = '';
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const authorization = String(req.headers.authorization ?? '');
    const auth: Seen['auth'] = authorization.startsWith('AWS4-HMAC-SHA256 ') ? 'sigv4' : authorization.startsWith('Bearer ') ? 'bearer' : 'none';
    const refused =
      auth === 'sigv4'
        ? await verifySigV4({ method: req.method!, url: req.url!, headers: req.headers }, body, accept.credentials, { region: accept.region, service: 'bedrock', host })
        : auth === 'bearer'
          ? authorization === `Bearer ${accept.bearer}` ? undefined : 'unknown API key'
          : 'no credentials';
    seen.push({ path: req.url!, auth, headers: { ...req.headers }, ...(refused && { refused }) });
    if (refused) {
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/' });
      res.end(JSON.stringify({ message: `fake bedrock refused the request: ${refused}` }));
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    const forward = httpRequest(`${target}${req.url}`, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    forward.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
