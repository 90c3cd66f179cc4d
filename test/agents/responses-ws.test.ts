// Responses over WebSocket, frame by frame (issue 15 item 5): `GET /v1/responses` upgraded on the
// server's one port (past the h2c preface check), `response.create` messages answered with the
// same events as the SSE stream of the same request, chaining on one socket, and every bad input
// answered with an `error` event (the shape of openai 7.x ResponsesServerEvent.ResponseWsError)
// while the socket stays open. The `ws` package is the client: it shows raw frames and headers.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ResponsesWS } from 'openai/resources/responses/ws';
import WebSocket from 'ws';
import { withDeadline } from '../helpers/deadline.ts';
import { eventually } from '../helpers/poll.ts';
import { parseSse, post, startTestServer, type TestServer } from '../helpers/server.ts';

const MODEL = 'gpt-4o-mini';
const CONFIG = `
responses:
  ping: pong
rules:
  - id: long
    match: {prompt: tell me more}
    response: "One two three four five six seven eight nine ten."
  - id: again-first
    match: {prompt: again, assistant_turns: 0}
    response: first time
  - id: again-later
    match: {prompt: again, assistant_turns: {gte: 1}}
    response: said before
  - id: weather-call
    match: {contains: weather, tool_result: false}
    response:
      tool_calls:
        - {name: get_weather, arguments: {city: Paris}}
  - id: weather-answer
    match: {tool_result: get_weather}
    response: Sunny in Paris.
  - id: limited
    match: {prompt: limited}
    response: {error: {status: 429, message: Slow down.}}
  - id: broken
    match: {prompt: broken}
    response: {text: "This answer breaks half way through.", chunking: word, fault: {fail_after_chunks: 2, mode: error_event, message: upstream hiccup}}
defaults:
  unknown_response: "I don't know."
settings:
  strict: true
  cors: {origins: ["https://app.example"]}
`;

let server: TestServer;
let wsUrl: string;

before(async () => {
  server = await startTestServer(CONFIG);
  wsUrl = `${server.url.replace('http://', 'ws://')}/v1/responses`;
});

after(async () => {
  await server?.stop();
});

type Event = Record<string, unknown> & { type: string };

/** One socket, with every text message it received queued as parsed JSON. */
class Socket {
  readonly ws: WebSocket;
  readonly #queue: Event[] = [];
  readonly #waiters: ((event: Event) => void)[] = [];
  upgradeHeaders: IncomingMessage['headers'] = {};

  constructor(headers: Record<string, string> = {}) {
    this.ws = new WebSocket(wsUrl, { headers });
    this.ws.on('upgrade', (res) => {
      this.upgradeHeaders = res.headers;
    });
    this.ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, 'every server message is a text frame');
      const event = JSON.parse(String(data)) as Event;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(event);
      else this.#queue.push(event);
    });
  }

  async open(): Promise<this> {
    await withDeadline(new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    }), 10_000, 'the WebSocket to open');
    return this;
  }

  next(): Promise<Event> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return withDeadline(new Promise<Event>((resolve) => this.#waiters.push(resolve)), 10_000, 'the next event');
  }

  /** Sends a request and collects its events up to and including the terminal one. */
  async create(body: Record<string, unknown> | string): Promise<Event[]> {
    this.ws.send(typeof body === 'string' ? body : JSON.stringify({ type: 'response.create', ...body }));
    const events: Event[] = [];
    for (;;) {
      const event = await this.next();
      events.push(event);
      if (['response.completed', 'response.failed', 'response.incomplete', 'error'].includes(event.type)) return events;
    }
  }

  close(): void {
    this.ws.close();
  }
}

const typesOf = (events: readonly { type: string }[]) => events.map((event) => event.type);
const finalResponse = (events: readonly Event[]) => events.at(-1)!.response as Record<string, unknown> & { id: string; output: { content?: { text: string }[] }[] };
const textOf = (events: readonly Event[]) => finalResponse(events).output[0]!.content![0]!.text;

