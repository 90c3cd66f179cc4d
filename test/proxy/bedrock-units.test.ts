// The Bedrock proxy's pieces on their own: the SigV4 signer (checked with the AWS SDK's signer),
// the region it signs for, the event-stream and JSON-array frame splitters fed a byte or a
// character at a time, and the Bedrock recorder on whole and cut streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventFrame, exceptionFrame } from '../../src/providers/bedrock/eventstream.ts';
import { bedrockRecorder } from '../../src/providers/bedrock/recorder.ts';
import type { UpstreamAnswer, UpstreamFrame } from '../../src/providers/provider.ts';
import { eventStreamSplitter, jsonArraySplitter } from '../../src/proxy/frames.ts';
import { credentialsFromEnv, scopeOf, signingRegion, signSigV4 } from '../../src/proxy/sigv4.ts';
import { verifySigV4 } from './aws-support.ts';

const KEYS = { accessKeyId: 'AKIAUNITTESTEXAMPLE1', secretAccessKey: 'unit/test+secret/key0123456789abcdefghijk' };

test('a signed request verifies with the AWS SDK signer, model ids with colons, queries and session tokens included', async () => {
  const cases: { path: string; search: string; keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } }[] = [
    { path: '/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse', search: '', keys: KEYS },
    { path: '/model/us.amazon.nova-pro-v1%3A0/converse-stream', search: '?b=2&a=x%20y&a=1', keys: { ...KEYS, sessionToken: 'FwoGZXIvYXdzEXAMPLEsession+token/==' } },
    { path: '/model/a..b/./invoke/', search: '', keys: KEYS },
  ];
  for (const { path, search, keys } of cases) {
    const url = new URL(`http://127.0.0.1:4555${path}${search}`);
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'héllo  wörld' }] }] });
    const headers = signSigV4({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', 'x-amz-user-agent': 'aws-sdk-js/3  test', 'amz-sdk-request': 'attempt=1', accept: 'application/json' },
      body,
      credentials: keys,
      region: 'eu-central-1',
      service: 'bedrock',
    });
    assert.equal(headers.host, '127.0.0.1:4555');
    assert.equal(headers['x-amz-security-token'], keys.sessionToken);
    const refused = await verifySigV4({ method: 'POST', url: `${url.pathname}${url.search}`, headers }, Buffer.from(body), keys, { region: 'eu-central-1', service: 'bedrock', host: '127.0.0.1:4555' });
    assert.equal(refused, undefined, `${path}${search}: ${refused}`);
    // The same check refuses a body changed after signing: it can fail.
    assert.equal(
      await verifySigV4({ method: 'POST', url: `${url.pathname}${url.search}`, headers }, Buffer.from(`${body} `), keys, { region: 'eu-central-1', service: 'bedrock', host: '127.0.0.1:4555' }),
      'the signature does not match',
    );
  }
});

