// What the record/replay tests share: an upstream config that plays the real APIs (plain text, a
// two-step tool loop, a streamed answer with latency, an error, a question answered differently
// each time), the client credentials, and small fake upstreams that misbehave.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const OPENAI_KEY = 'sk-proj-CLIENTsecret0123456789abcdefXYZ';
export const ANTHROPIC_KEY = 'sk-ant-api03-CLIENTsecret0123456789abcdefXYZ';
/** A key-shaped string the upstream puts in an answer: it must not reach the recorded file. */
export const LEAKED_KEY = 'sk-proj-LEAKEDinANSWER9876543210zyxwvuts';

export const HELLO = 'Hello from the upstream.';
export const STORY = 'Once upon a time a mock recorded a real API, and every test replayed it forever after.';
export const SUNNY = 'It is sunny in Paris, 21 degrees.';
export const RAINY_ASK = 'And tomorrow?';

// No provider or endpoint conditions: the same upstream answers OpenAI and Anthropic clients.
export const UPSTREAM_CONFIG = `
rules:
  - id: hello
    match: { prompt: "say hello" }
    response: "${HELLO}"
  - id: leak
    match: { prompt: "what is your key?" }
    response: "My key is ${LEAKED_KEY}, do not tell."
  - id: weather-ask
    match: { prompt: "weather in Paris?", tool_result: false }
    response:
      tool_calls:
        - name: get_weather
          arguments: { city: Paris }
  - id: weather-answer
    match: { prompt: "weather in Paris?", tool_result: get_weather }
    response: "${SUNNY}"
  - id: story
    match: { prompt: "tell a story" }
    response:
      text: "${STORY}"
      chunking: word
      latency: { ttft_ms: 300, chunk_delay_ms: 20 }
  - id: die
    match: { prompt: "roll a die" }
    response:
      sequence: ["You rolled 4.", "You rolled 1.", "You rolled 6."]
  - id: quota
    match: { prompt: "fail please" }
    response:
      error: { status: 429, message: "Rate limit reached for requests", retry_after: 7 }
defaults:
  unknown_response: "upstream default answer"
`;

/** A server on 127.0.0.1 that a test drives by hand (a stream dropped mid-way, an upstream that never answers). */
export async function fakeUpstream(handle: (res: ServerResponse, socket: Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(res, req.socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on which nothing listens: a port that was free a moment ago. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
