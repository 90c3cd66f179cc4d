import type { Provider } from '../providers/provider.ts';

/** What the middleware and handlers learn about one request, for its log line (and later metrics). */
export interface RequestState {
  provider: Provider;
  /** The provider route (a static path) this request was sent to, if it is one. */
  providerRoute?: string;
  requestId: string;
  startedAt: bigint;
  answer?: {
    model: string;
    prompt: string;
    ruleId: string | null;
    stream: boolean;
    /** The sequence step that answered (0-based), when the rule is a sequence. */
    step?: number;
    streamOutcome?: 'completed' | 'aborted' | 'failed';
    contentChunks?: number;
  };
}
