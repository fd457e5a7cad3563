#!/usr/bin/env python3
"""Lick bouts: runs of licks separated by short gaps, per behavior session.

Written the way the institute's analysis wrapper template is: a parameter model, an output
model (pydantic) and `run_analysis(job, parameters)`. Registered by
analyses/lick_bouts.analysis.json, whose schemas are `python3 analyses/lick_bouts.py --schemas`.
Needs pydantic (the project's venv has it: scripts/install-python-formats.sh).
"""

import json
import statistics
import sys
from typing import Optional

from pydantic import BaseModel, Field

from analysis_helper import main


class LickBoutsParameters(BaseModel):
    """Licks closer than max_gap_s belong to one bout; shorter runs are not bouts."""

    max_gap_s: float = Field(default=0.5, gt=0, description="Longest gap within a bout, in seconds")
    min_licks_per_bout: int = Field(default=2, ge=1, description="Fewest licks a bout holds")


class LickBoutsOutputs(BaseModel):
    sessions: int = Field(ge=0)
    bout_count: int = Field(ge=0)
    licks_in_bouts: int = Field(ge=0)
    mean_licks_per_bout: Optional[float] = None
    mean_bout_duration_s: Optional[float] = None


def bouts(times, max_gap_s, min_licks):
    """Runs of consecutive licks with gaps of at most max_gap_s, of at least min_licks licks."""
    runs, current = [], []
    for t in sorted(times):
        if current and t - current[-1] > max_gap_s:
            runs.append(current)
            current = []
        current.append(t)
    if current:
        runs.append(current)
    return [run for run in runs if len(run) >= min_licks]


def run_analysis(job, parameters: LickBoutsParameters) -> LickBoutsOutputs:
    found = []
    for item in job.input_files:
        data = json.loads((job.input_dir / item["path"]).read_text())
        times = data.get("lick_times") if isinstance(data, dict) else None
        if isinstance(times, list):
            found.append(bouts([float(t) for t in times], parameters.max_gap_s, parameters.min_licks_per_bout))
    if not found:
        print("no lick files in the inputs (behavior/licks.json)", file=sys.stderr)
        sys.exit(1)
    every = [bout for session in found for bout in session]
    with open(job.results_dir / "bouts.csv", "w") as out:
        out.write("session,bout,start_s,end_s,licks\n")
        for session, session_bouts in zip(job.asset_name, found):
            for index, bout in enumerate(session_bouts):
                out.write(f"{session},{index},{bout[0]},{bout[-1]},{len(bout)}\n")
    return LickBoutsOutputs(
        sessions=len(found),
        bout_count=len(every),
        licks_in_bouts=sum(len(bout) for bout in every),
        mean_licks_per_bout=round(statistics.fmean(len(b) for b in every), 6) if every else None,
        mean_bout_duration_s=round(statistics.fmean(b[-1] - b[0] for b in every), 6) if every else None,
    )


if __name__ == "__main__":
    main(run_analysis, parameters=LickBoutsParameters, outputs=LickBoutsOutputs)
