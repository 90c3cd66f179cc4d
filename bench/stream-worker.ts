// A load-generator process for the paced-stream scenarios: runs pacedStreams (bench/sse-client.ts)
// against the target it is sent over IPC and sends the raw figures back. Forked by bench/paced.ts
// with the 'advanced' serialization, so the typed arrays travel as they are.
import { pacedStreams, type PacedStreamsOptions, type StreamRequest } from './sse-client.ts';

process.once('message', async (message: { target: StreamRequest; options: PacedStreamsOptions }) => {
  const result = await pacedStreams(message.target, message.options);
  process.send!(result, () => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
