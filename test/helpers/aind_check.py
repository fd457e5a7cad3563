"""Validates documents with the institute's own models, for the tests.

Reads JSON lines from stdin, each {"model": "Metadata" | "AnalysisDispatchModel", "document": {...}},
and writes one JSON line per input: {"ok": true} or {"ok": false, "errors": [...]}, where each error
names the field path and pydantic's message.
"""

import json
import sys
import warnings

from aind_data_schema.core.metadata import Metadata
from aind_data_schema.core.processing import Processing
from analysis_pipeline_utils.analysis_dispatch_model import AnalysisDispatchModel
from pydantic import ValidationError

MODELS = {"Metadata": Metadata, "AnalysisDispatchModel": AnalysisDispatchModel}

# Metadata warns about the files an asset record would have (subject, data_description, ...);
# an analysis record has none of them by design.
warnings.simplefilter("ignore")

for line in sys.stdin:
    if not line.strip():
        continue
    request = json.loads(line)
    try:
        MODELS[request["model"]].model_validate(request["document"])
        result = {"ok": True}
    except ValidationError as err:
        result = {
            "ok": False,
            "errors": [
                ".".join(str(part) for part in error["loc"]) + ": " + error["msg"]
                for error in err.errors()
            ],
        }
    except Exception as err:
        # Metadata's own validators fail with a plain error on a `processing` its schema refused;
        # the Processing model names the fields.
        errors = [f"{type(err).__name__}: {err}"]
        try:
            Processing.model_validate(request["document"].get("processing"))
        except ValidationError as detail:
            errors = [
                "processing." + ".".join(str(part) for part in error["loc"]) + ": " + error["msg"]
                for error in detail.errors()
            ]
        result = {"ok": False, "errors": errors}
    print(json.dumps(result), flush=True)
