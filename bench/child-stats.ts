// Runs inside each benchmarked server process (mockllm and the bare baseline alike): answers the
// orchestrator's IPC questions about this process's RSS, CPU time and event-loop delay, so both
// servers are measured the same way, from the inside, with no sampling of /proc from outside.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface ChildStats {
  /** Wall time of the window since the last reset, in ms. */
  wallMs: number;
  /** user + system CPU time spent in the window, in ms (may exceed wallMs: GC threads). */
  cpuMs: number;
  /** cpuMs / wallMs × 100. */
  cpuPercent: number;
  rssMb: number;
  /** Highest RSS sampled (every 100 ms) in the window. */
  rssPeakMb: number;
  heapUsedMb: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number };
}

export type ParentMessage = { type: 'stats'; id: number; reset: boolean } | { type: 'stop' };

const MB = 1024 * 1024;

/** Starts measuring and answers `stats` messages; `stop` calls `onStop`. */
export function serveStats(onStop: () => Promise<void> | void): void {
  // 1 ms resolution: the figure that matters (p99 < 20 ms) must not be hidden by the sampler.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let windowStart = performance.now();
  let cpuStart = process.cpuUsage();
  let rssPeak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 100);
  sampler.unref();

  const read = (): ChildStats => {
    const wallMs = performance.now() - windowStart;
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const rss = process.memoryUsage.rss();
    rssPeak = Math.max(rssPeak, rss);
    const ns = (value: number) => Math.round((value / 1e6) * 100) / 100;
    return {
      wallMs: Math.round(wallMs),
      cpuMs: Math.round(cpuMs),
      cpuPercent: Math.round((cpuMs / wallMs) * 1000) / 10,
      rssMb: Math.round((rss / MB) * 10) / 10,
      rssPeakMb: Math.round((rssPeak / MB) * 10) / 10,
      heapUsedMb: Math.round((process.memoryUsage().heapUsed / MB) * 10) / 10,
      eventLoopDelayMs: { p50: ns(delay.percentile(50)), p99: ns(delay.percentile(99)), max: ns(delay.max), mean: ns(delay.mean) },
    };
  };

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stats') {
      const stats = read();
      if (message.reset) {
        windowStart = performance.now();
        cpuStart = process.cpuUsage();
        rssPeak = process.memoryUsage.rss();
        delay.reset();
      }
      process.send!({ type: 'stats', id: message.id, stats });
    } else if (message.type === 'stop') {
      clearInterval(sampler);
      delay.disable();
      void Promise.resolve(onStop()).then(() => process.exit(0));
    }
  });
  // The orchestrator died: do not linger as an orphan holding a port.
  process.on('disconnect', () => process.exit(0));
}
