#!/usr/bin/env bash
# Installs the institute's own Python packages into the project's venv (.dev/venv), so the tests
# check records and task files with the real models, never with an imitation:
#   aind-data-schema          the Metadata model records are validated with
#   analysis-pipeline-utils   the AnalysisDispatchModel task files are validated with; --no-deps,
#                             because its model needs only aind-data-schema and pydantic, while its
#                             full dependencies (Code Ocean and DocDB clients) take pip minutes.
# Prints the venv's python on stdout. Does nothing when the pinned versions are already there.
set -euo pipefail
cd "$(dirname "$0")/.."

AIND_DATA_SCHEMA_VERSION=2.9.2
ANALYSIS_PIPELINE_UTILS_VERSION=0.2.8
VENV=.dev/venv
MARK=$VENV/.python-formats-$AIND_DATA_SCHEMA_VERSION-$ANALYSIS_PIPELINE_UTILS_VERSION

if [[ ! -f $MARK ]]; then
  if [[ ! -x $VENV/bin/pip ]]; then
    python3 -m venv "$VENV" || {
      echo "python3 -m venv failed: install Python's venv module (e.g. apt-get install python3-venv)" >&2
      exit 1
    }
  fi
  echo "installing aind-data-schema==$AIND_DATA_SCHEMA_VERSION and analysis-pipeline-utils==$ANALYSIS_PIPELINE_UTILS_VERSION into $VENV ..." >&2
  pip=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
  "${pip[@]}" "aind-data-schema==$AIND_DATA_SCHEMA_VERSION" >&2
  "${pip[@]}" --no-deps "analysis-pipeline-utils==$ANALYSIS_PIPELINE_UTILS_VERSION" >&2
  touch "$MARK"
fi
echo "$PWD/$VENV/bin/python"
