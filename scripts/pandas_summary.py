#!/usr/bin/env python3
"""An independent oracle for `apheresis-monitor summary FILE --json`, computed with pandas.

    python3 scripts/pandas_summary.py RECORDING.csv      # prints one JSON object

It prints the summary's figures under the monitor's JSON keys (`null` for a figure that cannot
be computed). tests/summary_oracle.rs runs it on tests/fixtures/ and sample-data/ and compares
the monitor's output with it figure by figure; scripts/bench.sh also times it as the yardstick
for the monitor's load + summary speed. Needs pandas (`apt-get install python3-pandas` or
`pip install pandas`); works with pandas 1.5 and later.

It is written from the contracts, not from the Rust code: the recording format
(docs/protocol-APH1.md and ../shared/protocol-APH1.md), the summary's definitions in the doc
comment of src/analysis/summary.rs and its field docs, docs/tbv-and-change-trail.md for the
total blood volume, and Nadler's formula. The rules, one per
figure:

- Rows: the first line must be the header; a row with fewer than 23 cells, an unknown `kind`,
  an unreadable time, `elapsed_s`, `seq` or number, a state/priority/event state not in the
  format, is skipped and counted (`rows_skipped`). A text cell loses one leading `'` in front
  of `= + - @ tab CR '`.
- Session time: the machine's `elapsed_s`. Rows from the machine are the rows that carry a
  `seq` (docs: `seq` is empty on monitor rows). When a machine row's `elapsed_s` is below the
  previous machine row's, the machine restarted: from that row on, the axis is shifted forward
  by the fall, so time never runs back and no time passes across the restart. Monitor rows
  (notes, link rows) take the current shift; a row without `elapsed_s` has no session time
  (a state, alarm or note without one is put at the latest session time so far).
- `started_utc`/`ended_utc`: receipt time of the first and last readable row;
  `duration_s`: from the first row's session time to the latest session time.
- The procedure's times, receipt times of state rows (issue 13 §6): `run_start_utc` the first
  RUN row; `collection_end_utc` the first RINSEBACK or END row after it; `end_utc` the first END
  row after it, or, when there is no RUN row, the first END row. `null` when there is no such
  row.
- States: a state row repeating the state in force opens nothing; each state lasts until the
  next state row (the last one until the latest session time); END lasts no time.
  `run_time_s`, `pause_time_s`: the sums for RUN and PAUSE; `pause_count`: PAUSE spans. All
  `null` when the recording has no state row.
- Volumes (counters), as ../shared/protocol-APH1.md states and docs/counters.md makes exact,
  from the sample values alone (`link` rows are not read for this): each quantity on its own.
  A value more than 1 mL below the one the same counter sent before ends that counter's count
  and starts a new one (a product-bag change); a fall of 1 mL or less is jitter and changes
  nothing. The machine restarting ends every counter's count: its time went back (see above),
  or, in one sample, every counter that had passed 1 mL fell by more than 1 mL, and there were
  at least two of them. A count contributes the highest value it reached (so jitter is
  neither counted twice nor counted down), and a counter's total is the sum over its counts.
  Differences are taken in exact decimals (the recording writes each value as its shortest
  decimal), so "exactly 1 mL" is exact. `wb_processed_ml` = inlet − AC.
- Rates over RUN: each sample's value holds until the next sample carrying that quantity; an
  interval longer than 30 s (or of no length) holds nothing; only the part of an interval
  inside a RUN span counts. `mean_inlet_ml_min` and the AC mean are time-weighted means over
  the counted time. Citrate = AC mL/min × 21.3 mg/mL (ACD-A) ÷ weight kg.
  `citrate_peak_mg_kg_min`: the highest mean over any 60 s window of that step function (zero
  where nothing is counted) lying between the first counted instant and the last; `null` if
  they are less than 60 s apart. Exact: the windowed mean is piecewise linear in the window's
  position, so it is evaluated at every position where a window edge meets a step, through the
  running integral (np.interp). Not a count-based rolling mean: samples are not evenly spaced.
- Alarms: an `ON` for a code that is not active raises an alarm (logged, counted by its
  priority H/M/L); an `ON` for a code already active is the same alarm announced again and is
  ignored; `OFF` clears the active alarm of that code (an `OFF` with none active is ignored).
  Information events (`I`) are logged, never active, never counted. `alarms_high`/`_medium`/
  `_low` count the machine's alarms; the monitor's own, whose codes begin with `MON_`, are
  counted apart in `monitor_alarms_high`/`_medium`/`_low`.
- `notes`: every `note` row, `ALARM_ACK` and `PATIENT_CHANGED` included: an acknowledgement
  and a change of the patient's details are recorded acts of the nurse and appear in the
  report's note log (decision documented in src/analysis/summary.rs).
- `lost_sentences`: the sum of the leading numbers of the `SEQ_GAP` rows' text;
  `link_losses`: `LINK_LOST` and `LINK_SILENT` rows.
- Patient (`<stem>.session.json`, format `aph-session/1`): weight a JSON number in 2–300 kg,
  height a JSON number in 40–230 cm, sex exactly `male` or `female` (the monitor also accepts
  `m`/`f` in any case: a leniency, not used by the fixtures), age `{"value": number, "unit":
  "years" | "months" | "weeks" | "days"}` with the value from 0 to 120 years (1440 months,
  6260 weeks, 43830 days).
- Total blood volume (docs/tbv-and-change-trail.md), and `tbv_method`, its key:
  1. `tbv_entered_ml`, when present, overrides: a JSON number in 100–15000 mL and, when the
     weight is valid, 35–150 mL per kg (`entered`); present but not so, there is no TBV.
  2. From 25 kg up: Nadler (Nadler, Hidalgo, Bloch, Surgery 1962), height in metres, weight in
     kg, litres: male 0.3669 H³ + 0.03219 W + 0.6041, female 0.3561 H³ + 0.03308 W + 0.1833
     (`nadler`).
  3. Under 25 kg: weight × mL/kg by the age in days (a year is 365.25 days, a month a twelfth
     of it, a week 7 days): under 28 days 85 (`ml_per_kg_neonate`), 28 days to under a year 80
     (`ml_per_kg_infant`), a year and over 75 (`ml_per_kg_child`); no valid age, no TBV.
  `tbv_processed` = WB ÷ TBV. The citrate figures use the weight in the metadata (the last
  saved) for the whole session, whatever PATIENT_CHANGED notes say.
- Lab values (each a positive JSON number): CD3+ yield = product/µL × 1000 × product mL;
  CE2 % = 100 × yield ÷ (pre/µL × 1000 × WB mL); WB for the target = target ÷ (pre/µL × 1000 ×
  CE2 ÷ 100).
- `alarm_log` (code, priority, raised_s, cleared_s) and `note_log` (code, text, at_s): times in
  seconds from the first row's session time.
"""
import csv
import json
import math
import re
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = (
    "time_utc,elapsed_s,seq,kind,state,inlet_ml_min,ac_ml_min,return_ml_min,collect_ml_min,"
    "plasma_ml_min,inlet_ml,ac_ml,collect_ml,plasma_ml,replace_ml,access_mmhg,return_mmhg,"
    "centrifuge_rpm,ac_ratio,code,priority,event_state,text"
).split(",")
QUANTITIES = COLUMNS[5:19]
COUNTERS = ["inlet_ml", "ac_ml", "collect_ml", "plasma_ml", "replace_ml"]
KINDS = {"sample", "state", "alarm", "note", "link"}
STATES = {"IDLE", "PRIME", "RUN", "PAUSE", "RINSEBACK", "END"}
PRIORITIES = {"H", "M", "L", "I"}
ESCAPED = ("=", "+", "-", "@", "\t", "\r", "'")

NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
UNSIGNED = re.compile(r"[0-9]+")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})")

MAX_HOLD_S = 30.0
PEAK_WINDOW_S = 60.0
JITTER_ML = 1.0
ACD_A_CITRATE_MG_PER_ML = 21.3
WEIGHT_KG = (2.0, 300.0)
HEIGHT_CM = (40.0, 230.0)
NADLER = {
    "male": (0.3669, 0.03219, 0.6041),
    "female": (0.3561, 0.03308, 0.1833),
}
NADLER_FROM_KG = 25.0
DAYS_PER = {"years": 365.25, "months": 365.25 / 12, "weeks": 7.0, "days": 1.0}
AGE_MAX = {"years": 120.0, "months": 1440.0, "weeks": 6260.0, "days": 43830.0}
# Under 25 kg: (youngest age in days, mL/kg, method), youngest first.
PER_KG_BANDS = [
    (0.0, 85.0, "ml_per_kg_neonate"),
    (28.0, 80.0, "ml_per_kg_infant"),
    (365.25, 75.0, "ml_per_kg_child"),
]
ENTERED_TBV_ML = (100.0, 15000.0)
ENTERED_TBV_ML_PER_KG = (35.0, 150.0)


def readable(cells):
    """Whether a row can be read, by the recording format's rules."""
    if len(cells) < len(COLUMNS):
        return False
    row = dict(zip(COLUMNS, cells))
    if row["kind"] not in KINDS or not TIME.fullmatch(row["time_utc"]):
        return False
    if row["elapsed_s"] and not re.fullmatch(r"[0-9]+(\.[0-9]+)?", row["elapsed_s"]):
        return False
    if row["seq"] and not (UNSIGNED.fullmatch(row["seq"]) and int(row["seq"]) < 2**32):
        return False
    if any(row[q] and not NUMBER.fullmatch(row[q]) for q in QUANTITIES):
        return False
    if row["kind"] == "state" and row["state"] not in STATES:
        return False
    if row["kind"] == "alarm" and (
        row["priority"] not in PRIORITIES or row["event_state"] not in ("ON", "OFF") or not row["code"]
    ):
        return False
    return not any("\udc80" <= ch <= "\udcff" for ch in "".join(cells))  # not UTF-8


