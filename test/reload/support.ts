// Shared by the hot-reload tests: ask the running server a question and wait for an answer.
import { eventually, post, type TestServer } from '../helpers/server.ts';

export const configWith = (answer: string) => `responses:\n  "ping": ${JSON.stringify(answer)}\n`;

/** The answer the server gives right now to `prompt`, through the OpenAI chat endpoint. */
export async function ask(server: TestServer, prompt = 'ping'): Promise<string> {
  const res = await post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  return body.choices[0]!.message.content;
}

/**
 * Runs `change`, then polls until the server answers `expected`; returns the milliseconds from the
 * start of the change to the first request that saw the new answer.
 */
export async function msUntilAnswer(server: TestServer, change: () => Promise<void>, expected: string): Promise<number> {
  const started = performance.now();
  await change();
  let last = '';
  try {
    await eventually(async () => (last = await ask(server)) === expected, { timeoutMs: 15_000, intervalMs: 5, what: `answer ${JSON.stringify(expected)}` });
  } catch (error) {
    throw new Error(`${(error as Error).message}; the server still answers ${JSON.stringify(last)}`);
  }
  return Math.round(performance.now() - started);
}

export type LogLine = Record<string, unknown>;

/** Log lines at level 50 (error) whose message or fields mention every one of `needles`. */
export function errorLines(server: TestServer, ...needles: string[]): LogLine[] {
  return server.logs.filter((line) => line.level === 50 && needles.every((n) => JSON.stringify(line).includes(n)));
}

export function countMsg(server: TestServer, msg: string): number {
  return server.logs.filter((line) => line.msg === msg).length;
}
