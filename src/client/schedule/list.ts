import type { Session } from '../common';
import { listTable, scheduleRow } from './view';

/** `schedule list`. */
export async function listAction(session: Session, flags: { json?: boolean }): Promise<void> {
  const client = await session.temporal();
  const rows = [];
  // Other schedules may share the namespace: only those that start dispatches are ours.
  for await (const summary of client.schedule.list()) {
    if (summary.action?.workflowType === 'dispatch') rows.push(await scheduleRow(client, summary));
  }
  rows.sort((a, b) => a.schedule_id.localeCompare(b.schedule_id));
  if (flags.json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) console.error('no schedules (create one: analysis schedule create --help)');
  else console.log(listTable(rows));
}
