"""Runs a Python command analysis on a worker: typed parameters and outputs, the task, results.

A script declares a parameter model and an output model, and a function
`run_analysis(job, parameters)` returning the outputs, then calls `main(...)`:

    main(run_analysis, parameters=MyParameters, outputs=MyOutputs)

A script written for the institute's analysis wrapper template runs unchanged but for its import
of `run_analysis_jobs`, which this module also exports with the template's signature:

    run_analysis_jobs(analysis_input_model=..., analysis_output_model=..., run_function=...)

Models are pydantic models when pydantic is installed, or standard-library dataclasses (fields of
bool, int, float, str, lists of those, Optional of those; constraints in
`field(metadata={"json_schema": {...}})`, enforced by the worker), so a script with no
dependencies still runs on any python3. On a worker, `main` reads the task from $ANALYSIS_TASK_FILE, validates
its parameters, calls `run_analysis`, validates what it returned and writes `outputs.json` to
the results folder. `python3 script.py --schemas` prints the JSON Schemas of both models in the
shape of a manifest's `parameters` and `outputs`, so a manifest is never written by hand.

Standard library only.
"""

import dataclasses
import glob
import json
import os
import sys
import typing
from pathlib import Path

# Exit code for parameters or outputs that can never work (EX_DATAERR), distinct from a crash.
EXIT_INVALID = 65

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


class Job:
    """The task of one run: the worker's task file, and the folders it gave the program."""

    def __init__(self, task, input_dir, results_dir):
        self.task = task
        self.input_dir = Path(input_dir)
        self.results_dir = Path(results_dir)
        # Local copies of the task's inputs, when the manifest asked for downloads.
        self.input_files = task.get("input_files", [])

    def __getattr__(self, name):
        # The upstream task fields (s3_location, asset_name, file_location, ...) read as attributes.
        try:
            return self.task[name]
        except KeyError:
            raise AttributeError(name) from None


class ValidationError(ValueError):
    """Values a model rejects; the message names each field."""


def _is_pydantic(model):
    return hasattr(model, "model_validate") and hasattr(model, "model_json_schema")


def _field_schema(annotation):
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union and type(None) in args:
        inner = [arg for arg in args if arg is not type(None)]
        return {"anyOf": [_field_schema(inner[0]), {"type": "null"}]}
    if origin is list:
        return {"type": "array", "items": _field_schema(args[0])} if args else {"type": "array"}
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    raise TypeError(f"unsupported field type {annotation!r}: use pydantic for richer models")


