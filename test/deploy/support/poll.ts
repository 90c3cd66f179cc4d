// Polling comes from test/helpers/poll.ts, which imports nothing from the server's source.
export { eventually as poll } from '../../helpers/poll.ts';

/** The answer to `prompt` through the OpenAI chat endpoint, or an error naming the status. */
export async function askOpenAI(baseUrl: string, prompt: string): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`);
  const body = JSON.parse(text) as { choices?: { message?: { content?: string } }[] };
  const content = body.choices?.[0]?.message?.content;
  if (typeof content !== 'string') throw new Error(`no choices[0].message.content in ${text}`);
  return content;
}
