#!/usr/bin/env python3
"""Write the reference trajectories of the built-in models (models/reference/*.csv).

Every reference is computed WITHOUT cartkin: closed forms written out here in NumPy
(stein2019, stein2019_ode, lisocel2021, pk_1cmt_iv, pk_1cmt_oral), or the independent
SciPy peer /work/shared/peers/models.py solved with Radau at rtol 1e-10 (cd19_bcell,
cd19_cd20_bcell, singh2021). tests/library_reference.rs checks every built-in model
against these files; models/reference/README.md says how each one was made.

Usage (exactly how the files in models/reference/ were made):

    /work/venv/bin/python notebooks/make_references.py \
        --peers /work/shared/peers --out models/reference

Each CSV has a `time` column (days) and one column per model output, named by analyte,
written with 17 significant digits (round-trips an f64). The typical parameter values
below are copied from the model files; the script checks them against the peer's
defaults where the peer has the model, so the two cannot drift apart silently.
"""

import argparse
import math
import os
import sys

import numpy as np

# --- output grids ---------------------------------------------------------------------

# 0-28 d every 6 h (expansion phase), then daily to day 365.
BASE_GRID = np.union1d(np.arange(0.0, 28.0, 0.25), np.arange(28.0, 366.0, 1.0))
# offsets around a discontinuity: just before / at / just after
EDGE = np.array([-1e-3, -1e-6, -1e-9, 0.0, 1e-9, 1e-6, 1e-3])


def grid_with(*edges):
    g = BASE_GRID
    for e in edges:
        g = np.union1d(g, e + EDGE)
    return g


# --- stein2019 / stein2019_ode (REFERENCES.md 2.1), closed form ------------------------

STEIN = dict(foldx=3900.0, tmax=9.3, cmax=24000.0, alpha=0.16, fb=0.0079, beta=0.0032)


def stein(t, foldx, tmax, cmax, alpha, fb, beta):
    rho = math.log(foldx) / tmax
    r0 = cmax / foldx
    out = np.empty_like(t)
    early = t < tmax
    out[early] = r0 * np.exp(rho * t[early])
    s = t[~early] - tmax
    out[~early] = (1 - fb) * cmax * np.exp(-alpha * s) + fb * cmax * np.exp(-beta * s)
    return out


# --- lisocel2021 (REFERENCES.md 2.2), closed form --------------------------------------
# Means of TRANSCEND (lag, doubling time, Tmax, half-lives); cmax and fb are NOT from the
# source (Stein 2019 tisagenlecleucel typical values, see models/lisocel2021.model).

LISOCEL = dict(tlag=3.27, tdbl=0.755, tmax=9.29, cmax=24000.0, thalf1=5.0, thalf2=352.0,
               fb=0.0079)


def lisocel(t, tlag, tdbl, tmax, cmax, thalf1, thalf2, fb):
    rho = math.log(2) / tdbl
    tpk = max(tmax, tlag)
    r0 = cmax * math.exp(-rho * (tpk - tlag))
    a1 = math.log(2) / thalf1
    a2 = math.log(2) / thalf2
    out = np.empty_like(t)
    lag = t < tlag
    grow = (t >= tlag) & (t < tpk)
    decl = t >= tpk
    out[lag] = r0
    out[grow] = r0 * np.exp(rho * (t[grow] - tlag))
    s = t[decl] - tpk
    out[decl] = (1 - fb) * cmax * np.exp(-a1 * s) + fb * cmax * np.exp(-a2 * s)
    return out


# --- one-compartment PK, closed forms ---------------------------------------------------
# Typical values of the nlmixr2 theophylline example (theo_sd): ka = exp(0.45) /h,
# CL = exp(1) L/h, V = exp(3.45) L, converted to days and rounded as in the model files.

PK = dict(CL=65.2, V=31.5, ka=37.6)
PK_DOSE = 320.0  # mg
PK_GRID = np.union1d(np.arange(0.0, 3.0 + 1e-12, 1.0 / 48.0), np.arange(3.0, 15.0, 1.0))