def _dataclass_schema(model):
    hints = typing.get_type_hints(model)
    properties, required = {}, []
    for field in dataclasses.fields(model):
        schema = _field_schema(hints[field.name])
        # Constraints a type cannot say: field(metadata={"json_schema": {"exclusiveMinimum": 0}}).
        schema.update(field.metadata.get("json_schema", {}))
        if field.default is not dataclasses.MISSING:
            schema["default"] = field.default
        else:
            required.append(field.name)
        properties[field.name] = schema
    schema = {"title": model.__name__, "type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _check(value, annotation, where):
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union and type(None) in args:
        if value is None:
            return None
        return _check(value, next(arg for arg in args if arg is not type(None)), where)
    if origin is list:
        if not isinstance(value, list):
            raise ValidationError(f"{where}: must be a list")
        return [_check(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)] if args else value
    # bool is an int in Python; a JSON true is not a number.
    if annotation is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if annotation is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if annotation in (bool, str) and isinstance(value, annotation):
        return value
    raise ValidationError(f"{where}: must be {_JSON_TYPES.get(annotation, annotation)}")


def _validate_dataclass(model, raw):
    if not isinstance(raw, dict):
        raise ValidationError("must be an object")
    hints = typing.get_type_hints(model)
    # Fields the model does not name are ignored, as pydantic and zod do by default: parameters
    # shared by the analyses of one dispatch reach each of them.
    values = {}
    for field in dataclasses.fields(model):
        if field.name in raw:
            values[field.name] = _check(raw[field.name], hints[field.name], field.name)
        elif field.default is dataclasses.MISSING:
            raise ValidationError(f"{field.name}: is required")
    return model(**values)


# Values that are data, not schemas: left as written.
_DATA_KEYWORDS = ("default", "examples", "const", "enum")


def _plain_annotations(schema):
    """The schema with every `title` and `description` a string, as a JSON Schema must have them.

    pydantic copies `Field(description=("text",))` (a stray comma makes it a tuple) into the
    schema as a list, which a validator refuses; its words are kept, joined.
    """
    if isinstance(schema, list):
        return [_plain_annotations(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    plain = {}
    for key, value in schema.items():
        if key in ("title", "description") and isinstance(value, (list, tuple)):
            plain[key] = " ".join(str(part) for part in value)
        elif key in _DATA_KEYWORDS:
            plain[key] = value
        else:
            plain[key] = _plain_annotations(value)
    return plain


def json_schema(model):
    """The JSON Schema of a pydantic model or a dataclass."""
    if _is_pydantic(model):
        return _plain_annotations(model.model_json_schema())
    return _dataclass_schema(model)


def validate(model, raw):
    """An instance of the model from JSON values; raises ValidationError naming the field."""
    if not _is_pydantic(model):
        return _validate_dataclass(model, raw)
    try:
        return model.model_validate(raw)
    except Exception as err:  # pydantic.ValidationError, without importing pydantic here
        errors = getattr(err, "errors", None)
        if not callable(errors):
            raise
        raise ValidationError(
            "; ".join(".".join(str(part) for part in e["loc"]) + ": " + e["msg"] for e in errors())
        ) from None


def to_json(value):
    """Outputs as JSON values, from a model instance or a plain dict."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    return value


def main(run_analysis, parameters, outputs):
    """Runs `run_analysis(job, parameters)` on the worker's task, or prints the schemas."""
    if sys.argv[1:] == ["--schemas"]:
        print(json.dumps({"parameters": json_schema(parameters), "outputs": json_schema(outputs)}, indent=2))
        return
    task = json.loads(Path(os.environ["ANALYSIS_TASK_FILE"]).read_text())
    job = Job(task, os.environ["ANALYSIS_INPUT_DIR"], os.environ["ANALYSIS_RESULTS_DIR"])
    try:
        params = validate(parameters, task.get("parameters", {}))
    except ValidationError as err:
        print(f"invalid parameters: {err}", file=sys.stderr)
        sys.exit(EXIT_INVALID)
    result = run_analysis(job, params)
    try:
        checked = to_json(validate(outputs, to_json(result)))
    except ValidationError as err:
        print(f"invalid outputs: {err}", file=sys.stderr)
        sys.exit(EXIT_INVALID)
    (job.results_dir / "outputs.json").write_text(json.dumps(checked, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------
# The institute's analysis wrapper template: run_analysis_jobs(...)
# ---------------------------------------------------------------------------------------------

# Where a Code Ocean capsule finds its data (its task in job_dict/) and leaves its results; the
# environment names other folders.
_CAPSULE_DATA = Path("/data")
_CAPSULE_RESULTS = Path("/results")

# What ends a run that was started the wrong way (EX_USAGE), as opposed to bad data.
EXIT_USAGE = 64

# The fields of analysis-pipeline-utils' AnalysisDispatchModel.
_DISPATCH_FIELDS = (
    "s3_location",
    "asset_name",
    "docdb_record_id",
    "file_location",
    "distributed_parameters",
    "group_metadata",
    "query",
    "analysis_code",
)


class _Fields:
    """JSON values read as attributes, objects nested inside too, like the models they stand for."""

    def __init__(self, values):
        self._values = values

    def __getattr__(self, name):
        try:
            value = self._values[name]
        except KeyError:
            raise AttributeError(name) from None
        return _Fields(value) if isinstance(value, dict) else value

    def model_dump(self, **_options):
        return json.loads(json.dumps(self._values))

    def __repr__(self):
        return f"{type(self).__name__}({self._values!r})"


class DispatchInputs(_Fields):
    """The task as analysis-pipeline-utils' AnalysisDispatchModel holds it, where that is not installed."""

    def __init__(self, task):
        super().__init__({name: task.get(name) for name in _DISPATCH_FIELDS})


def dispatch_inputs(task):
    """The institute's AnalysisDispatchModel of the task when its package is importable, else DispatchInputs."""
    try:
        from analysis_pipeline_utils.analysis_dispatch_model import AnalysisDispatchModel
    except ImportError:
        return DispatchInputs(task)
    return AnalysisDispatchModel.model_validate({name: task.get(name) for name in _DISPATCH_FIELDS})


def names_analysis(model):
    """Whether a parameter model declares `analysis_name`, which then holds the analysis's name."""
    return "analysis_name" in json_schema(model).get("properties", {})


def template_parameters(task, model):
    """The parameters a template model validates, as the upstream record's `code.parameters` are.

    A worker's task holds the merged parameters, checked against the manifest (which gave
    `analysis_name` to a schema declaring it); a bare AnalysisDispatchModel holds them in
    `analysis_code.parameters`, with this task's `distributed_parameters` over them, as the
    template's wrapper merges them.
    """
    if isinstance(task.get("parameters"), dict):
        parameters = dict(task["parameters"])
    else:
        code = task.get("analysis_code") or {}
        parameters = {**(code.get("parameters") or {}), **(task.get("distributed_parameters") or {})}
    name = (task.get("analysis") or {}).get("analysis_name") or (task.get("analysis_code") or {}).get("name")
    if name and "analysis_name" not in parameters and names_analysis(model):
        parameters["analysis_name"] = name
    return parameters


def _task_file():
    named = os.environ.get("ANALYSIS_TASK_FILE")
    if named:
        return Path(named)
    # A capsule's layout: its task is the one file of /data/job_dict.
    folder = Path(os.environ.get("ANALYSIS_INPUT_DIR") or _CAPSULE_DATA) / "job_dict"
    found = sorted(Path(path) for path in glob.glob(str(folder / "*")) if os.path.isfile(path))
    if len(found) != 1:
        print(
            f"run_analysis_jobs: expected one task: ANALYSIS_TASK_FILE is not set and {folder} holds {len(found)} files",
            file=sys.stderr,
        )
        sys.exit(EXIT_USAGE)
    return found[0]


def run_analysis_jobs(analysis_input_model, analysis_output_model, run_function):
    """Runs a wrapper-template analysis on its task: `run_function(dispatch_inputs, parameters)`.

    The task is read from $ANALYSIS_TASK_FILE (a worker's), else from the one file of
    job_dict/ in $ANALYSIS_INPUT_DIR or /data (a capsule's). `parameters` is an instance of `analysis_input_model` (a
    pydantic model or aind-data-schema GenericModel); `run_function` returns a dict, a model or
    None, which `analysis_output_model` validates into `outputs.json` of the results folder
    ($ANALYSIS_RESULTS_DIR, else /results). The worker uploads and records it. With
    `--schemas`, prints both models' JSON Schemas for the manifest instead.
    """
    arguments = sys.argv[1:]
    if arguments == ["--schemas"]:
        print(
            json.dumps(
                {"parameters": json_schema(analysis_input_model), "outputs": json_schema(analysis_output_model)},
                indent=2,
            )
        )
        return
    if arguments:
        print(
            f"run_analysis_jobs: unexpected arguments {arguments}: parameters come from the task "
            "(the dispatch's spec and parameter files)",
            file=sys.stderr,
        )
        sys.exit(EXIT_USAGE)
    task_file = _task_file()
    task = json.loads(task_file.read_text())
    results_dir = Path(os.environ.get("ANALYSIS_RESULTS_DIR") or _CAPSULE_RESULTS)
    try:
        parameters = validate(analysis_input_model, template_parameters(task, analysis_input_model))
    except ValidationError as err:
        print(f"invalid parameters: {err}", file=sys.stderr)
        sys.exit(EXIT_INVALID)
    print(f"running analysis for the task {task_file}", file=sys.stderr)
    result = run_function(dispatch_inputs(task), parameters)
    try:
        outputs = to_json(validate(analysis_output_model, {} if result is None else to_json(result)))
    except ValidationError as err:
        print(f"invalid outputs: {err}", file=sys.stderr)
        sys.exit(EXIT_INVALID)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "outputs.json").write_text(json.dumps(outputs, indent=2) + "\n")
