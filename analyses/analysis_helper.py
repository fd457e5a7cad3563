"""Runs a Python command analysis on a worker: typed parameters and outputs, the task, results.

A script declares a parameter model and an output model, and a function
`run_analysis(job, parameters)` returning the outputs, then calls `main(...)`:

    main(run_analysis, parameters=MyParameters, outputs=MyOutputs)

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


def json_schema(model):
    """The JSON Schema of a pydantic model or a dataclass."""
    return model.model_json_schema() if _is_pydantic(model) else _dataclass_schema(model)


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
