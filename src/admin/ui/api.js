// The admin API from the page: every call carries the token (kept in this tab's sessionStorage), and
// a 401 sends the page back to its login form. Paths are relative to /admin/ui/, so the page also
// works behind a proxy that mounts the server under a prefix.

const TOKEN_KEY = 'mockllm-admin-token';

export class Unauthorized extends Error {}

/** The admin API's error: `{"error": {"code", "message", "field"?}}`. */
export class AdminApiError extends Error {
  /** @param {number} status @param {{code?: string, message?: string, field?: string}} body */
  constructor(status, body) {
    super(body.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code;
    this.field = body.field;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  /** @param {string} value */
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** @type {() => void} */
let onUnauthorized = () => {};
/** @param {() => void} handler */
export const whenUnauthorized = (handler) => (onUnauthorized = handler);

/** @param {Record<string, string>} [extra] */
function headers(extra = {}) {
  const value = token.get();
  return value ? { ...extra, authorization: `Bearer ${value}` } : extra;
}

/**
 * @param {string} method
 * @param {string} path under /admin, e.g. "responses"
 * @param {unknown} [body]
 */
export async function call(method, path, body) {
  const res = await fetch(`../${path}`, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  if (res.status === 401) {
    onUnauthorized();
    throw new Unauthorized('The admin token was refused.');
  }
  const text = await res.text();
  const json = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
  if (!res.ok) throw new AdminApiError(res.status, json?.error ?? {});
  return json;
}

/** /healthz: public, outside /admin. */
export async function health() {
  const res = await fetch('../../healthz', { cache: 'no-store' });
  return res.json();
}

/**
 * Follows GET /admin/requests/stream with fetch (EventSource cannot send the token), reconnecting
 * after a drop or a server restart with Last-Event-ID, as EventSource would.
 * @param {{ lastSeq: () => number, hello: (latestSeq: number) => void, entry: (entry: any) => void, state: (s: 'live' | 'reconnecting') => void }} on
 * @returns {() => void} stops following
 */
export function follow(on) {
  let stopped = false;
  let retryMs = 1000;
  /** @type {AbortController | undefined} */
  let controller;
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch('../requests/stream', {
          headers: headers({ accept: 'text/event-stream', 'last-event-id': String(on.lastSeq()) }),
          signal: controller.signal,
          cache: 'no-store',
        });
        if (res.status === 401) {
          onUnauthorized();
          return;
        }
        // A journal that cannot push (the route answers 404): ask for what is new every second instead.
        if (res.status === 404) return poll();
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        on.state('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            dispatch(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // A drop, a refused connection while the server restarts, or our own abort.
      }
      if (stopped) return;
      on.state('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  const poll = async () => {
    on.state('live');
    while (!stopped) {
      try {
        const { requests } = await call('GET', `requests?after=${on.lastSeq()}`);
        for (const entry of requests.reverse()) on.entry(entry);
      } catch (error) {
        if (error instanceof Unauthorized) return;
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  /** @param {string} block */
  const dispatch = (block) => {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
      else if (line.startsWith('retry: ')) retryMs = Number(line.slice(7)) || retryMs;
    }
    if (event === 'hello') on.hello(JSON.parse(data).latestSeq);
    else if (event === 'request') on.entry(JSON.parse(data));
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
