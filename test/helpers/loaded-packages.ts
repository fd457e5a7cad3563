import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let probe: string | undefined;

/**
 * A script to preload (`--require`) into a Node process: as the process exits, it writes the
 * packages it loaded to stderr as `LOADED [...]`. Read them back with `loadedPackages`.
 */
export function loadedPackagesProbe(): string {
  if (probe) return probe;
  probe = join(mkdtempSync(join(tmpdir(), 'loaded-packages-')), 'probe.js');
  writeFileSync(
    probe,
    `process.on('exit', () => {
      const names = new Set();
      for (const file of Object.keys(require.cache)) {
        const at = file.lastIndexOf('node_modules/');
        if (at === -1) continue;
        const parts = file.slice(at + 13).split('/');
        names.add(parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0]);
      }
      process.stderr.write('LOADED ' + JSON.stringify([...names]) + '\\n');
    });`,
  );
  return probe;
}

/** The packages the probe reported in a process's stderr; undefined when it reported none. */
export function loadedPackages(stderr: string): string[] | undefined {
  const line = /^LOADED (.*)$/m.exec(stderr)?.[1];
  return line === undefined ? undefined : (JSON.parse(line) as string[]);
}
