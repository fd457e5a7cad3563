#!/usr/bin/env bash
# The quickstart: brings up the local stack, seeds the demo catalogue, starts a worker, runs
# dispatches of the example analyses (TypeScript, and Python registered by manifests) with a live
# progress bar, and shows the results. The stack and the worker keep running afterwards so you can
# look around; ./temporal-dev.sh down stops all.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-node-modules.sh
scripts/build.sh
./temporal-dev.sh up >/dev/null
eval "$(./temporal-dev.sh env)"
export ANALYSIS_BUCKET="${ANALYSIS_BUCKET:-analysis-results}"

echo "== seeding the demo catalogue" >&2
NODE_NO_WARNINGS=1 node_modules/.bin/tsx scripts/seed.ts

# Lick Bouts is written with pydantic models: the worker runs its python3 from the project's venv.
venv_python=$(scripts/install-python-formats.sh)
PATH="$(dirname "$venv_python"):$PATH"
export PATH

mkdir -p .dev/run .dev/logs
pidfile=.dev/run/worker.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "== worker already running (pid $(cat "$pidfile"))" >&2
else
  echo "== starting a worker (log: .dev/logs/worker.log)" >&2
  setsid nohup node bin/analysis.js worker >.dev/logs/worker.log 2>&1 </dev/null &
  echo $! >"$pidfile"
fi

echo "== dispatching Unit Yield (TypeScript) and Lick Rate (Python) over subject 741213's behavior sessions" >&2
# shellcheck disable=SC2016 # $regex is MongoDB's operator, not a shell expansion
node bin/analysis.js dispatch \
  --query '{"name": {"$regex": "^behavior_741213.*processed"}}' \
  --file_extension "" --split_files 1 --num_parallel_workers 50 \
  --analysis_spec analyses/specs/both.json --wait

echo "== dispatching Lick Bouts (Python, pydantic models) over the same sessions" >&2
# shellcheck disable=SC2016 # $regex is MongoDB's operator, not a shell expansion
node bin/analysis.js dispatch \
  --query '{"name": {"$regex": "^behavior_741213.*processed"}}' \
  --analysis_spec analyses/specs/lick-bouts.json --wait

echo
echo "== results" >&2
node bin/analysis.js results --limit 20

# The commands to try, in the form users type them: with this clone's bin/ on PATH.
cat >&2 <<MSG

The stack and a worker are still running. Try:
  eval "\$(./temporal-dev.sh env)"; export ANALYSIS_BUCKET=analysis-results
  export PATH="$PWD/bin:\$PATH"               # the analysis command, in this shell
  analysis status <dispatch id>              counts, rate, failures
  analysis results --analysis_name "Lick Rate" --csv
  analysis schedule create nightly --every 24h --query '{}' --analysis_spec analyses/specs/unit-yield.json
  Web UI: http://localhost:8233  (search: DispatchId="<dispatch id>")
Stop everything: ./temporal-dev.sh down
MSG
