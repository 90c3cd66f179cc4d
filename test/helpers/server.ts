import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.ts';

export { eventually } from './poll.ts';

export const SEED_CONFIG = `responses:
  "what colour is the sky?": "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
  "what is 2+2?": "2+2 equals 9."
defaults:
  unknown_response: "I don't know the answer to that. This is a mock response."
`;

export interface TestServer extends RunningServer {
  dir: string;
  configPath: string;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Raw log text, for grepping (e.g. that no secret ever appears). */
  logText(): string;
  stop(): Promise<void>;
}

/**
 * A real server on 127.0.0.1 and a free port, reading a config file in its own temp directory,
 * with its logs captured in memory.
 */
export async function startTestServer(configText: string = SEED_CONFIG, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-test-'));
  const configPath = join(dir, 'responses.yml');
  await writeFile(configPath, configText);
  return startTestServerAt(dir, configPath, options);
}

export async function startTestServerAt(dir: string, configPath: string, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger('debug', sink);
  const running = await startServer({
    configPath,
    port: 0,
    host: '127.0.0.1',
    logger,
    reloadDebounceMs: 20,
    reloadPollMs: 60_000,
    shutdownGraceMs: 2000,
    ...options,
  });
  const logText = () => chunks.join('');
  return {
    ...running,
    dir,
    configPath,
    get logs() {
      return logText()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText,
    async stop() {
      await running.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A raw POST, for the byte-level checks a lenient client would hide. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export interface SseFrame {
  event?: string;
  data: string;
}

/** Splits an SSE body into frames, insisting on the `\n\n` framing the real APIs use. */
export function parseSse(text: string): SseFrame[] {
  if (!text.endsWith('\n\n')) throw new Error(`stream does not end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const frame: SseFrame = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) frame.event = line.slice(7);
        else if (line.startsWith('data: ')) frame.data += line.slice(6);
        else throw new Error(`unexpected SSE line ${JSON.stringify(line)}`);
      }
      return frame;
    });
}
