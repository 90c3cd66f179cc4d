import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../src/engine/clock.ts';

const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

test('system clock sleeps never wake before their time, however many share the timer', async () => {
  const early: number[] = [];
  await Promise.all(
    Array.from({ length: 500 }, async (_, i) => {
      const ms = (i % 37) + 0.5;
      const start = performance.now();
      assert.equal(await systemClock.sleep(ms), true);
      const slept = performance.now() - start;
      if (slept < ms) early.push(ms - slept);
    }),
  );
  assert.deepEqual(early, []);
});

test('system clock sleeps wake in due order', async () => {
  // Each sleep's due time from when it began: on a busy machine the later sleeps begin later (a
  // 1 ms sleep begun 5 ms after a 5 ms one is due after it), so the order is checked against these,
  // within the clock's rounding up to the next whole millisecond.
  const woke: { ms: number; due: number }[] = [];
  await Promise.all(
    [30, 5, 20, 10, 1].map((ms) => {
      const due = performance.now() + ms;
      return systemClock.sleep(ms).then(() => woke.push({ ms, due }));
    }),
  );
  assert.equal(woke.length, 5);
  for (let i = 1; i < woke.length; i++) assert.ok(woke[i - 1]!.due <= woke[i]!.due + 1, `woke out of due order: ${JSON.stringify(woke)}`);
});

test('an aborted system clock sleep resolves false at once and leaves no timer behind', async () => {
  const before = timers();
  const controller = new AbortController();
  const start = performance.now();
  const sleeping = systemClock.sleep(60_000, controller.signal);
  assert.equal(timers(), before + 1);
  controller.abort();
  assert.equal(await sleeping, false);
  assert.ok(performance.now() - start < 1000);
  assert.equal(timers(), before);
  assert.equal(await systemClock.sleep(10, controller.signal), false, 'a signal already aborted does not sleep');
});

test('one signal slept on again and again is answered by its abort every time', async () => {
  const controller = new AbortController();
  for (let i = 0; i < 5; i++) assert.equal(await systemClock.sleep(1, controller.signal), true);
  const sleeping = systemClock.sleep(60_000, controller.signal);
  const other = systemClock.sleep(5);
  controller.abort();
  assert.equal(await sleeping, false);
  assert.equal(await other, true, 'a sleeper on another signal still wakes');
});

test('a wheel that has fallen behind lets the event loop do I/O between rounds of wake-ups', async () => {
  let woken = 0;
  let wokenWhenIoRan: number | undefined;
  await Promise.all(
    Array.from({ length: 3000 }, () =>
      systemClock.sleep(5).then(() => {
        // The first one woken asks to run in the loop's next check phase, as an I/O callback would.
        if (woken++ === 0) setImmediate(() => (wokenWhenIoRan = woken));
      }),
    ),
  );
  assert.equal(woken, 3000);
  assert.ok(wokenWhenIoRan !== undefined && wokenWhenIoRan < 3000, `the loop ran other work after ${wokenWhenIoRan} of 3000 wake-ups`);
});