test('the signing region is the upstream host\'s, else AWS_REGION, else the client\'s; credentials come from the standard variables', () => {
  assert.equal(signingRegion('bedrock-runtime.us-west-2.amazonaws.com', { AWS_REGION: 'eu-west-1' }, 'us-east-1'), 'us-west-2');
  assert.equal(signingRegion('bedrock-runtime-fips.us-gov-west-1.amazonaws.com', {}, undefined), 'us-gov-west-1');
  assert.equal(signingRegion('vpce-0abc-1234.bedrock-runtime.ap-southeast-2.vpce.amazonaws.com', {}, undefined), 'ap-southeast-2');
  assert.equal(signingRegion('127.0.0.1:9000', { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-north-1' }, 'us-east-1'), 'eu-west-1');
  assert.equal(signingRegion('127.0.0.1:9000', { AWS_DEFAULT_REGION: 'eu-north-1' }, 'us-east-1'), 'eu-north-1');
  assert.equal(signingRegion('127.0.0.1:9000', {}, 'sa-east-1'), 'sa-east-1');
  assert.deepEqual(scopeOf('AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=00'), { region: 'us-east-1', service: 'bedrock' });
  assert.equal(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: '' }), undefined);
  assert.deepEqual(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t', AWS_SESSION_TOKEN: '' }), { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's3cr3t' });
});

test('event-stream messages are split from bytes however they arrive; a bad checksum ends the frames', () => {
  const wire = Buffer.concat([
    eventFrame('messageStart', '{"role":"assistant"}'),
    eventFrame('contentBlockDelta', '{"contentBlockIndex":0,"delta":{"text":"Grüße"}}'),
    exceptionFrame('throttlingException', 'slow down'),
  ]);
  const splitter = eventStreamSplitter();
  for (let i = 0; i < wire.length; i++) splitter.pushBytes(wire.subarray(i, i + 1), i);
  assert.deepEqual(
    splitter.frames.map(({ event, data }) => ({ event, data })),
    [
      { event: 'messageStart', data: '{"role":"assistant"}' },
      { event: 'contentBlockDelta', data: '{"contentBlockIndex":0,"delta":{"text":"Grüße"}}' },
      { event: 'exception', data: '{"message":"slow down"}' },
    ],
  );
  const first = eventFrame('messageStart', '{"role":"assistant"}');
  const bad = Buffer.from(eventFrame('messageStop', '{"stopReason":"end_turn"}'));
  bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1);
  const broken = eventStreamSplitter();
  broken.pushBytes(Buffer.concat([first, bad, first]), 5);
  assert.deepEqual(broken.frames.map((f) => f.event), ['messageStart']);
});

test('a streamed JSON array is split into its elements as each one closes, strings with brackets and escapes included; an object is one document', () => {
  const splitter = jsonArraySplitter();
  const wire = '\n[{"text":"a ] , } [ {","q":"\\"x\\\\"}\r\n,{"n":[1,[2]]}\n, 3 ,"s" ]';
  [...wire].forEach((c, i) => splitter.push(c, i));
  assert.deepEqual(splitter.frames!.map((f) => f.data), ['{"text":"a ] , } [ {","q":"\\"x\\\\"}', '{"n":[1,[2]]}', '3', '"s"']);
  assert.equal(splitter.frames![0]!.atMs, wire.indexOf('}\r\n'), 'an element is timed at its closing brace');
  const one = jsonArraySplitter();
  one.push(' {"error":{"code":400}}', 1);
  assert.equal(one.frames, undefined);
});

const streamAnswer = (endpoint: string, frames: UpstreamFrame[]): UpstreamAnswer => ({ endpoint, status: 200, header: () => undefined, body: '', frames });

test('the Bedrock recorder reads ConverseStream text, tool use, usage with its cache figures and the timing, and refuses a stream cut before messageStop or broken by an exception', () => {
  const frames: UpstreamFrame[] = [
    { event: 'messageStart', data: '{"role":"assistant","p":"abc"}', atMs: 10 },
    { event: 'contentBlockDelta', data: '{"contentBlockIndex":0,"delta":{"text":"Let me look."}}', atMs: 100 },
    { event: 'contentBlockStop', data: '{"contentBlockIndex":0}', atMs: 101 },
    { event: 'contentBlockStart', data: '{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tooluse_abc","name":"get_weather"}}}', atMs: 150 },
    { event: 'contentBlockDelta', data: '{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\\"city\\":"}}}', atMs: 160 },
    { event: 'contentBlockDelta', data: '{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\\"Paris\\"}"}}}', atMs: 170 },
    { event: 'contentBlockStop', data: '{"contentBlockIndex":1}', atMs: 171 },
    { event: 'messageStop', data: '{"stopReason":"tool_use"}', atMs: 180 },
    { event: 'metadata', data: '{"usage":{"inputTokens":12,"outputTokens":34,"totalTokens":1046,"cacheReadInputTokens":1000,"cacheWriteInputTokens":0},"metrics":{"latencyMs":170}}', atMs: 181 },
  ];
  const endpoint = '/model/{modelId}/converse-stream';
  assert.deepEqual(bedrockRecorder.decode(streamAnswer(endpoint, frames)), {
    response: { text: 'Let me look.', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, id: 'tooluse_abc' }], stop_reason: 'tool_use', usage: { input_tokens: 12, output_tokens: 34, cache_read_input_tokens: 1000 } },
    contentAtMs: [100, 160, 170],
  });
  assert.equal(bedrockRecorder.decode(streamAnswer(endpoint, frames.slice(0, 7))), undefined);
  assert.equal(bedrockRecorder.decode(streamAnswer(endpoint, [...frames.slice(0, 3), { event: 'exception', data: '{"message":"x"}', atMs: 120 }, ...frames.slice(3)])), undefined);
  const guardrail = bedrockRecorder.decode({ endpoint: '/model/{modelId}/converse', status: 200, header: () => undefined, frames: undefined, body: JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: 'Blocked.' }] } }, stopReason: 'guardrail_intervened', usage: { inputTokens: 3, outputTokens: 2 } }) });
  assert.deepEqual(guardrail, { response: { text: 'Blocked.', finish_reason: 'content_filter', usage: { input_tokens: 3, output_tokens: 2 } } });
});
