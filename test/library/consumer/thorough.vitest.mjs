// Run by test/library/package.test.ts with vitest, from a project that installed the packed tarball.
import { afterAll, beforeAll, expect, test } from 'vitest';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMockLLM } from 'mockllm';

const resources = () => process.getActiveResourcesInfo().filter((type) => type !== 'TTYWrap').sort();
// What is active now beyond `before`: the runner's own timers may come and go (one alive at the
// start can be gone at the end), so a leak is a handle the mock added, not any difference.
const added = (before) => {
  const left = [...before];
  return resources().filter((type) => {
    const i = left.indexOf(type);
    if (i === -1) return true;
    left.splice(i, 1);
    return false;
  });
};
let before;
let mock;

beforeAll(async () => {
  before = resources();
  mock = await startMockLLM({ config: { rules: [{ id: 'sky', match: { contains: 'sky' }, response: 'Blue.' }] } });
});

afterAll(async () => {
  await mock.close();
  // The server's sockets and the client's keep-alive connections are gone once close() resolves
  // and the loop has turned; poll with a deadline for the client's side.
  const deadline = Date.now() + 5000;
  while (added(before).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(added(before)).toEqual([]);
});

test('both SDKs, a rule added at run time, the journal', async () => {
  const openai = new OpenAI({ baseURL: mock.openaiBaseURL, apiKey: 'sk-mock' });
  const anthropic = new Anthropic({ baseURL: mock.anthropicBaseURL, apiKey: 'sk-ant-mock' });
  const sky = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'colour of the sky?' }], stream: true });
  let text = '';
  for await (const chunk of sky) text += chunk.choices[0]?.delta?.content ?? '';
  expect(text).toBe('Blue.');

  const id = await mock.addRule({ id: 'grass', prompt: 'colour of grass?', response: 'Green.' });
  expect(id).toBe('grass');
  const grass = await anthropic.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 20, messages: [{ role: 'user', content: 'Colour of grass?' }] });
  expect(grass.content).toMatchObject([{ type: 'text', text: 'Green.' }]);

  const entries = await mock.requests();
  expect(entries.map((entry) => entry.ruleId)).toEqual(['grass', 'sky']);
  expect(await mock.requests({ provider: 'openai', ruleId: 'sky' })).toHaveLength(1);
  expect(entries[0]).toMatchObject({ provider: 'anthropic', endpoint: '/v1/messages', model: 'claude-sonnet-5-5', status: 200, stream: false });
});
