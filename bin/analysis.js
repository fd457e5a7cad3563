#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` and `npm test`), or the TypeScript sources
// through tsx when dist/ is missing or older than a source file, so an edit takes effect without a
// build step and a fresh clone works either way.
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

// The AWS SDK warns on every start that future releases need Node 22; versions are pinned in the
// lockfile, so the warning tells a user nothing they can act on.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === 'string' ? warning : warning && warning.message;
  if (String(text).includes('AWS SDK for JavaScript (v3)')) return;
  return emitWarning(warning, ...rest);
};

const root = join(__dirname, '..');

/** Modification time of the newest file under `dir` (a few hundred stats: about a millisecond). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function compiledIsCurrent() {
  try {
    return statSync(join(root, 'dist', '.built')).mtimeMs >= newest(join(root, 'src'));
  } catch {
    return false;
  }
}

// A worker's main thread keeps the young generation it has before the CLI's modules load, which
// would grow it to 32 MiB for good (see holdNewSpace in src/workers/heap.ts).
const worker = process.argv[2] === 'worker';
if (process.env.ANALYSIS_FROM_SOURCE !== '1' && compiledIsCurrent()) {
  if (worker) require('../dist/workers/heap.js').holdNewSpace();
  require('../dist/client/cli.js');
} else {
  require('tsx/cjs');
  if (worker) require('../src/workers/heap.ts').holdNewSpace();
  require('../src/client/cli.ts');
}
