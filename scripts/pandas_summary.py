#!/usr/bin/env python3
"""The same session totals as `apheresis-monitor summary FILE --json`, computed with pandas.

Used only as the yardstick in scripts/bench.sh: the benchmark compares the whole-process time
of this script with the monitor's on the same recording. Needs `pip install pandas`.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

CUMULATIVE = ["inlet_ml", "ac_ml", "collect_ml", "plasma_ml", "replace_ml"]
CITRATE_MG_PER_ML = 21.3


def main(path: str) -> None:
    df = pd.read_csv(path, dtype={"text": str, "code": str, "state": str, "priority": str, "event_state": str, "kind": str}, keep_default_na=True)
    meta_path = Path(path).with_suffix("").with_suffix(".session.json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    weight = (meta.get("patient") or {}).get("weight_kg")

    t = df["elapsed_s"]
    out = {
        "started_utc": df["time_utc"].iloc[0],
        "ended_utc": df["time_utc"].iloc[-1],
        "duration_s": float(t.max() - t.min()),
    }
    # State spans: each state lasts until the next state row (or the last row).
    states = df.loc[df["kind"] == "state", ["elapsed_s", "state"]].reset_index(drop=True)
    ends = states["elapsed_s"].shift(-1).fillna(t.max())
    spans = ends - states["elapsed_s"]
    out["run_time_s"] = float(spans[states["state"] == "RUN"].sum())
    paused = states["state"] == "PAUSE"
    out["pause_count"] = int((paused & ~paused.shift(1, fill_value=False)).sum())
    out["pause_time_s"] = float(spans[paused].sum())

    samples = df.loc[df["kind"] == "sample"].copy()
    for q in CUMULATIVE:
        col = samples[q].dropna()
        out[q] = float(col.iloc[-1]) if len(col) else None
    out["wb_processed_ml"] = out["inlet_ml"] - out["ac_ml"]

    # Time-weighted means over RUN: each sample holds until the next.
    samples["state"] = df["state"].where(df["kind"] == "state").ffill().loc[samples.index]
    dt = samples["elapsed_s"].shift(-1) - samples["elapsed_s"]
    running = (samples["state"] == "RUN") & (dt > 0) & (dt <= 30)
    out["mean_inlet_ml_min"] = float((samples["inlet_ml_min"] * dt)[running].sum() / dt[running].sum())
    if weight:
        citrate = samples["ac_ml_min"] * CITRATE_MG_PER_ML / weight
        out["citrate_mean_mg_kg_min"] = float((citrate * dt)[running].sum() / dt[running].sum())
        series = pd.Series(np.where(running, citrate, np.nan), index=pd.to_timedelta(samples["elapsed_s"], unit="s"))
        out["citrate_peak_mg_kg_min"] = float(series.rolling("60s").mean().max())

    alarms = df.loc[(df["kind"] == "alarm") & (df["event_state"] == "ON")]
    for p, name in [("H", "alarms_high"), ("M", "alarms_medium"), ("L", "alarms_low")]:
        out[name] = int((alarms["priority"] == p).sum())
    notes = df.loc[df["kind"] == "note"]
    out["notes"] = int((notes["code"] != "ALARM_ACK").sum())
    links = df.loc[df["kind"] == "link"]
    gaps = links.loc[links["code"] == "SEQ_GAP", "text"].str.extract(r"^(\d+)")[0].astype(float)
    out["lost_sentences"] = int(gaps.sum())
    out["link_losses"] = int(links["code"].isin(["LINK_LOST", "LINK_SILENT"]).sum())
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
