// Shared config, clients and a test-side event-stream decoder for the Bedrock tests. The decoder is
// written from API-FORMATS §17 (not the SDK's codec), so frames are checked independently of the
// clients that read them.
import { crc32 } from 'node:zlib';
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
export const CREDENTIALS = { accessKeyId: 'AKIAMOCKLLMEXAMPLE', secretAccessKey: 'mockllm-secret-key-example' };
export const REGION = 'us-east-1';

export const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
export const HELLO = 'Hello from Bedrock, through the mock.';
export const CHECKING = 'Let me check the weather.';
export const WEATHER_ARGS = { city: 'Paris', unit: 'celsius' };
export const WEATHER_FINAL = 'It is 18°C and sunny in Paris.';
export const THROTTLED = 'Too many requests, please wait before trying again.';
export const NOT_READY = 'The model is warming up; try again shortly.';

export const CONFIG = `responses:
  "what colour is the sky?": ${JSON.stringify(SKY)}
  "hello": ${JSON.stringify(HELLO)}
rules:
  - id: weather-result
    priority: 10
    match: { tool_result: get_weather }
    response: ${JSON.stringify(WEATHER_FINAL)}
  - id: weather-call
    match: { contains: "weather", tools: get_weather }
    response:
      text: ${JSON.stringify(CHECKING)}
      tool_calls:
        - name: get_weather
          arguments: ${JSON.stringify(WEATHER_ARGS)}
  - id: throttled
    match: { prompt: "throttle me" }
    response: { error: { status: 429, message: ${JSON.stringify(THROTTLED)}, retry_after: 0.05 } }
  - id: not-ready
    match: { prompt: "not ready" }
    response: { error: { status: 429, type: ModelNotReadyException, message: ${JSON.stringify(NOT_READY)} } }
  - id: unavailable
    match: { prompt: "unavailable" }
    response: { error: { status: 503 } }
  - id: retried
    match: { prompt: "retry once" }
    response:
      sequence:
        - error: { status: 429, retry_after: 0.05 }
        - "Answered on the retry."
  - id: broken
    match: { prompt: "break mid-stream" }
    response: { text: "one two three four five six seven", chunking: word, fault: { fail_after_chunks: 3, mode: error_event } }
  - id: fixed-usage
    match: { prompt: "fixed usage" }
    response: { text: "Counted by the rule.", usage: { input_tokens: 321, output_tokens: 45 } }
  - id: which-provider
    match: { prompt: "which provider?", provider: bedrock }
    response: "{{provider}} at {{endpoint}} for {{model}}"
  - id: slow-start
    match: { prompt: "slow start" }
    response: { text: "Slowly, then all at once.", chunking: word, latency: { ttft_ms: 300 } }
  - id: cut-short
    match: { prompt: "cut short" }
    response: { text: "Cut", finish_reason: length }
`;

export type Transport = 'h2c' | 'http1';

/** The SDK with its default handler (cleartext HTTP/2) or with NodeHttpHandler (HTTP/1.1). */
export function runtimeClient(url: string, transport: Transport, extra: Partial<BedrockRuntimeClientConfig> = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: REGION,
    endpoint: url,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    ...(transport === 'http1' && { requestHandler: new NodeHttpHandler() }),
    ...extra,
  });
}

export interface EventMessage {
  headers: Record<string, string>;
  payload: string;
}

/**
 * Decodes a whole event-stream body: checks each message's prelude and message CRC32 and its
 * lengths, and that nothing is left over; throws on any mismatch. String headers only (type 7),
 * which is all Bedrock sends.
 */
export function decodeEventStream(body: Uint8Array): EventMessage[] {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const messages: EventMessage[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 16) throw new Error(`truncated message at ${offset}`);
    const total = bytes.readUInt32BE(offset);
    const headersLength = bytes.readUInt32BE(offset + 4);
    if (offset + total > bytes.length) throw new Error(`message at ${offset} claims ${total} bytes, ${bytes.length - offset} left`);
    const message = bytes.subarray(offset, offset + total);
    if (crc32(message.subarray(0, 8)) !== message.readUInt32BE(8)) throw new Error(`bad prelude CRC at ${offset}`);
    if (crc32(message.subarray(0, total - 4)) !== message.readUInt32BE(total - 4)) throw new Error(`bad message CRC at ${offset}`);
    const headers: Record<string, string> = {};
    let at = 12;
    const end = 12 + headersLength;
    while (at < end) {
      const nameLength = message[at]!;
      const name = message.toString('utf8', at + 1, at + 1 + nameLength);
      at += 1 + nameLength;
      const type = message[at]!;
      if (type !== 7) throw new Error(`header ${name} has type ${type}, not string`);
      const valueLength = message.readUInt16BE(at + 1);
      headers[name] = message.toString('utf8', at + 3, at + 3 + valueLength);
      at += 3 + valueLength;
    }
    if (at !== end) throw new Error(`headers overrun at ${offset}`);
    messages.push({ headers, payload: message.toString('utf8', end, total - 4) });
    offset += total;
  }
  return messages;
}

export const anthropicBody = (prompt: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 512, messages: [{ role: 'user', content: prompt }], ...extra });

export const WEATHER_TOOL_SPEC = {
  toolSpec: {
    name: 'get_weather',
    description: 'The weather in a city',
    inputSchema: { json: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } },
  },
};
