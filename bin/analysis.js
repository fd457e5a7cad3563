#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx, so a fresh clone needs no build step.
// The AWS SDK warns on every start that future releases need Node 22; versions are pinned in the
// lockfile, so the warning tells a user nothing they can act on.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const text = typeof warning === 'string' ? warning : warning && warning.message;
  if (String(text).includes('AWS SDK for JavaScript (v3)')) return;
  return emitWarning(warning, ...rest);
};
require('tsx/cjs');
require('../src/client/cli.ts');
