#!/usr/bin/env python3
"""Simulate data/example.csv: a synthetic CD19 CAR-T trial in SLE (long CSV, SPEC §2).

18 subjects in 3 flat dose levels (25, 50, 100 x10^6 CAR+ cells, 6 each), simulated with
the cd19_bcell equations (REFERENCES.md §4, default parameters), log-normal
between-subject variability, log-normal residual error, and censoring below the limits
of quantification. See data/README.md for the data dictionary.

Usage (exactly how data/example.csv was made):

    python3 notebooks/make_example_data.py --seed 20261123 --out data/example.csv \
        [--peer-models /path/to/models.py]

With --peer-models, the typical subject of each dose level is also solved by that
module's cd19_bcell (an independent implementation of the same equations) and the two
must agree to a relative 1e-5 before anything is written.

Requires numpy and scipy.
"""

import argparse
import csv
import importlib.util
import math
import sys

import numpy as np
from scipy.integrate import solve_ivp

# --- cd19_bcell (REFERENCES.md §4), default parameters -----------------------------------
DEFAULTS = dict(
    f_blood=0.005, V_blood_uL=5e6, c_tg=30.0,
    kexp=25.5, EC50=1000.0, kdE=0.35, kEM=1.0, kdM=0.044, kkill=0.005,
    Bn0=100.0, Bm0=15.0, PB0=1.5, PC0=1.0,
    kdn=0.0002, kdm=0.004, kdpb=0.10, kdpc=math.log(2) / 2000.0,
    IgG0=12.0, kdeg_IgG=math.log(2) / 21.0, w_IgG=0.20,
)
# Antigen flags of a CD19 product on (naive, memory, plasmablast, plasma cell).
CD19_FLAGS = (1.0, 1.0, 1.0, 0.0)

# Between-subject variability: log-normal, omega = SD of log(parameter).
OMEGA = dict(kexp=0.05, kdE=0.10, kdM=0.25, f_blood=0.30, Bn0=0.15, IgG0=0.20)
# Residual error: log-normal (additive on log scale), SD per analyte.
SIGMA_LOG = dict(transgene=0.30, b_cells=0.20, igg=0.08)
LLOQ = dict(transgene=20.0, b_cells=1.0, igg=0.3)
DOSE_LEVELS = (25e6, 50e6, 100e6)
PER_LEVEL = 6
VISITS = (-7, 0, 1, 4, 7, 10, 14, 21, 28, 56, 84, 168, 252, 365)
SCHEDULE = dict(
    transgene=[t for t in VISITS if t >= 0],
    b_cells=list(VISITS),
    igg=[-7, 14, 28, 56, 84, 168, 252, 365],
)
P_MISSED = 0.02          # probability that a scheduled sample is missing
P_TEXT_BLQ = 0.25        # share of BLQ records written as DV "<LLOQ value" / "BLQ"


def rhs(_t, y, p):
    """cd19_bcell right-hand side, IgG only (IgM, IgA, autoantibody do not feed back)."""
    E, M, Bn, Bm, PB, PC, IgG = y
    E, M = max(E, 0.0), max(M, 0.0)       # round-off guard (REFERENCES.md §4)
    a = CD19_FLAGS
    kpb = p["kdpb"] * p["PB0"] / p["Bm0"]
    kact = (p["kdm"] + kpb) * p["Bm0"] / p["Bn0"]
    ksyn = (p["kdn"] + kact) * p["Bn0"]
    kpc = p["kdpc"] * p["PC0"] / p["PB0"]
    A = a[0] * Bn + a[1] * Bm + a[2] * PB + a[3] * PC
    kk = p["kkill"] * (E + M)
    return [
        p["kexp"] * A / (A + p["EC50"]) * E - (p["kdE"] + p["kEM"]) * E,
        p["kEM"] * E - p["kdM"] * M,
        ksyn - (p["kdn"] + kact) * Bn - a[0] * kk * Bn,
        kact * Bn - (p["kdm"] + kpb) * Bm - a[1] * kk * Bm,
        kpb * Bm - p["kdpb"] * PB - a[2] * kk * PB,
        kpc * PB - p["kdpc"] * PC - a[3] * kk * PC,
        p["kdeg_IgG"] * p["IgG0"] * (p["w_IgG"] * PB / p["PB0"] + (1 - p["w_IgG"]) * PC / p["PC0"])
        - p["kdeg_IgG"] * IgG,
    ]


