// Replicas of the real CLI (`node src/cli.ts --redis …`) sharing one Redis, as pods behind a Service.
import OpenAI from 'openai';
import { startCli, type ServingCli } from '../../helpers/cli.ts';

export const CONFIG = `responses:
  "ping": "pong"
defaults:
  unknown_response: "I don't know."
`;

export interface Replica extends ServingCli {
  openai: OpenAI;
}

export async function startReplica(redisUrl: string, prefix: string, config = CONFIG, extraArgs: string[] = []): Promise<Replica> {
  const cli = await startCli(config, ['--redis', redisUrl, '--redis-prefix', prefix, '--log-level', 'info', ...extraArgs]);
  return { ...cli, openai: new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'test', maxRetries: 0 }) };
}

export function startReplicas(n: number, redisUrl: string, prefix: string, config = CONFIG): Promise<Replica[]> {
  return Promise.all(Array.from({ length: n }, () => startReplica(redisUrl, prefix, config)));
}

/** The text a replica answers to `prompt` through the OpenAI SDK. */
export async function ask(replica: Replica, prompt: string): Promise<string> {
  const completion = await replica.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
  return completion.choices[0]!.message.content ?? '';
}

let prefixes = 0;
/** A fresh key prefix per test, so tests sharing one Redis never see each other's state. */
export const freshPrefix = () => `t${process.pid}-${++prefixes}:`;

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
