import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { SEED_CONFIG, startTestServer } from '../helpers/server.ts';

test('the seed config loads unchanged and answers as documented', async () => {
  const server = await startTestServer(SEED_CONFIG);
  try {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test' });
    const ask = async (content: string) =>
      (await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] })).choices[0]!.message.content;
    assert.equal(await ask('what colour is the sky?'), 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.');
    assert.equal(await ask('What colour is the sky? '), 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.');
    assert.equal(await ask('what is 2+2?'), '2+2 equals 9.');
    assert.equal(await ask('what is 3+3?'), "I don't know the answer to that. This is a mock response.");
  } finally {
    await server.stop();
  }
});
