#!/usr/bin/env python3
"""Lick rate: lick count, rate and inter-lick intervals of behavior lick files.

A command analysis registered by analyses/lick_rate.analysis.json, whose schemas come from the
models below (`python3 analyses/lick_rate.py --schemas`). It reads the downloaded `*.json` files
holding {"lick_times": [seconds, ...]} and writes lick_rate.csv (licks per time bin); the helper
writes outputs.json. Standard library only, so it runs on any python3.
"""

import csv
import json
import math
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from analysis_helper import main


@dataclass
class LickRateParameters:
    bin_size_s: float = field(default=10.0, metadata={"json_schema": {"exclusiveMinimum": 0}})


@dataclass
class LickRateOutputs:
    files: int
    bin_size_s: float
    lick_count: int
    duration_s: Optional[float]
    lick_rate_hz: Optional[float]
    ili_mean_s: Optional[float]
    ili_median_s: Optional[float]
    ili_min_s: Optional[float]
    ili_max_s: Optional[float]


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


def run_analysis(job, parameters):
    input_dir = job.input_dir
    source_of = {item["path"]: item["s3_url"] for item in job.input_files}
    files = list(lick_files(input_dir))
    if not files:
        print(
            "no lick files in the inputs: dispatch with --file_extension licks.json "
            "(or .json) and download_inputs: true",
            file=sys.stderr,
        )
        sys.exit(1)

    total_licks = 0
    total_duration = 0.0
    intervals = []
    with open(job.results_dir / "lick_rate.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["source", "bin_start_s", "bin_end_s", "licks", "rate_hz"])
        for path, times in files:
            relative = path.relative_to(input_dir).as_posix()
            source = source_of.get(relative, relative)
            for start, end, count in bins(times, parameters.bin_size_s):
                writer.writerow([source, start, end, count, count / parameters.bin_size_s])
            total_licks += len(times)
            if len(times) > 1:
                total_duration += times[-1] - times[0]
                intervals.extend(b - a for a, b in zip(times, times[1:]))
            print(f"{relative}: {len(times)} licks", file=sys.stderr)

    return LickRateOutputs(
        files=len(files),
        bin_size_s=parameters.bin_size_s,
        lick_count=total_licks,
        duration_s=rounded(total_duration),
        lick_rate_hz=rounded(total_licks / total_duration) if total_duration > 0 else None,
        ili_mean_s=rounded(statistics.fmean(intervals)) if intervals else None,
        ili_median_s=rounded(statistics.median(intervals)) if intervals else None,
        ili_min_s=rounded(min(intervals)) if intervals else None,
        ili_max_s=rounded(max(intervals)) if intervals else None,
    )


if __name__ == "__main__":
    main(run_analysis, parameters=LickRateParameters, outputs=LickRateOutputs)