def predict(dose, times, p):
    """transgene, b_cells, igg at `times` (>= 0 after infusion; < 0 = pre-dose baseline)."""
    times = np.asarray(times, dtype=float)
    y0 = [p["f_blood"] * dose / p["V_blood_uL"], 0.0, p["Bn0"], p["Bm0"], p["PB0"], p["PC0"],
          p["IgG0"]]
    post = np.unique(np.clip(times, 0.0, None))
    sol = solve_ivp(rhs, (0.0, max(post[-1], 1e-9)), y0, method="LSODA", t_eval=post,
                    rtol=1e-8, atol=1e-10 * np.array([1, 1, 1, 1, 1, 1e-2, 1e-2]), args=(p,))
    if not sol.success:
        raise RuntimeError(sol.message)
    out = {}
    for name in ("transgene", "b_cells", "igg"):
        vals = []
        for t in times:
            if t < 0:   # pre-dose: the baseline steady state, no CAR-T
                y = [0.0, 0.0, p["Bn0"], p["Bm0"], p["PB0"], p["PC0"], p["IgG0"]]
            else:
                y = sol.y[:, int(np.searchsorted(sol.t, t))]
            vals.append({"transgene": p["c_tg"] * (y[0] + y[1]),
                         "b_cells": y[2] + y[3] + y[4],
                         "igg": y[6]}[name])
        out[name] = np.array(vals)
    return out


def check_against_peer(path):
    spec = importlib.util.spec_from_file_location("peer_models", path)
    peer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    t = np.array([0.0, 1, 4, 7, 10, 14, 21, 28, 56, 84, 168, 252, 365])
    worst = 0.0
    for dose in DOSE_LEVELS:
        ours = predict(dose, t, dict(DEFAULTS))
        theirs = peer.cd19_bcell(dose, t, method="LSODA", rtol=1e-10, atol=1e-12)
        for name in ours:
            ref = theirs[name].to_numpy()
            rel = np.max(np.abs(ours[name] - ref) / np.maximum(np.abs(ref), 1e-3))
            worst = max(worst, rel)
            if rel > 1e-5:
                sys.exit(f"{name} at dose {dose:g} differs from the peer model by {rel:.2e}")
    print(f"agrees with {path}: max rel. difference {worst:.1e} (limit 1e-5)", file=sys.stderr)


def round_sig(x, digits=3):
    return float(f"{x:.{digits}g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--out", default="data/example.csv")
    ap.add_argument("--peer-models", help="path to an independent models.py to check against")
    args = ap.parse_args()
    if args.peer_models:
        check_against_peer(args.peer_models)
    rng = np.random.default_rng(args.seed)

    rows = []
    header = ["ID", "TIME", "DV", "DVID", "CENS", "LLOQ", "EVID", "AMT",
              "DOSE", "WT", "AGE", "SEX", "DISEASE"]
    for k in range(len(DOSE_LEVELS) * PER_LEVEL):
        sid = f"S{k + 1:02d}"
        dose = DOSE_LEVELS[k // PER_LEVEL]
        wt = round(float(np.clip(rng.normal(68.0, 12.0), 45.0, 110.0)), 1)
        age = int(rng.integers(19, 61))
        sex = "F" if rng.random() < 0.85 else "M"
        p = dict(DEFAULTS)
        for name, omega in OMEGA.items():
            p[name] = DEFAULTS[name] * math.exp(omega * rng.standard_normal())
        cov = [f"{dose:.0f}", f"{wt:g}", str(age), sex, "SLE"]
        pred = {a: predict(dose, SCHEDULE[a], p)[a] for a in SCHEDULE}
        records = []
        for analyte, times in SCHEDULE.items():
            for t, f in zip(times, pred[analyte]):
                eps = rng.standard_normal()
                missed = rng.random() < P_MISSED
                as_text = rng.random() < P_TEXT_BLQ
                if missed:
                    continue
                y = f * math.exp(SIGMA_LOG[analyte] * eps)
                lloq = LLOQ[analyte]
                if y < lloq:
                    if as_text:
                        dv, cens = (f"<{lloq:g}" if analyte == "transgene" else "BLQ"), ""
                    else:
                        dv, cens = f"{lloq:g}", "1"
                else:
                    dv, cens = f"{round_sig(y):g}", "0"
                records.append((t, analyte, [sid, str(t), dv, analyte, cens, f"{lloq:g}", "0",
                                             ""] + cov))
        # the infusion at day 0 comes after the pre-dose samples, before day-0 samples
        records.append((0, None, [sid, "0", "", "", "", "", "1", f"{dose:.0f}"] + cov))
        order = [None] + list(SCHEDULE)
        records.sort(key=lambda r: (r[0], order.index(r[1])))
        rows.extend(r for _, _, r in records)

    with open(args.out, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"wrote {args.out}: {len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
