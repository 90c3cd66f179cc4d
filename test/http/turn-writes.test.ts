// Answers finished in one event-loop turn leave together at its end (src/http/turn-writes.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ServerResponse } from 'node:http';
import { endAtTurnEnd } from '../../src/http/turn-writes.ts';
import { startTestServer } from '../helpers/server.ts';

/** A response that records what it was ended with. */
function fakeResponse(ended: string[], label: string, alreadyEnded = false) {
  const response = {
    writableEnded: alreadyEnded,
    end(text: string) {
      response.writableEnded = true;
      ended.push(`${label}:${text}`);
    },
  };
  return response as unknown as ServerResponse;
}

test('answers finished in one turn are written together when the turn ends, in the order they finished', async () => {
  const ended: string[] = [];
  endAtTurnEnd(fakeResponse(ended, 'a'), '1');
  endAtTurnEnd(fakeResponse(ended, 'b'), '2');
  assert.deepEqual(ended, [], 'nothing leaves before the turn ends');
  await nextTurn();
  assert.deepEqual(ended, ['a:1', 'b:2']);
});

test('the sixteenth answer waiting sends all sixteen at once, without waiting for the end of the turn', async () => {
  const ended: string[] = [];
  for (let i = 0; i < 15; i++) endAtTurnEnd(fakeResponse(ended, `r${i}`), String(i));
  assert.equal(ended.length, 0);
  endAtTurnEnd(fakeResponse(ended, 'r15'), '15');
  assert.equal(ended.length, 16);
  endAtTurnEnd(fakeResponse(ended, 'r16'), '16');
  assert.equal(ended.length, 16, 'the next answer waits for the end of the turn again');
  await nextTurn();
  assert.deepEqual(ended.at(-1), 'r16:16');
});

test('a response already ended (its client gone) is skipped, and the others are still written', async () => {
  const ended: string[] = [];
  endAtTurnEnd(fakeResponse(ended, 'gone', true), 'x');
  endAtTurnEnd(fakeResponse(ended, 'kept'), 'y');
  await nextTurn();
  assert.deepEqual(ended, ['kept:y']);
});

test("answers still arrive while the global setImmediate is faked (a library user's fake timers)", async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const real = globalThis.setImmediate;
  // Fake timers replace the global and run nothing until the test advances them.
  globalThis.setImmediate = (() => ({ hasRef: () => false, ref() {}, unref() {} })) as unknown as typeof setImmediate;
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
      });
      req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'what colour is the sky?' }] }));
    });
    const answer = JSON.parse(body) as { choices: { message: { content: string } }[] };
    assert.match(answer.choices[0]!.message.content, /Rayleigh scattering/);
  } finally {
    globalThis.setImmediate = real;
  }
});
