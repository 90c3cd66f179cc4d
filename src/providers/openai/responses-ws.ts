// Responses over WebSocket (docs/endpoints.md; ../shared API-FORMATS §19): `GET /v1/responses` with
// `Upgrade: websocket`, then one JSON text message per request, `{"type": "response.create", …the
// POST /v1/responses body…}`, answered with the event sequence the SSE stream of that request would
// carry, one JSON text message per event. Messages on one socket are answered in turn, so a
// `previous_response_id` naming the answer before it always resolves. What the SDKs expect where
// the API reference is silent comes from @openai/agents-openai 0.20 (OpenAIResponsesWSModel) and
// openai 7.x (ResponsesServerEvent): errors are `{"type":"error","status",error:{type,code,message,param}}`
// events, terminal like `response.completed`, and the socket stays open for the next request.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { createRequire } from 'node:module';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { decide, type Decision } from '../../engine/decide.ts';
import { ApiError, configuredError, invalidRequest } from '../../http/errors.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import { openAiErrorBody } from '../openai-format/errors.ts';
import { renderResponseStream, renderResponsesStreamError } from '../openai-format/responses-encode.ts';
import { listValues } from '../openai-format/validation.ts';
import type { ProviderDeps, ProviderRoute, RouteRequest } from '../provider.ts';
import { parseResponses } from './responses-routes.ts';

// Handshakes only: no server of its own and no client list (sockets belong to the connection that upgraded).
// ws (with node:https and node:tls, which it loads: ~100 ms of start-up CPU, docs/benchmarks.md S5)
// is loaded with the first WebSocket request, not at start-up.
let handshakeServer: WebSocketServer | undefined;
const NO_BYTES = Buffer.alloc(0);
// The 101 answer carries the headers any answer of the route would (request id, the provider's
// headers, CORS), as ws lets a server add them to the handshake response.
const handshakeHeaders = new WeakMap<IncomingMessage, Record<string, unknown>>();
function handshakes(): WebSocketServer {
  if (handshakeServer) return handshakeServer;
  const { WebSocketServer: Server } = createRequire(import.meta.url)('ws') as { WebSocketServer: typeof WebSocketServer };
  handshakeServer = new Server({ noServer: true, clientTracking: false, perMessageDeflate: false });
  handshakeServer.on('headers', (lines: string[], req: IncomingMessage) => {
    for (const [name, value] of Object.entries(handshakeHeaders.get(req) ?? {})) {
      if (value !== undefined && !/[\r\n]/.test(String(value))) lines.push(`${name}: ${String(value)}`);
    }
  });
  return handshakeServer;
}

// RFC 6455 §4.1: a base64 16-byte nonce, and version 13 (ws also takes 8).
const KEY = /^[+/0-9A-Za-z]{22}==$/;

// Fields of `response.create` that belong to the WebSocket envelope, not to the POST body (openai
// 7.x ResponsesClientEvent.ResponseCreate): `type`, `stream_id` (echoed on every event of its
// answer), `generate` (false: prepare the state without an answer, which this mock does not offer).
type Envelope = { type?: unknown; stream_id?: unknown; generate?: unknown };

export function responsesWebSocketRoute(path: string, endpoint: string, provider: string): ProviderRoute {
  return {
    method: 'GET',
    path,
    upgrade: 'websocket',
    async handle(ctx: Context, request: RouteRequest, deps: ProviderDeps) {
      const key = request.header('sec-websocket-key');
      const version = request.header('sec-websocket-version');
      if (key === undefined || !KEY.test(key.trim())) throw invalidRequest("Invalid WebSocket handshake: missing or malformed 'Sec-WebSocket-Key' header.");
      if (version !== '13' && version !== '8') throw invalidRequest("Invalid WebSocket handshake: 'Sec-WebSocket-Version' must be 13.");
      const socket = ctx.req.socket;
      ctx.respond = false;
      ctx.status = 101;
      handshakeHeaders.set(ctx.req, ctx.response.headers);
      const ws = await new Promise<WebSocket | undefined>((resolve) => {
        socket.once('close', () => resolve(undefined));
        handshakes().handleUpgrade(ctx.req, socket, NO_BYTES, (upgraded) => resolve(upgraded));
      });
      if (!ws) return;
      serve(ws, request, ctx.req.headers, deps, endpoint, provider);
    },
  };
}

/** What one message got, for its journal entry (each `response.create` is listed as a request of its own). */
interface Turn {
  body: unknown;
  model: string | null;
  decision?: Decision;
  status: number;
  error?: { errorType: string; errorMessage: string };
  delivered?: { outcome: 'completed' | 'aborted' | 'failed'; contentChunks: number };
}

function serve(ws: WebSocket, handshake: RouteRequest, headers: IncomingMessage['headers'], deps: ProviderDeps, endpoint: string, provider: string): void {
  const closed = new AbortController();
  ws.once('close', () => closed.abort());
  ws.on('error', () => ws.terminate());
  let queue = Promise.resolve();
  ws.on('message', (data, isBinary) => {
    queue = queue
      .then(async () => {
        const started = performance.now();
        const turn: Turn = { body: null, model: null, status: 200 };
        await answer(ws, data, isBinary, handshake, deps, endpoint, provider, closed.signal, turn);
        const { decision } = turn;
        deps.journal?.append({
          at: Date.now(),
          method: 'WS',
          provider,
          endpoint,
          model: decision?.conversation.model ?? turn.model,
          prompt: decision ? decision.conversation.prompt : null,
          stream: true,
          status: turn.status,
          matched: decision?.rule != null,
          ruleId: decision?.rule?.id ?? null,
          step: decision?.step ?? null,
          durationMs: performance.now() - started,
          headers,
          body: turn.body,
          bodyBytes: Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength,
          ...(decision && { decision }),
          ...(turn.delivered && { delivered: turn.delivered }),
          ...(turn.error && { error: turn.error }),
        });
      })
      .catch(() => ws.terminate());
  });
}

