// The CLI's log destination: JSON or readable lines, chosen by the terminal, held during start-up,
// written in batches of one event-loop turn.
import { spawnSync } from 'node:child_process';
import { tracingChannel } from 'node:diagnostics_channel';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createLogger, defaultLogFormat, formatPretty, infoLineWriter, LogSink, wantsColors } from '../../src/observability/logger.ts';

// A line per write, as it is logged (batch: false), unless the test is about batches.
function capture(format: 'json' | 'pretty', colors = false, batch = false) {
  const written: string[] = [];
  const sink = new LogSink({ format, colors, batch, destination: { write: (text: string) => written.push(text) } });
  return { sink, written, logger: createLogger('debug', sink) };
}

const messages = (text: string) => text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);

test('the default format is pretty on a terminal and JSON on anything else', () => {
  assert.equal(defaultLogFormat({ isTTY: true }), 'pretty');
  assert.equal(defaultLogFormat({ isTTY: false }), 'json');
  assert.equal(defaultLogFormat({}), 'json');
});

test('colours follow the terminal (NO_COLOR through hasColors), and FORCE_COLOR off a terminal', () => {
  assert.equal(wantsColors({ isTTY: true, hasColors: () => true }, {}), true);
  assert.equal(wantsColors({ isTTY: true, hasColors: () => false }, {}), false);
  assert.equal(wantsColors({ isTTY: false }, {}), false);
  assert.equal(wantsColors({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  assert.equal(wantsColors({ isTTY: false }, { FORCE_COLOR: '0' }), false);
});

test('json lines pass through as pino wrote them, redaction included', () => {
  const { written, logger } = capture('json');
  logger.info({ headers: { authorization: 'Bearer secret' }, port: 1 }, 'hello');
  assert.equal(written.length, 1);
  const line = JSON.parse(written[0]!) as Record<string, unknown>;
  assert.equal(line.msg, 'hello');
  assert.deepEqual(line.headers, { authorization: '[REDACTED]' });
  assert.ok(!written[0]!.includes('secret'));
});

test('pretty lines read as time, level, message, then key=value fields, without the fields every line has', () => {
  const { written, logger } = capture('pretty');
  logger.warn({ path: '/tmp/a b.yml', entries: 3, nested: { a: 1 }, headers: { 'x-api-key': 'k' } }, 'config loaded');
  assert.equal(written.length, 1);
  assert.match(written[0]!, /^\d\d:\d\d:\d\d\.\d{3} WARN  config loaded path="\/tmp\/a b\.yml" entries=3 nested=\{"a":1\} headers=\{"x-api-key":"\[REDACTED\]"\}\n$/);
  assert.doesNotMatch(written[0]!, /service=|level=|time=/);
});

test('a pretty error line carries the stack on indented lines below', () => {
  const { written, logger } = capture('pretty');
  logger.error({ err: new Error('boom') }, 'request failed');
  const [first, ...rest] = written[0]!.trimEnd().split('\n');
  assert.match(first!, /ERROR request failed$/);
  assert.match(rest[0]!, /^    Error: boom$/);
  assert.ok(rest.length > 1 && rest.slice(1).every((line) => /^ {8}at /.test(line)), rest.join('\n'));
});

test('colours wrap the level in its colour and reset after it', () => {
  const line = formatPretty(JSON.stringify({ level: 50, time: '2026-11-29T12:03:04.567Z', msg: 'bad' }), true);
  assert.equal(line, '\u001b[2m12:03:04.567\u001b[0m \u001b[31mERROR\u001b[0m \u001b[1mbad\u001b[0m\n');
  assert.equal(formatPretty('not json'), 'not json\n');
});

test('held lines are written in order on release, and nothing before it', () => {
  const { sink, written, logger } = capture('json');
  sink.hold();
  logger.info('one');
  logger.info('two');
  assert.deepEqual(written, []);
  sink.release();
  logger.info('three');
  assert.deepEqual(written.join('').trimEnd().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg), ['one', 'two', 'three']);
});

test('the lines logged in one turn of the event loop are written together, in order, once the turn ends', async () => {
  const { written, logger } = capture('json', false, true);
  logger.info('one');
  logger.warn('two');
  logger.info('three');
  assert.deepEqual(written, [], 'nothing is written before the turn ends');
  await nextTurn();
  assert.equal(written.length, 1, 'one write for the turn');
  assert.deepEqual(messages(written[0]!), ['one', 'two', 'three']);
  logger.info('four');
  await nextTurn();
  assert.deepEqual(written.map(messages), [['one', 'two', 'three'], ['four']]);
});

test('a batch that reaches 64 KiB is written at once, without waiting for the end of the turn', () => {
  const { written, logger } = capture('json', false, true);
  const filler = 'x'.repeat(1000);
  for (let i = 0; i < 70; i++) logger.info({ filler }, `line ${i}`);
  assert.ok(written.length >= 1, 'written within the turn');
  assert.ok(written[0]!.length >= 64 * 1024);
  assert.deepEqual(messages(written.join('')), Array.from({ length: written.join('').trimEnd().split('\n').length }, (_, i) => `line ${i}`));
});

test('lines still waiting when the process exits are written before it ends, by process.exit and by a thrown error alike', () => {
  const logger = fileURLToPath(new URL('../../src/observability/logger.ts', import.meta.url));
  for (const ending of ['process.exit(3)', "throw new Error('boom')"]) {
    const script = `import { createLogger, LogSink } from ${JSON.stringify(logger)};
      const log = createLogger('info', new LogSink({ format: 'json' }));
      log.info('first'); log.info('last'); ${ending};`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(run.status, 0, ending);
    assert.deepEqual(messages(run.stdout), ['first', 'last'], `${ending}: ${run.stderr}`);
  }
});

test("the access log's own line writer writes, byte for byte, the line pino writes for the same fields", () => {
  const { written, logger } = capture('json');
  const writeInfo = infoLineWriter(logger);
  assert.ok(writeInfo, 'a logger from createLogger has the fast writer');
  const cases: Record<string, unknown>[] = [
    { requestId: 'req_1', method: 'POST', route: '/v1/chat/completions', status: 200, durationMs: 1.234, provider: 'openai', model: 'gpt-4o', stream: false, matched: true, ruleId: null },
    { requestId: 'a "quoted" \\ id\n', status: 400, errorType: 'invalid_request_error', errorMessage: 'tab\there, unicode é 漢字, emoji 🎉', step: 0, skipped: undefined },
    { requestId: 'x' },
    // A lone surrogate (a client's `model` may hold one): pino writes short strings as they are.
    { requestId: 'y', model: 'gpt-4o\ud800', errorMessage: `${'long '.repeat(30)}\udfff` },
  ];
  for (const fields of cases) {
    written.length = 0;
    logger.info(fields, 'request');
    writeInfo(fields, 'request');
    assert.equal(written.length, 2);
    // The time field moves on between the two calls: compared without it.
    const [viaPino, viaWriter] = written.map((line) => line.replace(/"time":"[^"]+"/, '"time":"T"'));
    assert.equal(viaWriter, viaPino);
    assert.ok(viaWriter!.endsWith('\n'));
  }
});

test('with a subscriber on pino\'s pino_asJson tracing channel (an APM tool), access lines go through pino, so the subscriber sees them', () => {
  const { written, logger } = capture('json');
  const writeInfo = infoLineWriter(logger)!;
  const seen: unknown[] = [];
  const channel = tracingChannel('pino_asJson');
  const subscriber = { start: (message: unknown) => seen.push(message), end: () => {}, asyncStart: () => {}, asyncEnd: () => {}, error: () => {} };
  channel.subscribe(subscriber);
  try {
    writeInfo({ requestId: 'traced' }, 'request');
  } finally {
    channel.unsubscribe(subscriber);
  }
  assert.equal(seen.length, 1);
  assert.match(written.at(-1)!, /"requestId":"traced"/);
});

test("a library user's own logger gets no fast writer: its options (mixins, formatters) stay in charge", () => {
  const own = pino({ level: 'info' }, { write: () => {} });
  assert.equal(infoLineWriter(own), undefined);
});
