// The peer: @copilotkit/aimock's LLMock, as its CLI starts it (`llmock -f fixtures.json`, log level
// info, which writes nothing per request), plus the IPC stats of child-stats.ts, so it is measured
// from the inside exactly as mockllm and the bare baseline are.
//   node bench/aimock-entry.ts <fixtures.json>
import { LLMock } from '@copilotkit/aimock';
import { serveStats } from './child-stats.ts';

const [fixturesPath] = process.argv.slice(2);
if (!fixturesPath) throw new Error('usage: aimock-entry.ts <fixtures.json>');

const mock = new LLMock({ port: 0, host: '127.0.0.1', logLevel: 'info' });
mock.loadFixtureFile(fixturesPath);
await mock.start();
serveStats(() => mock.stop());
process.send!({ type: 'ready', url: mock.url, pid: process.pid });