def unescape(text):
    return text[1:] if text[:1] == "'" and text[1:2] in ESCAPED and text[1:2] != "" else text


def read_recording(path):
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or header[: len(COLUMNS)] != COLUMNS:
            sys.exit(f"{path} is not a session recording (its first line is not the header)")
        rows, skipped = [], 0
        for cells in reader:
            if readable(cells):
                rows.append(cells[: len(COLUMNS)])
            else:
                skipped += 1
    df = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    for column in ["elapsed_s", "seq"] + QUANTITIES:
        df[column] = pd.to_numeric(df[column].replace("", np.nan), errors="raise").astype(float)
    df["text"] = df["text"].map(unescape)
    return df, skipped


def read_meta(path):
    meta_path = Path(path).with_name(Path(path).stem + ".session.json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict) or meta.get("format") != "aph-session/1":
        return {}
    return meta


def number_in(value, bounds):
    """A JSON number within `bounds` (inclusive), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and bounds[0] <= value <= bounds[1] else None


def age_in_days(age):
    """Days of a valid `{"value", "unit"}` age, else None."""
    if not isinstance(age, dict) or age.get("unit") not in DAYS_PER:
        return None
    value = number_in(age.get("value"), (0.0, AGE_MAX[age["unit"]]))
    return None if value is None else value * DAYS_PER[age["unit"]]


def total_blood_volume(patient, weight, height, sex):
    """(TBV mL, method) by the rule in the docstring, or (None, None)."""
    if patient.get("tbv_entered_ml") is not None:
        ml = number_in(patient["tbv_entered_ml"], ENTERED_TBV_ML)
        if ml is None or (weight is not None and number_in(ml / weight, ENTERED_TBV_ML_PER_KG) is None):
            return None, None
        return ml, "entered"
    if weight is None:
        return None, None
    if weight >= NADLER_FROM_KG:
        if height is None or sex is None:
            return None, None
        a, b, c = NADLER[sex]
        return (a * (height / 100) ** 3 + b * weight + c) * 1000, "nadler"
    days = age_in_days(patient.get("age"))
    if days is None:
        return None, None
    _, ml_per_kg, method = [band for band in PER_KG_BANDS if days >= band[0]][-1]
    return weight * ml_per_kg, method


def positive(value):
    return number_in(value, (math.ulp(0.0), math.inf))


def count_per_ul(lab, key, legacy_key, plausible):
    """A cell count in cells/µL: `{"value", "unit"}` under `key` (UCUM /uL, 10*9/L or 10*6/mL,
    the last two 1000 cells/µL each), else a bare cells/µL number under `legacy_key`; None when
    missing, of another unit or outside the plausible range."""
    value = lab.get(key)
    if value is None:
        return number_in(lab.get(legacy_key), plausible)
    if not isinstance(value, dict):
        return None
    factor = {"/uL": 1, "10*9/L": 1000, "10*6/mL": 1000}.get(value.get("unit"))
    number = value.get("value")
    if factor is None or isinstance(number, bool) or not isinstance(number, (int, float)):
        return None
    # Exact in decimal, as the monitor converts.
    return number_in(float(Decimal(repr(float(number))) * factor), plausible)


def session_axis(df):
    """Session seconds of every row (NaN without `elapsed_s`) and, per row, how many machine
    restarts came before it."""
    from_machine = df["seq"].notna() & df["elapsed_s"].notna()
    machine_t = df.loc[from_machine, "elapsed_s"]
    before = machine_t.shift()
    went_back = machine_t < before
    shift = (before - machine_t).where(went_back, 0.0).cumsum()
    offset = shift.reindex(df.index).ffill().fillna(0.0)
    restarts = went_back.astype(int).cumsum().reindex(df.index).ffill().fillna(0).astype(int)
    return df["elapsed_s"] + offset, restarts


def counter_totals(samples):
    """Each counter's total at its last sample: the sum, over its counts, of the highest value
    each count reached (the rule is in the module doc). `samples` in recording order."""
    counts = {q: [] for q in COUNTERS}  # per counter, its counts: lists of values
    before = {}  # per counter, its value in the sample before, within the current count
    epoch = None  # the number of times the machine's time went back
    one = Decimal(JITTER_ML)
    for row in samples[["restarts"] + COUNTERS].itertuples(index=False):
        row = row._asdict()
        if row["restarts"] != epoch:
            epoch, before = row["restarts"], {}
        values = {q: Decimal(repr(row[q])) for q in COUNTERS if not math.isnan(row[q])}
        witnesses = [q for q in values if q in before and before[q] > one]
        if len(witnesses) >= 2 and all(before[q] - values[q] > one for q in witnesses):
            before = {}  # the machine restarted its totals
        for q, value in values.items():
            if q not in before or before[q] - value > one:
                counts[q].append([])
            counts[q][-1].append(value)
            before[q] = value
    return {q: float(sum(max(c) for c in counts[q])) if counts[q] else None for q in COUNTERS}


def run_pieces(samples, column, runs):
    """(start, end, value) of the counted sample-and-hold time of `column` inside RUN."""
    s = samples[["x", column]].dropna()
    x0 = s["x"].to_numpy()[:-1]
    x1 = s["x"].to_numpy()[1:]
    v = s[column].to_numpy()[:-1]
    dt = x1 - x0
    held = (dt > 0) & (dt <= MAX_HOLD_S)
    x0, x1, v = x0[held], x1[held], v[held]
    parts = []
    for a, b in runs:
        lo = np.maximum(x0, a)
        hi = np.minimum(x1, b)
        inside = hi > lo
        parts.append(pd.DataFrame({"lo": lo[inside], "hi": hi[inside], "v": v[inside]}))
    if not parts:
        return pd.DataFrame({"lo": [], "hi": [], "v": []})
    return pd.concat(parts, ignore_index=True).sort_values("lo", kind="stable")


def weighted_mean(pieces):
    time = (pieces["hi"] - pieces["lo"]).sum()
    return float((pieces["v"] * (pieces["hi"] - pieces["lo"])).sum() / time) if time > 0 else None


def peak_mean(pieces, window):
    if pieces.empty:
        return None
    first, last = float(pieces["lo"].min()), float(pieces["hi"].max())
    if last - first < window:
        return None
    lo, hi, v = (pieces[c].to_numpy() for c in ("lo", "hi", "v"))
    area = v * (hi - lo)
    at_hi = np.cumsum(area)
    at_lo = at_hi - area
    # The running integral, linear between these knots (flat across holes).
    knots = np.column_stack([lo, hi]).ravel()
    integral = np.column_stack([at_lo, at_hi]).ravel()
    ends = np.concatenate([knots, knots + window, [first + window, last]])
    ends = ends[(ends - window >= first - 1e-9) & (ends <= last + 1e-9)]
    means = (np.interp(ends, knots, integral) - np.interp(ends - window, knots, integral)) / window
    return float(means.max())


def procedure_times(df):
    """`run_start_utc`, `collection_end_utc`, `end_utc` from the state rows (see the doc)."""
    states = df.loc[df["kind"] == "state", ["time_utc", "state"]].reset_index(drop=True)
    runs = states.index[states["state"] == "RUN"]
    first = lambda rows: utc(rows["time_utc"].iloc[0]) if len(rows) else None
    if len(runs) == 0:
        return {"run_start_utc": None, "collection_end_utc": None,
                "end_utc": first(states[states["state"] == "END"])}
    after = states.iloc[runs[0]:]
    return {
        "run_start_utc": first(after),
        "collection_end_utc": first(after[after["state"].isin(["RINSEBACK", "END"])]),
        "end_utc": first(after[after["state"] == "END"]),
    }


def utc(text):
    t = pd.Timestamp(text).tz_convert("UTC")
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def summarise(path):
    df, skipped = read_recording(path)
    meta = read_meta(path)
    df["x"], df["restarts"] = session_axis(df)
    # Rows without a session time of their own sit at the latest one so far.
    df["x_at"] = df["x"].fillna(df["x"].cummax().ffill()).fillna(0.0)
    out = {"rows_skipped": skipped}

    has_x = df["x"].notna()
    first_x = float(df.loc[has_x, "x"].iloc[0]) if has_x.any() else None
    last_x = float(df["x"].max()) if has_x.any() else None
    out["started_utc"] = utc(df["time_utc"].iloc[0]) if len(df) else None
    out["ended_utc"] = utc(df["time_utc"].iloc[-1]) if len(df) else None
    out["duration_s"] = last_x - first_x if has_x.any() else None
    out.update(procedure_times(df))

    # States.
    states = df.loc[df["kind"] == "state", ["x_at", "state"]]
    states = states[states["state"] != states["state"].shift()]
    runs = []
    if states.empty:
        out.update(run_time_s=None, pause_count=None, pause_time_s=None)
    else:
        start = states["x_at"].to_numpy()
        end = np.append(start[1:], last_x if last_x is not None else 0.0)
        end = np.where(states["state"] == "END", start, end)
        length = np.maximum(end - start, 0.0)
        is_run = (states["state"] == "RUN").to_numpy()
        is_pause = (states["state"] == "PAUSE").to_numpy()
        out["run_time_s"] = float(length[is_run].sum())
        out["pause_count"] = int(is_pause.sum())
        out["pause_time_s"] = float(length[is_pause].sum())
        runs = list(zip(start[is_run], np.maximum(end, start)[is_run]))

    # Volumes.
    samples = df.loc[(df["kind"] == "sample") & has_x]
    out.update(counter_totals(samples))
    inlet, ac = out["inlet_ml"], out["ac_ml"]
    out["wb_processed_ml"] = inlet - ac if inlet is not None and ac is not None else None

    # Patient.
    patient = meta.get("patient") if isinstance(meta.get("patient"), dict) else {}
    weight = number_in(patient.get("weight_kg"), WEIGHT_KG)
    height = number_in(patient.get("height_cm"), HEIGHT_CM)
    sex = patient.get("sex") if patient.get("sex") in NADLER else None
    out["tbv_ml"], out["tbv_method"] = total_blood_volume(patient, weight, height, sex)
    wb, tbv = out["wb_processed_ml"], out["tbv_ml"]
    out["tbv_processed"] = wb / tbv if wb is not None and tbv is not None else None

    # Rates over RUN.
    out["mean_inlet_ml_min"] = out["citrate_mean_mg_kg_min"] = out["citrate_peak_mg_kg_min"] = None
    if not states.empty:
        out["mean_inlet_ml_min"] = weighted_mean(run_pieces(samples, "inlet_ml_min", runs))
        if weight is not None:
            ac_pieces = run_pieces(samples, "ac_ml_min", runs)
            per_kg = ACD_A_CITRATE_MG_PER_ML / weight
            mean, peak = weighted_mean(ac_pieces), peak_mean(ac_pieces, PEAK_WINDOW_S)
            out["citrate_mean_mg_kg_min"] = None if mean is None else mean * per_kg
            out["citrate_peak_mg_kg_min"] = None if peak is None else peak * per_kg

    # Alarms.
    origin = first_x or 0.0
    log, active = [], {}
    for row in df.loc[df["kind"] == "alarm"].itertuples():
        if row.event_state == "ON":
            if row.code in active:
                continue
            log.append({"code": row.code, "priority": row.priority, "raised_s": row.x_at - origin, "cleared_s": None})
            if row.priority != "I":
                active[row.code] = len(log) - 1
        elif row.code in active:
            log[active.pop(row.code)]["cleared_s"] = row.x_at - origin
    counted = pd.DataFrame(
        {"priority": [a["priority"] for a in log], "code": [a["code"] for a in log]}, dtype=object
    )
    monitor = counted["code"].str.startswith("MON_").astype(bool)
    for prefix, rows in (("alarms", counted[~monitor]), ("monitor_alarms", counted[monitor])):
        for name, letter in (("high", "H"), ("medium", "M"), ("low", "L")):
            out[f"{prefix}_{name}"] = int((rows["priority"] == letter).sum())
    out["alarm_log"] = log

    # Notes and link quality.
    notes = df.loc[df["kind"] == "note"]
    out["notes"] = len(notes)
    out["note_log"] = [
        {"code": n.code, "text": n.text, "at_s": n.x_at - origin} for n in notes.itertuples()
    ]
    links = df.loc[df["kind"] == "link"]
    gaps = links.loc[links["code"] == "SEQ_GAP", "text"].str.extract(r"^([0-9]+)")[0]
    out["lost_sentences"] = int(pd.to_numeric(gaps).fillna(0).sum())
    out["link_losses"] = int(links["code"].isin(["LINK_LOST", "LINK_SILENT"]).sum())

    # Lab.
    lab = meta.get("lab") if isinstance(meta.get("lab"), dict) else {}
    pre = count_per_ul(lab, "pre_cd3", "pre_cd3_per_ul", (5, 50_000))
    product = count_per_ul(lab, "product_cd3", "product_cd3_per_ul", (100, 1_000_000))
    volume = lab.get("product_volume_ml")
    if isinstance(volume, dict):
        volume = volume.get("value") if volume.get("unit") == "mL" else None
    volume = number_in(volume, (1, 1000))
    target = positive(lab.get("target_cd3_cells"))
    cells = product * 1000 * volume if product is not None and volume is not None else None
    ok = cells is not None and pre is not None and wb is not None and wb > 0
    ce2 = 100 * cells / (pre * 1000 * wb) if ok else None
    # A CE2 above 100 % is refused as implausible.
    ce2 = ce2 if ce2 is not None and ce2 <= 100 else None
    out["cd3_yield_cells"] = cells
    out["ce2_percent"] = ce2
    out["wb_needed_for_target_ml"] = (
        target / (pre * 1000 * ce2 / 100) if ce2 is not None and ce2 > 0 and target is not None else None
    )
    out["patient_id"] = patient.get("id") if isinstance(patient.get("id"), str) else None
    return out


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: pandas_summary.py RECORDING.csv")
    print(json.dumps(summarise(argv[1]), indent=2, allow_nan=False))


if __name__ == "__main__":
    main(sys.argv)
