// Decodes Anthropic Messages answers into rule responses for `--record` (src/proxy/record.ts), with
// the decoder Bedrock's InvokeModel shares (providers/anthropic-messages-recorded.ts).
import { decodeMessage, decodeMessageEvents, type TimedEvent } from '../anthropic-messages-recorded.ts';
import type { ProviderRecorder, Recording, UpstreamAnswer, UpstreamFrame } from '../provider.ts';
import { parseJsonObject as parse } from '../recorded-json.ts';

function* events(frames: readonly UpstreamFrame[]): Generator<TimedEvent> {
  for (const frame of frames) {
    const event = parse(frame.data);
    if (event) yield { event, name: frame.event, atMs: frame.atMs };
  }
}

export const anthropicRecorder: ProviderRecorder = {
  decode(answer: UpstreamAnswer): Recording | undefined {
    if (!answer.endpoint.endsWith('/messages')) return undefined;
    if (answer.frames !== undefined) return decodeMessageEvents(events(answer.frames));
    const body = parse(answer.body);
    return body && decodeMessage(body);
  },
};
