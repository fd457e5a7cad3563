import type { ProgramUsage } from './command';

const SAMPLE_MS = 200;
const MIB = 1024 * 1024;

/**
 * Starts measuring what a TypeScript analysis uses, which runs inside the worker's own process:
 * the process's CPU time over the run, and the peak of its resident memory above where it stood
 * when the run began (sampled every 200 ms). Both are of the whole worker process, so they count
 * whatever else it did meanwhile (other activities, its own polling, garbage collection): exact for
 * a worker running one analysis at a time, an approximation otherwise. The returned function stops
 * the measure and gives the figures.
 */
export function measureProcessUsage(): () => ProgramUsage {
  const cpuAtStart = process.cpuUsage();
  const rssAtStart = process.memoryUsage.rss();
  let peak = rssAtStart;
  const look = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const sampler = setInterval(look, SAMPLE_MS);
  sampler.unref();
  return () => {
    clearInterval(sampler);
    look();
    const cpu = process.cpuUsage(cpuAtStart);
    return {
      cpu_time_s: Math.round((cpu.user + cpu.system) / 1000) / 1000,
      peak_memory_mib: Math.round(((peak - rssAtStart) / MIB) * 10) / 10,
    };
  };
}
