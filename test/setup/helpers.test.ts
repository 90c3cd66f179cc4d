// The shared test helpers keep their promise: a poll, a deadline or a wait on a CLI child ends when
// its time is up or the child is gone, whatever the awaited work does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineError, rejectionOf, withDeadline } from '../helpers/deadline.ts';
import { eventually } from '../helpers/poll.ts';
import { startCli } from '../helpers/cli.ts';

const never = () => new Promise<never>(() => {});

test('eventually fails at its deadline when the check never settles', async () => {
  const started = performance.now();
  await assert.rejects(eventually(never, { timeoutMs: 200, what: 'a check that hangs' }), /timed out after 200 ms waiting for a check that hangs/);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 190, `not before the deadline (${elapsed} ms)`);
  assert.ok(elapsed < 10_000, `ended at the deadline, not later (${elapsed} ms)`);
});

test('eventually fails at its deadline with the last error when the check keeps throwing, and returns the first truthy value', async () => {
  await assert.rejects(
    eventually(() => {
      throw new Error('not yet');
    }, { timeoutMs: 100, intervalMs: 10, what: 'x' }),
    /timed out after 100 ms waiting for x: not yet/,
  );
  let calls = 0;
  assert.equal(await eventually(() => ++calls >= 3 && 'done', { timeoutMs: 5000, intervalMs: 1 }), 'done');
  assert.equal(calls, 3);
});

test('withDeadline settles with the promise, or rejects with a DeadlineError naming what it waited for', async () => {
  assert.equal(await withDeadline(Promise.resolve(7), 1000, 'seven'), 7);
  await assert.rejects(withDeadline(Promise.reject(new Error('own')), 1000, 'x'), /^Error: own$/);
  await assert.rejects(withDeadline(never(), 50, 'nothing'), (error) => error instanceof DeadlineError && error.message === 'timed out after 50 ms waiting for nothing');
});

test('rejectionOf returns the rejection, and fails when the promise resolves or hangs', async () => {
  const error = new Error('expected');
  assert.equal(await rejectionOf(Promise.reject(error), 1000, 'a failure'), error);
  await assert.rejects(rejectionOf(Promise.resolve(1), 1000, 'a failure'), /a failure succeeded; expected it to fail/);
  await assert.rejects(rejectionOf(never(), 50, 'a failure'), DeadlineError);
});

test('a CLI child killed with SIGKILL ends every wait on it at once: the exit carries the signal, waitForLog rejects', async () => {
  const cli = await startCli('responses:\n  "hi": "there"\n');
  try {
    const pending = cli.waitForLog('a line the CLI never writes', undefined, 60_000);
    cli.child.kill('SIGKILL');
    const exit = await withDeadline(cli.exit, 15_000, 'the exit event');
    assert.deepEqual([exit.code, exit.signal], [null, 'SIGKILL']);
    await assert.rejects(withDeadline(pending, 15_000, 'waitForLog to give up'), /the CLI exited before writing/);
    assert.equal(await cli.exited(), null);
  } finally {
    await cli.cleanup();
  }
});
