import type { Context } from 'koa';
import type { Clock } from '../engine/clock.ts';
import type { RequestState } from './state.ts';

/** Milliseconds since the request arrived, to the microsecond. */
export function elapsedMs(state: RequestState): number {
  return Math.round((Number(process.hrtime.bigint() - state.startedAt) / 1e6) * 1000) / 1000;
}

/** Sets the owning provider's processing-time header (OpenAI's `openai-processing-ms`), if it has one. */
export function stampProcessingTime(ctx: Context): void {
  const state = ctx.state as RequestState;
  if (state.provider.timingHeader && !ctx.res.headersSent) ctx.res.setHeader(state.provider.timingHeader, String(Math.round(elapsedMs(state))));
}

/** Waits, unless the client hangs up first (then the response is abandoned: false). */
export async function waitUnlessGone(ctx: Context, ms: number, clock: Clock): Promise<boolean> {
  if (ms <= 0) return true;
  const gone = new AbortController();
  const onClose = () => gone.abort();
  ctx.res.once('close', onClose);
  try {
    if (await clock.sleep(ms, gone.signal)) return true;
    ctx.respond = false;
    return false;
  } finally {
    ctx.res.off('close', onClose);
  }
}
