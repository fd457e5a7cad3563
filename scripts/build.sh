#!/usr/bin/env bash
# Compiles src/ into dist/ (the CLI and the worker run the compiled code) and bundles the workflow
# code once into dist/workflow-bundle.js, which workers load from file. Runs on `npm install`
# (`prepare`) and at the start of `npm test`; incremental, so a build with nothing changed is quick.
set -euo pipefail
cd "$(dirname "$0")/.."
node_modules/.bin/tsc -p tsconfig.build.json
# Plain JavaScript that the compiled code runs by path (the command watchdog and its helper).
cp src/analysis/*.mjs dist/analysis/
node dist/workers/bundle.js dist/workflow-bundle.js
# Written last: bin/analysis.js runs dist/ only when this stamp is newer than every source file.
date -u +%FT%TZ >dist/.built