def pk_iv(t, dose, CL, V):
    return dose / V * np.exp(-CL / V * t)


def pk_oral(t, dose, CL, V, ka):
    k = CL / V
    return dose * ka / (V * (ka - k)) * (np.exp(-k * t) - np.exp(-ka * t))


# --- writing ----------------------------------------------------------------------------

def write(path, t, cols):
    names = list(cols)
    with open(path, "w", encoding="ascii") as f:
        f.write(",".join(["time"] + names) + "\n")
        for i, ti in enumerate(t):
            row = [repr(float(ti))] + ["%.17g" % float(cols[n][i]) for n in names]
            f.write(",".join(row) + "\n")
    print(f"wrote {path}: {len(t)} times x {len(names)} outputs")


CD19_COLUMNS = ("transgene", "cart_cells", "b_cells", "naive_b", "memory_b", "plasmablast",
                "plasma_cell", "igg", "igm", "iga", "anti_dsdna")
SINGH_COLUMNS = ("transgene", "tumour", "mprotein_pct", "sbcma_pct")

CD19_DOSE = 50e6
CD19_CD20_DOSE = 300e6  # CT1195E starting dose level, 3.0e8 cells
SINGH_DOSE = 450e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers", default="/work/shared/peers")
    ap.add_argument("--out", default="models/reference")
    a = ap.parse_args(argv)
    sys.path.insert(0, a.peers)
    import models as peer  # the independent SciPy implementations

    os.makedirs(a.out, exist_ok=True)

    # closed forms; the stein typical values must be the peer's
    assert STEIN == peer.STEIN_TYPICAL, "stein typical values differ from the peer's"
    g = grid_with(STEIN["tmax"])
    st = stein(g, **STEIN)
    # the peer's closed form agrees to the last bits (same formula, vectorised differently)
    assert np.allclose(st, peer.stein_closed_form(g, **STEIN), rtol=1e-14, atol=0)
    write(os.path.join(a.out, "stein2019.csv"), g, {"transgene": st})
    write(os.path.join(a.out, "stein2019_ode.csv"), g, {"transgene": st})

    gl = grid_with(LISOCEL["tlag"], LISOCEL["tmax"])
    write(os.path.join(a.out, "lisocel2021.csv"), gl, {"transgene": lisocel(gl, **LISOCEL)})

    write(os.path.join(a.out, "pk_1cmt_iv.csv"), PK_GRID,
          {"conc": pk_iv(PK_GRID, PK_DOSE, PK["CL"], PK["V"])})
    write(os.path.join(a.out, "pk_1cmt_oral.csv"), PK_GRID,
          {"conc": pk_oral(PK_GRID, PK_DOSE, **PK)})

    # mechanistic models: the SciPy peer, Radau rtol 1e-10 (atol 1e-12 x per-state scale)
    early = np.array([0.001, 0.01, 0.05, 0.1])
    gm = np.union1d(BASE_GRID, early)
    df = peer.cd19_bcell(CD19_DOSE, gm, method="Radau", rtol=1e-10, atol=1e-12)
    write(os.path.join(a.out, "cd19_bcell.csv"), gm, {c: df[c].to_numpy() for c in CD19_COLUMNS})
    df = peer.cd19_bcell(CD19_CD20_DOSE, gm, params={"targets": ("CD19", "CD20")},
                         method="Radau", rtol=1e-10, atol=1e-12)
    write(os.path.join(a.out, "cd19_cd20_bcell.csv"), gm,
          {c: df[c].to_numpy() for c in CD19_COLUMNS})
    df = peer.singh2021(SINGH_DOSE, gm, method="Radau", rtol=1e-10, atol=1e-12)
    write(os.path.join(a.out, "singh2021.csv"), gm, {c: df[c].to_numpy() for c in SINGH_COLUMNS})


if __name__ == "__main__":
    main()
