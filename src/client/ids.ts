import { randomBytes } from 'node:crypto';

/** Sortable, readable dispatch ids: `20261122-101530-3fa9`. */
export function newDispatchId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}
