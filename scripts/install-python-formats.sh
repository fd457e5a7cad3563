#!/usr/bin/env bash
# Installs the institute's own Python packages into the project's venv (.dev/venv), so the tests
# check records and task files with the real models, never with an imitation:
#   aind-data-schema          the Metadata model records are validated with
#   analysis-pipeline-utils   the AnalysisDispatchModel task files are validated with, and the
#                             functions its wrapper builds records with (update_analysis_process,
#                             create_results_metadata); --no-deps, with the modules those import
#                             pinned below, because resolving its full dependencies (Code Ocean
#                             and DocDB clients, s3fs) takes pip minutes.
# and the project's analysis helper (analyses/pyproject.toml), so a Python analysis in any folder
# imports it. Prints the venv's python on stdout. Does nothing when all of it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

AIND_DATA_SCHEMA_VERSION=2.9.2
ANALYSIS_PIPELINE_UTILS_VERSION=0.2.8
# What analysis_pipeline_utils.metadata and .result_files import, checked by importing them below.
PIPELINE_UTILS_IMPORTS=(
  aind-data-access-api==1.10.0
  codeocean==0.15.0
  fsspec==2026.9.0
  boto3==1.44.18
  botocore==1.44.18
  s3transfer==0.19.3
  jmespath==1.1.0
  python-dateutil==4.0.0
  requests-toolbelt==1.0.0
  dataclasses-json==0.6.7
  marshmallow==4.4.0
  typing-inspect==0.9.0
  mypy-extensions==1.2.0
)
VENV=.dev/venv
HELPER=$(cat analyses/pyproject.toml analyses/analysis_helper.py | sha256sum | cut -c1-12)
FORMATS=$VENV/.python-formats-$AIND_DATA_SCHEMA_VERSION-$ANALYSIS_PIPELINE_UTILS_VERSION
IMPORTS=$VENV/.pipeline-utils-imports-$(printf '%s\n' "${PIPELINE_UTILS_IMPORTS[@]}" | sha256sum | cut -c1-12)
HELPER_MARK=$VENV/.analysis-helper-$HELPER

if [[ ! -x $VENV/bin/pip ]]; then
  python3 -m venv "$VENV" || {
    echo "python3 -m venv failed: install Python's venv module (e.g. apt-get install python3-venv)" >&2
    exit 1
  }
fi
pip=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
if [[ ! -f $FORMATS ]]; then
  echo "installing aind-data-schema==$AIND_DATA_SCHEMA_VERSION and analysis-pipeline-utils==$ANALYSIS_PIPELINE_UTILS_VERSION into $VENV ..." >&2
  "${pip[@]}" "aind-data-schema==$AIND_DATA_SCHEMA_VERSION" >&2
  "${pip[@]}" --no-deps "analysis-pipeline-utils==$ANALYSIS_PIPELINE_UTILS_VERSION" >&2
  touch "$FORMATS"
fi
if [[ ! -f $IMPORTS ]]; then
  echo "installing what analysis-pipeline-utils' record functions import into $VENV ..." >&2
  "${pip[@]}" --no-deps "${PIPELINE_UTILS_IMPORTS[@]}" >&2
  "$VENV/bin/python" -c 'import analysis_pipeline_utils.metadata, analysis_pipeline_utils.result_files' >&2
  touch "$IMPORTS"
fi
if [[ ! -f $HELPER_MARK ]]; then
  # Built from a copy: setuptools leaves build/ and *.egg-info beside the sources it builds.
  copy=$(mktemp -d)
  trap 'rm -rf "$copy"' EXIT
  cp analyses/pyproject.toml analyses/analysis_helper.py "$copy"/
  echo "installing the analysis helper into $VENV ..." >&2
  "${pip[@]}" --no-deps --force-reinstall "$copy" >&2
  rm -f "$VENV"/.analysis-helper-*
  touch "$HELPER_MARK"
fi
echo "$PWD/$VENV/bin/python"
