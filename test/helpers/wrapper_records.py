"""Records as the institute's current analysis wrapper writes them, made by its own functions.

Reads JSON lines from stdin, each
  {"url": ..., "version": ..., "name": ..., "bucket": ..., "dispatch": {AnalysisDispatchModel},
   "output_parameters": {...}}
and writes one JSON line per input: the record the wrapper's run_analysis_jobs would insert into
its document database (its `_id` the record's hash, as write_to_docdb sets it). What the wrapper
asks of Code Ocean's API (the capsule's URL, version and name) is given instead; everything
after that is analysis-pipeline-utils' own code: update_analysis_process,
analysis_pipeline_processing_metadata and create_results_metadata.
"""

import json
import sys
import warnings
from datetime import datetime, timezone

import aind_data_schema.core.processing as ps
from aind_data_schema.base import GenericModel
from analysis_pipeline_utils.analysis_dispatch_model import AnalysisDispatchModel
from analysis_pipeline_utils.metadata import analysis_pipeline_processing_metadata, update_analysis_process
from analysis_pipeline_utils.result_files import create_results_metadata

warnings.simplefilter("ignore")

for line in sys.stdin:
    if not line.strip():
        continue
    request = json.loads(line)
    started = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    # What get_codeocean_process_metadata builds from the capsule, with the parameters taken
    # away again as run_analysis_jobs does: the task's parameters come from its dispatch inputs.
    base_process = ps.DataProcess(
        experimenters=["scientist@example.org"],
        process_type=ps.ProcessName.ANALYSIS,
        stage=ps.ProcessStage.ANALYSIS,
        start_date_time=started,
        name=request["name"],
        code=ps.Code(
            name=request["name"],
            url=request["url"],
            version=request["version"],
            run_script="code/run",
            parameters={},
            input_data=[],
        ),
    )
    base_process.code.parameters = GenericModel()
    processing = analysis_pipeline_processing_metadata(base_process)
    dispatch_inputs = AnalysisDispatchModel.model_validate(request["dispatch"])
    process = update_analysis_process(base_process, dispatch_inputs)
    processing.data_processes = [process]
    process.end_date_time = started
    process.output_parameters = GenericModel(**request.get("output_parameters", {}))
    metadata, docdb_id = create_results_metadata(processing, request["bucket"])
    record = metadata.model_dump(mode="json")
    record["_id"] = docdb_id
    print(json.dumps(record), flush=True)
