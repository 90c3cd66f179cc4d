import type { Provider } from '../providers/provider.ts';

/** What the middleware and handlers learn about one request, for its log line (and later metrics). */
export interface RequestState {
  provider: Provider;
  requestId: string;
  startedAt: bigint;
  answer?: {
    model: string;
    prompt: string;
    ruleId: string | null;
    stream: boolean;
    streamOutcome?: 'completed' | 'aborted';
    contentChunks?: number;
  };
}