describe('the event sequence', () => {
  test('each response.create gets the SSE stream event for event, sequence numbers from 0', async () => {
    const sse = await post(`${server.url}/v1/responses`, { model: MODEL, input: 'tell me more', stream: true });
    const sseEvents = parseSse(await sse.text()).map((frame) => JSON.parse(frame.data) as Event);
    const socket = await new Socket().open();
    const events = await socket.create({ model: MODEL, input: 'tell me more' });
    socket.close();
    assert.deepEqual(typesOf(events), typesOf(sseEvents));
    assert.deepEqual(events.map((event) => event.sequence_number), events.map((_, i) => i));
    assert.ok(typesOf(events).filter((type) => type === 'response.output_text.delta').length > 3);
    // The same payloads but for the ids and times minted per response.
    const neutral = (event: Event) => JSON.stringify(event).replace(/"(resp|msg)_[0-9a-f]{48}"/g, '"id"').replace(/"(created_at|completed_at)":\d+/g, '"$1":0');
    assert.deepEqual(events.map(neutral), sseEvents.map(neutral));
    assert.equal(textOf(events), 'One two three four five six seven eight nine ten.');
  });

  test('previous_response_id chains across messages on one socket, and the responses are stored for HTTP', async () => {
    const socket = await new Socket().open();
    const first = await socket.create({ model: MODEL, input: 'again' });
    assert.equal(textOf(first), 'first time');
    const second = await socket.create({ model: MODEL, input: 'again', previous_response_id: finalResponse(first).id });
    assert.equal(textOf(second), 'said before');
    assert.equal(finalResponse(second).previous_response_id, finalResponse(first).id);
    socket.close();
    const stored = await fetch(`${server.url}/v1/responses/${finalResponse(second).id}`);
    assert.equal(stored.status, 200);
    assert.equal(((await stored.json()) as { id: string }).id, finalResponse(second).id);
  });

  test('a tool loop runs over one socket: the call, then its output answered', async () => {
    const socket = await new Socket().open();
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    const call = await socket.create({ model: MODEL, input: 'weather in Paris?', tools });
    assert.ok(typesOf(call).includes('response.function_call_arguments.delta'));
    const item = finalResponse(call).output[0] as unknown as { type: string; call_id: string; name: string; arguments: string };
    assert.equal(item.type, 'function_call');
    assert.deepEqual(JSON.parse(item.arguments), { city: 'Paris' });
    const answer = await socket.create({
      model: MODEL,
      previous_response_id: finalResponse(call).id,
      input: [{ type: 'function_call_output', call_id: item.call_id, output: '{"sky":"clear"}' }],
      tools,
    });
    assert.equal(textOf(answer), 'Sunny in Paris.');
    socket.close();
  });

  test('stream_id is echoed on every event of its answer, and it and generate: true are not body fields (strict)', async () => {
    const socket = await new Socket().open();
    const events = await socket.create({ model: MODEL, input: 'ping', stream_id: 'lane-1', generate: true });
    assert.ok(events.every((event) => event.stream_id === 'lane-1'));
    assert.equal(textOf(events), 'pong');
    socket.close();
  });

  test("a rule's mid-stream fault ends the answer with response.failed, and the socket serves on", async () => {
    const socket = await new Socket().open();
    const events = await socket.create({ model: MODEL, input: 'broken' });
    const failed = events.at(-1)!;
    assert.equal(failed.type, 'response.failed');
    assert.equal(failed.sequence_number, events.length - 1);
    assert.deepEqual((failed.response as { error: unknown }).error, { code: 'server_error', message: 'upstream hiccup' });
    assert.equal(typesOf(events).filter((type) => type === 'response.output_text.delta').length, 2);
    assert.equal(textOf(await socket.create({ model: MODEL, input: 'ping' })), 'pong');
    socket.close();
  });
});

