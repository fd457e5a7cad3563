// Types of process-tree.mjs, for the TypeScript that tests it.

export const TICKS_PER_SECOND: number;

/** The fields of `/proc/<pid>/stat` the meter reads. */
export interface ProcessStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  starttime: string | undefined;
}

export interface ProcessMemory {
  rssKib: number | undefined;
  hwmKib: number | undefined;
}

export function parseStat(text: string): ProcessStat;
export function statusKib(status: string, field: string): number | undefined;
export function environValue(environ: string, name: string): string | undefined;

export class TreeMeter {
  constructor(leader: number, waiter: number);
  observe(
    processes: ProcessStat[],
    isMarked: (process: ProcessStat) => boolean,
    memory: (process: ProcessStat) => ProcessMemory | undefined,
  ): Set<number>;
  unwaitedTicks(): number;
  waitedTicks(): { leader: number; bound: number };
  peakMemoryKib(): number;
}

export function readProcesses(): ProcessStat[];
export function readMemory(process: ProcessStat): ProcessMemory | undefined;
export function markReader(name: string): {
  markOf: (process: ProcessStat) => string | undefined;
  prune: (processes: ProcessStat[]) => void;
};