/** An `error` event for a request that got no answer, in the HTTP error's words and status. */
function errorEvent(error: ApiError, streamId: unknown): string {
  const { error: body } = openAiErrorBody(error) as { error: Record<string, unknown> };
  return JSON.stringify({ type: 'error', status: error.status, error: body, ...(typeof streamId === 'string' && { stream_id: streamId }) });
}

/** The JSON of one SSE frame the Responses encoder made (`event: …\ndata: {…}\n\n`), with the lane's `stream_id`. */
function eventJson(frame: string, streamId: unknown): string {
  const at = frame.indexOf('data: ');
  const json = frame.slice(at + 'data: '.length).trimEnd();
  return typeof streamId === 'string' ? `${json.slice(0, -1)},"stream_id":${JSON.stringify(streamId)}}` : json;
}

function messageOf(data: RawData, isBinary: boolean): Record<string, unknown> & Envelope {
  if (isBinary) throw invalidRequest('Invalid message: expected a JSON text message, but got a binary message.', null, 'invalid_message');
  const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw invalidRequest('Invalid message: the message is not valid JSON.', null, 'invalid_json');
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw invalidRequest('Invalid message: expected a JSON object with a `type`.', null, 'invalid_message');
  }
  const { type } = message as Envelope;
  if (type === undefined) throw invalidRequest("Missing required parameter: 'type'.", 'type', 'missing_required_parameter');
  if (type !== 'response.create') throw invalidRequest(`Invalid value: '${String(type)}'. Supported values are: ${listValues(['response.create'])}.`, 'type', 'invalid_value');
  return message as Record<string, unknown> & Envelope;
}

async function answer(
  ws: WebSocket,
  data: RawData,
  isBinary: boolean,
  handshake: RouteRequest,
  deps: ProviderDeps,
  endpoint: string,
  provider: string,
  gone: AbortSignal,
  turn: Turn,
): Promise<void> {
  let streamId: unknown;
  const send = (text: string) => {
    if (ws.readyState === ws.OPEN) ws.send(text);
  };
  let frames: Iterator<StreamItem> | undefined;
  try {
    const message = messageOf(data, isBinary);
    turn.body = message;
    if (typeof message.model === 'string') turn.model = message.model;
    const { type: _type, stream_id, generate, ...body } = message;
    streamId = stream_id;
    if (generate === false) throw invalidRequest("'generate: false' (preparing a response without an answer) is not supported by this mock.", 'generate', 'unsupported_parameter');
    // Over WebSocket every answer is a stream; background mode is not offered there (openai 7.x types).
    if (body.background === true) throw invalidRequest('Background mode is not supported over WebSocket.', 'background', 'unsupported_parameter');
    body.stream = true;
    const strict = deps.strictOverride ?? deps.store.current.settings.strict;
    const request: RouteRequest = { params: {}, query: handshake.query, header: handshake.header, body, strict };
    const parsed = await parseResponses(request, deps, endpoint, provider);
    const decision = await decide(deps.store.current, parsed.conversation, deps.store, parsed);
    turn.decision = decision;
    const { outcome, conversation } = decision;
    if (decision.rule) deps.store.recordHit(decision.rule.id, Date.now());
    if (outcome.kind === 'unmatched') throw new ApiError({ status: 404, kind: 'not_found', code: 'mock_rule_not_found', message: outcome.message });
    if (outcome.kind === 'error') throw configuredError(outcome.error);
    const { reply, delivery } = outcome;
    if (!reply) throw new ApiError({ status: 404, kind: 'not_found', code: 'mock_rule_not_found', message: 'No answer for this request.' });
    frames = renderResponseStream(reply, conversation, parsed.request);
    const pacer = delivery.pacer();
    const { fault } = delivery;
    const delivered = { outcome: 'aborted' as 'completed' | 'aborted' | 'failed', contentChunks: 0 };
    turn.delivered = delivered;
    let contentPending = false;
    const fail = (activeFault: NonNullable<typeof fault>) => {
      delivered.outcome = 'failed';
      failStream(ws, activeFault, frames!, streamId);
    };
    deps.streams.opened();
    try {
      for (let item = frames.next(); !item.done; item = frames.next()) {
        if (gone.aborted) return;
        if (item.value === CONTENT_CHUNK) {
          if (fault && delivered.contentChunks >= fault.afterChunks) return fail(fault);
          delivered.contentChunks++;
          contentPending = true;
          const delay = pacer?.next() ?? 0;
          if (delay > 0 && !(await deps.clock.sleep(delay, gone))) return;
          continue;
        }
        send(eventJson(String(item.value), streamId));
        if (contentPending && fault && delivered.contentChunks >= fault.afterChunks) return fail(fault);
        contentPending = false;
      }
      if (!gone.aborted) delivered.outcome = 'completed';
    } finally {
      deps.streams.closed();
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    turn.status = error.status;
    const event = errorEvent(error, streamId);
    turn.error = { errorType: (JSON.parse(event) as { error: { type: string } }).error.type, errorMessage: error.message };
    send(event);
  } finally {
    frames?.return?.();
  }
}

/** A rule's mid-stream fault: `response.failed` numbered after what was sent, or the connection cut. */
function failStream(ws: WebSocket, fault: { mode: 'error_event' | 'disconnect'; message: string }, frames: Iterator<StreamItem>, streamId: unknown): void {
  if (fault.mode === 'disconnect') {
    ws.terminate();
    return;
  }
  if (ws.readyState === ws.OPEN) ws.send(eventJson(String(renderResponsesStreamError(fault.message, frames)), streamId));
}
