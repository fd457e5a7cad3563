import { writeFile } from 'node:fs/promises';

export const baselineActivities = {
  /** Nothing to do, so its cost is Temporal's round trip alone. */
  async noop(): Promise<void> {},
  /** Writes the time it started (ms since the epoch) to `path`: when the work itself began. */
  async stamp(path: string): Promise<void> {
    await writeFile(path, `${Date.now()}\n`);
  },
};

export type BaselineActivities = typeof baselineActivities;
