import type { Decision } from '../engine/decide.ts';
import type { Provider, ProviderRoute } from '../providers/provider.ts';

/**
 * What the middleware learns about one request. The journal, the access log and the metrics read
 * the core's decision from here, set in one place (answer-route.ts), never by each handler.
 */
export interface RequestState {
  provider: Provider;
  /** The provider route that serves this request, when one does. */
  route?: ProviderRoute;
  params?: Record<string, string>;
  requestId: string;
  startedAt: bigint;
  /** Set once the request is parsed: whether it asked for a stream, and its model. */
  asked?: { model: string; prompt: string; stream: boolean };
  decision?: Decision;
  /** Set when no rule matched and the provider's upstream answered (src/proxy/): its origin. */
  proxied?: { upstream: string };
  /** How the stream went, when one was written. */
  delivered?: { outcome: 'completed' | 'aborted' | 'failed'; contentChunks: number };
}
