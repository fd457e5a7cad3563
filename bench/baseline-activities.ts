/** The baseline's only activity: nothing to do, so its cost is Temporal's round trip alone. */
export const baselineActivities = {
  async noop(): Promise<void> {},
};

export type BaselineActivities = typeof baselineActivities;
