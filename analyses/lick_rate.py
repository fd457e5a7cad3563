#!/usr/bin/env python3
"""Lick rate: lick count, rate and inter-lick intervals of behavior lick files.

A command analysis registered by analyses/lick_rate.analysis.json, whose JSON Schemas the worker
checks its parameters and outputs against. It reads the task from
$ANALYSIS_TASK_FILE, the downloaded `*.json` files holding {"lick_times": [seconds, ...]} from
$ANALYSIS_INPUT_DIR, and writes lick_rate.csv (licks per time bin) and outputs.json to
$ANALYSIS_RESULTS_DIR. Standard library only, so it runs on any python3.
"""

import csv
import json
import math
import os
import statistics
import sys
from pathlib import Path

# Exit code for parameters that can never work (EX_USAGE), distinct from a crash.
EXIT_INVALID_PARAMETERS = 64


class Parameters:
    """The parameter model; checked again here so the script stays safe to run by hand."""

    def __init__(self, raw):
        if not isinstance(raw, dict):
            raise ValueError("parameters: must be an object")
        bin_size = raw.get("bin_size_s", 10.0)
        # bool is an int in Python; a JSON true is not a bin size.
        if isinstance(bin_size, bool) or not isinstance(bin_size, (int, float)):
            raise ValueError("bin_size_s: must be a number")
        if not math.isfinite(bin_size) or bin_size <= 0:
            raise ValueError("bin_size_s: must be greater than 0")
        self.bin_size_s = float(bin_size)


def lick_files(input_dir):
    """Every JSON file under the input folder that holds a lick_times list, sorted by path."""
    for path in sorted(Path(input_dir).rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            print(f"skipping {path.name}: not readable JSON ({err})", file=sys.stderr)
            continue
        times = data.get("lick_times") if isinstance(data, dict) else None
        if not isinstance(times, list):
            print(f"skipping {path.relative_to(input_dir)}: no lick_times list", file=sys.stderr)
            continue
        yield path, sorted(float(t) for t in times)


def bins(times, bin_size):
    """(start, end, count) for consecutive bins covering the licks."""
    if not times:
        return []
    first = math.floor(times[0] / bin_size)
    counts = {}
    for t in times:
        index = math.floor(t / bin_size) - first
        counts[index] = counts.get(index, 0) + 1
    last = max(counts)
    return [((first + i) * bin_size, (first + i + 1) * bin_size, counts.get(i, 0)) for i in range(last + 1)]


def rounded(value):
    return None if value is None else round(value, 6)


def main():
    task = json.loads(Path(os.environ["ANALYSIS_TASK_FILE"]).read_text())
    input_dir = Path(os.environ["ANALYSIS_INPUT_DIR"])
    results_dir = Path(os.environ["ANALYSIS_RESULTS_DIR"])
    try:
        params = Parameters(task.get("parameters", {}))
    except ValueError as err:
        print(f"invalid parameters: {err}", file=sys.stderr)
        return EXIT_INVALID_PARAMETERS

    source_of = {item["path"]: item["s3_url"] for item in task.get("input_files", [])}
    files = list(lick_files(input_dir))
    if not files:
        print(
            "no lick files in the inputs: dispatch with --file_extension licks.json "
            "(or .json) and download_inputs: true",
            file=sys.stderr,
        )
        return 1

    total_licks = 0
    total_duration = 0.0
    intervals = []
    with open(results_dir / "lick_rate.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["source", "bin_start_s", "bin_end_s", "licks", "rate_hz"])
        for path, times in files:
            relative = path.relative_to(input_dir).as_posix()
            source = source_of.get(relative, relative)
            for start, end, count in bins(times, params.bin_size_s):
                writer.writerow([source, start, end, count, count / params.bin_size_s])
            total_licks += len(times)
            if len(times) > 1:
                total_duration += times[-1] - times[0]
                intervals.extend(b - a for a, b in zip(times, times[1:]))
            print(f"{relative}: {len(times)} licks", file=sys.stderr)

    outputs = {
        "files": len(files),
        "bin_size_s": params.bin_size_s,
        "lick_count": total_licks,
        "duration_s": rounded(total_duration),
        "lick_rate_hz": rounded(total_licks / total_duration) if total_duration > 0 else None,
        "ili_mean_s": rounded(statistics.fmean(intervals)) if intervals else None,
        "ili_median_s": rounded(statistics.median(intervals)) if intervals else None,
        "ili_min_s": rounded(min(intervals)) if intervals else None,
        "ili_max_s": rounded(max(intervals)) if intervals else None,
    }
    (results_dir / "outputs.json").write_text(json.dumps(outputs, indent=2) + "\n")
    print(json.dumps(outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