describe('errors on the socket', () => {
  test('each bad message gets an error event in the HTTP error words and status, and the socket stays open', async () => {
    const socket = await new Socket().open();
    const cases: [string, Record<string, unknown> | string, number, Record<string, unknown>][] = [
      ['not JSON', 'hello?', 400, { type: 'invalid_request_error', code: 'invalid_json', param: null, message: 'Invalid message: the message is not valid JSON.' }],
      ['an array', '[1]', 400, { type: 'invalid_request_error', code: 'invalid_message', param: null, message: 'Invalid message: expected a JSON object with a `type`.' }],
      ['no type', JSON.stringify({ model: MODEL, input: 'ping' }), 400, { type: 'invalid_request_error', code: 'missing_required_parameter', param: 'type', message: "Missing required parameter: 'type'." }],
      [
        'another type',
        JSON.stringify({ type: 'response.cancel' }),
        400,
        { type: 'invalid_request_error', code: 'invalid_value', param: 'type', message: "Invalid value: 'response.cancel'. Supported values are: 'response.create'." },
      ],
      ['no model', { input: 'ping' }, 400, { type: 'invalid_request_error', code: 'missing_required_parameter', param: 'model', message: "Missing required parameter: 'model'." }],
      ['an unknown field (strict)', { model: MODEL, input: 'ping', colour: 'red' }, 400, { type: 'invalid_request_error', code: 'unknown_parameter', param: 'colour', message: "Unknown parameter: 'colour'." }],
      [
        'an unknown previous response',
        { model: MODEL, input: 'ping', previous_response_id: 'resp_nope' },
        400,
        { type: 'invalid_request_error', code: 'previous_response_not_found', param: 'previous_response_id', message: "Previous response with id 'resp_nope' not found." },
      ],
      [
        'an unknown conversation',
        { model: MODEL, input: 'ping', conversation: 'conv_nope' },
        404,
        { type: 'invalid_request_error', code: null, param: 'conversation', message: "Conversation with id 'conv_nope' not found." },
      ],
      [
        'background mode',
        { model: MODEL, input: 'ping', background: true },
        400,
        { type: 'invalid_request_error', code: 'unsupported_parameter', param: 'background', message: 'Background mode is not supported over WebSocket.' },
      ],
      [
        'generate: false',
        { model: MODEL, input: 'ping', generate: false },
        400,
        { type: 'invalid_request_error', code: 'unsupported_parameter', param: 'generate', message: "'generate: false' (preparing a response without an answer) is not supported by this mock." },
      ],
      ['a rule answering 429', { model: MODEL, input: 'limited' }, 429, { type: 'requests', code: 'rate_limit_exceeded', param: null, message: 'Slow down.' }],
    ];
    for (const [what, body, status, error] of cases) {
      const events = await socket.create(body);
      assert.equal(events.length, 1, what);
      assert.deepEqual(events[0], { type: 'error', status, error }, what);
    }
    socket.ws.send(Buffer.from(JSON.stringify({ type: 'response.create', model: MODEL, input: 'ping' })), { binary: true });
    assert.deepEqual((await socket.next()).error, { type: 'invalid_request_error', code: 'invalid_message', param: null, message: 'Invalid message: expected a JSON text message, but got a binary message.' });
    assert.equal(socket.ws.readyState, WebSocket.OPEN);
    assert.equal(textOf(await socket.create({ model: MODEL, input: 'ping' })), 'pong');
    socket.close();
  });

  test('a plain GET /v1/responses is an unknown route, and a bad handshake is answered over HTTP in OpenAI shape', async () => {
    const plain = await fetch(`${server.url}/v1/responses`);
    assert.equal(plain.status, 404);
    assert.deepEqual(await plain.json(), { error: { message: 'Invalid URL (GET /v1/responses)', type: 'invalid_request_error', param: null, code: null } });

    const answer = (headers: Record<string, string>, path = '/v1/responses') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${server.url}${path}`, { headers: { connection: 'Upgrade', upgrade: 'websocket', ...headers } });
        req.on('upgrade', () => reject(new Error('upgraded')));
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const noKey = await answer({ 'sec-websocket-version': '13' });
    assert.equal(noKey.status, 400);
    assert.deepEqual(JSON.parse(noKey.body), {
      error: { message: "Invalid WebSocket handshake: missing or malformed 'Sec-WebSocket-Key' header.", type: 'invalid_request_error', param: null, code: null },
    });
    const elsewhere = await answer({ 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }, '/v1/chat/completions');
    assert.equal(elsewhere.status, 404);
    assert.equal(JSON.parse(elsewhere.body).error.message, 'Invalid URL (GET /v1/chat/completions)');
  });
});

describe('the handshake', () => {
  test('the 101 carries the request id, the provider headers and CORS; the journal lists the upgrade', async () => {
    const socket = await new Socket({ origin: 'https://app.example', authorization: 'Bearer sk-test', 'x-request-id': 'ws-handshake-1' }).open();
    assert.equal(socket.upgradeHeaders['x-request-id'], 'ws-handshake-1');
    assert.equal(socket.upgradeHeaders['openai-version'], '2020-10-01');
    assert.equal(socket.upgradeHeaders['access-control-allow-origin'], 'https://app.example');
    socket.close();
    const journal = (await (await fetch(`${server.url}/admin/requests?limit=50`)).json()) as { requests?: { endpoint: string; status: number; method: string }[] };
    const entries = journal.requests ?? (journal as unknown as { endpoint: string; status: number; method: string }[]);
    assert.ok(entries.some((entry) => entry.method === 'GET' && entry.endpoint === '/v1/responses' && entry.status === 101), JSON.stringify(entries.slice(0, 3)));
  });

  test('each response.create is listed in the journal as a request of its own, answered or refused', async () => {
    const socket = await new Socket({ 'x-trace': 'journal-test' }).open();
    await socket.create({ model: MODEL, input: 'tell me more' });
    await socket.create({ model: MODEL, input: 'limited' });
    await socket.create('not json');
    socket.close();
    type Entry = { method: string; endpoint: string; status: number; model: string | null; prompt: string | null; ruleId: string | null; stream: boolean; error?: { type: string; message: string } | null; request: { headers: Record<string, string>; body: unknown } };
    const body = (await (await fetch(`${server.url}/admin/requests?limit=100`)).json()) as { requests?: Entry[] } | Entry[];
    const entries = (Array.isArray(body) ? body : (body.requests ?? [])).filter((entry) => entry.method === 'WS' && entry.request.headers['x-trace'] === 'journal-test');
    // Newest first.
    assert.deepEqual(
      entries.map((entry) => [entry.endpoint, entry.status, entry.model, entry.prompt, entry.ruleId, entry.stream, entry.error?.type ?? null]),
      [
        ['/v1/responses', 400, null, null, null, true, 'invalid_request_error'],
        ['/v1/responses', 429, MODEL, 'limited', 'limited', true, 'requests'],
        ['/v1/responses', 200, MODEL, 'tell me more', 'long', true, null],
      ],
    );
    assert.deepEqual(entries[2]!.request.body, { type: 'response.create', model: MODEL, input: 'tell me more' });
  });

  test('HTTP/2 (h2c) and WebSocket upgrades share the port', async () => {
    const session = connectHttp2(server.url);
    try {
      const status = await withDeadline(new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':method': 'GET', ':path': '/v1/models' });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
        stream.end();
      }), 10_000, 'an h2c answer');
      assert.equal(status, 200);
    } finally {
      session.close();
    }
    const socket = await new Socket().open();
    assert.equal(textOf(await socket.create({ model: MODEL, input: 'ping' })), 'pong');
    socket.close();
  });

  test('closing the server ends open sockets', async () => {
    const own = await startTestServer(CONFIG);
    const ws = new WebSocket(`${own.url.replace('http://', 'ws://')}/v1/responses`);
    await withDeadline(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }), 10_000, 'the socket to open');
    const closed = new Promise((resolve) => ws.once('close', resolve));
    const started = Date.now();
    await own.stop();
    await withDeadline(closed, 5_000, 'the socket to close');
    assert.ok(Date.now() - started < 1_500, 'close() did not wait for the grace period');
  });
});

describe("the openai SDK's ResponsesWS", () => {
  test('sends response.create, receives the typed events, and reports an error event as a WebSocketError', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const rws = new ResponsesWS(client);
    const errors: { status?: number; code?: string | null }[] = [];
    rws.on('error', (error) => {
      // The request-level variant (ResponsesServerEvent.ResponseWsError): status and a nested error.
      const event = error.error as { status?: number; error?: { code: string | null } } | undefined;
      errors.push({ status: event?.status, code: event?.error?.code });
    });
    const completed: OpenAI.Responses.Response[] = [];
    const deltas: string[] = [];
    rws.on('response.output_text.delta', (event) => deltas.push(event.delta));
    rws.on('response.completed', (event) => completed.push(event.response));
    try {
      rws.send({ type: 'response.create', model: MODEL, input: 'tell me more' });
      await eventually(() => completed.length === 1, { what: 'the first response' });
      assert.equal(deltas.join(''), 'One two three four five six seven eight nine ten.');
      rws.send({ type: 'response.create', model: MODEL, input: 'again', previous_response_id: completed[0]!.id });
      await eventually(() => completed.length === 2, { what: 'the chained response' });
      assert.equal((completed[1]!.output[0] as { content: { text: string }[] }).content[0]!.text, 'said before');
      rws.send({ type: 'response.create', model: MODEL, input: 'ping', previous_response_id: 'resp_nope' });
      await eventually(() => errors.length === 1, { what: 'the error event' });
      assert.deepEqual(errors, [{ status: 400, code: 'previous_response_not_found' }]);
    } finally {
      rws.close();
    }
  });
});
