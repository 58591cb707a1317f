#!/usr/bin/env python3
"""Write the reference trajectories of the built-in models (models/reference/*.csv).

Every reference is computed WITHOUT cartkin, by the implementations in this file:
closed forms in NumPy (stein2019, stein2019_ode, lisocel2021, pk_1cmt_iv, pk_1cmt_oral)
and the ODE models solved with SciPy's Radau at rtol 1e-10 and a per-state atol of
1e-12 x the state's scale (cd19_bcell, cd19_cd20_bcell, singh2021). The equations are
those of the model files' headers and of the papers they cite:

- Stein AM et al. CPT Pharmacometrics Syst Pharmacol 2019;8(5):285-295 (stein2019),
- liso-cel TRANSCEND NHL 001, Clin Pharmacokinet 2021, doi 10.1007/s40262-021-01039-5
  (lisocel2021),
- Singh AP et al. CPT Pharmacometrics Syst Pharmacol 2021;10(4):362-376 (singh2021),
- cartkin's own CD19 CAR-T / B-cell design (models/cd19_bcell.model).

The typical parameter values are typed in below, independently of cartkin's parser; the
script checks each against the `param NAME = VALUE` line of the model file, so the two
cannot drift apart silently. tests/it/library_reference.rs checks every built-in model
against the CSV files; models/reference/README.md says how each one was made.

Usage (from the repository root; requirements in scripts/requirements.txt):

    python scripts/make_references.py --out models/reference

Each CSV has a `time` column (days) and one column per model output, named by analyte,
written with 17 significant digits (round-trips an f64).
"""

import argparse
import math
import os
import re

import numpy as np
from scipy.integrate import solve_ivp

# --- output grids ---------------------------------------------------------------------

# 0-28 d every 6 h (expansion phase), then daily to day 365.
BASE_GRID = np.union1d(np.arange(0.0, 28.0, 0.25), np.arange(28.0, 366.0, 1.0))
# offsets around a discontinuity: just before / at / just after
EDGE = np.array([-1e-3, -1e-6, -1e-9, 0.0, 1e-9, 1e-6, 1e-3])
# the fast start of the mechanistic models after the infusion
EARLY = np.array([0.001, 0.01, 0.05, 0.1])
# PK: every 30 min for 3 days, then daily to day 14
PK_GRID = np.union1d(np.arange(0.0, 3.0 + 1e-12, 1.0 / 48.0), np.arange(3.0, 15.0, 1.0))


def grid_with(*edges):
    g = BASE_GRID
    for e in edges:
        g = np.union1d(g, e + EDGE)
    return g


# --- typical values (days, as in the model files) ---------------------------------------

STEIN = dict(foldx=3900.0, tmax=9.3, cmax=24000.0, alpha=0.16, fb=0.0079, beta=0.0032)

# Means of TRANSCEND (lag, doubling time, Tmax, half-lives); cmax and fb are Stein 2019's
# tisagenlecleucel values (stand-ins, see models/lisocel2021.model).
LISOCEL = dict(tlag=3.27, tdbl=0.755, tmax=9.29, cmax=24000.0, thalf1=5.0, thalf2=352.0,
               fb=0.0079)

# nlmixr2's theophylline example, converted to days (models/pk_1cmt_*.model)
PK = dict(CL=65.2, V=31.5, ka=37.6)
PK_DOSE = 320.0  # mg

CD19 = dict(
    f_blood=0.005, V_blood_uL=5e6, c_tg=30.0,
    kexp=25.5, EC50=1000.0, kdE=0.35, kEM=1.0, kdM=0.044, kkill=0.005,
    Bn0=100.0, Bm0=15.0, PB0=1.5, PC0=1.0,
    kdn=0.0002, kdm=0.004, kdpb=0.10, thalf_pc=2000.0, pc_ag_equiv=1.0,
    IgG0=12.0, IgM0=1.2, IgA0=2.5, AB0=100.0,
    thalf_IgG=21.0, thalf_IgM=5.0, thalf_IgA=6.0, thalf_AB=21.0,
    w_IgG=0.20, w_IgM=0.60, w_IgA=0.40, w_AB=0.80,
    cd19=1.0, cd20=0.0, bcma=0.0,
)
CD19_CD20 = dict(CD19, cd20=1.0)
# atol of each state = 1e-12 x scale: E, M, Bn, Bm, PB (cells/uL); PC (relative pool);
# IgG, IgM, IgA (g/L); AB (IU/mL)
CD19_SCALE = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1e-2, 1e-2, 1e-3, 1e-3, 1e-1])
CD19_COLUMNS = ("transgene", "cart_cells", "b_cells", "naive_b", "memory_b", "plasmablast",
                "plasma_cell", "igg", "igm", "iga", "anti_dsdna")

SINGH = dict(
    Kexp_max=1.73, EC50=10.0, Rm=2e-5, kel_e=113.0, kel_m=0.219, k12=1.71, k21=0.176,
    Kkill_max=0.343, KC50=2.24, kg=0.008, kon_M_s=7.103e4, koff_s=2.385e-3,
    AgCAR=15000.0, AgT=12590.0, TransC=0.002, Vb=5.0, Vbm=3.65, T0=2.5e9,
    Km=0.117, Pm=12.1, Kb=0.7, Pb=0.175, gm=0.215, gb=1.0,
)
AVOGADRO = 6.023e23  # the value of the Singh 2021 kon conversion
# atol scale: Ep, Mp, Et, Mt (cells), Cx (#/L), T (cells/L), M-protein, sBCMA
SINGH_SCALE = np.array([1e8, 1e8, 1e8, 1e8, 1e14, 1e9, 1.0, 1e3])
SINGH_COLUMNS = ("transgene", "tumour", "mprotein_pct", "sbcma_pct")

CD19_DOSE = 50e6
CD19_CD20_DOSE = 300e6  # CT1195E starting dose level, 3.0e8 cells
SINGH_DOSE = 450e6

RTOL = 1e-10
ATOL = 1e-12


# --- closed forms -----------------------------------------------------------------------

def stein(t, foldx, tmax, cmax, alpha, fb, beta):
    """Expansion to Tmax, then biexponential contraction (Stein 2019)."""
    rho = math.log(foldx) / tmax
    r0 = cmax / foldx
    out = np.empty_like(t)
    early = t < tmax
    out[early] = r0 * np.exp(rho * t[early])
    s = t[~early] - tmax
    out[~early] = (1 - fb) * cmax * np.exp(-alpha * s) + fb * cmax * np.exp(-beta * s)
    return out


def lisocel(t, tlag, tdbl, tmax, cmax, thalf1, thalf2, fb):
    """Lag, exponential growth to max(tmax, tlag), biexponential decline."""
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


def pk_iv(t, dose, CL, V):
    return dose / V * np.exp(-CL / V * t)


def pk_oral(t, dose, CL, V, ka):
    k = CL / V
    return dose * ka / (V * (ka - k)) * (np.exp(-k * t) - np.exp(-ka * t))


# --- cd19_bcell / cd19_cd20_bcell -------------------------------------------------------

def cd19_rates(p):
    """First-order rates and the flows that make the pre-dose state a steady state."""
    kpb = p["kdpb"] * p["PB0"] / p["Bm0"]
    kact = (p["kdm"] + kpb) * p["Bm0"] / p["Bn0"]
    kdpc = math.log(2) / p["thalf_pc"]
    return dict(
        kpb=kpb, kact=kact, ksyn=(p["kdn"] + kact) * p["Bn0"], kdpc=kdpc,
        kpc=kdpc * p["PC0"] / p["PB0"],
        # subsets killed: naive, memory, plasmablast, plasma cell
        a=(max(p["cd19"], p["cd20"]), max(p["cd19"], p["cd20"]), max(p["cd19"], p["bcma"]),
           p["bcma"]),
        ig0=np.array([p["IgG0"], p["IgM0"], p["IgA0"], p["AB0"]]),
        kdeg=np.array([math.log(2) / p[k] for k in
                       ("thalf_IgG", "thalf_IgM", "thalf_IgA", "thalf_AB")]),
        w=np.array([p["w_IgG"], p["w_IgM"], p["w_IgA"], p["w_AB"]]),
    )


def cd19_rhs(_t, y, p, r):
    e, m = max(y[0], 0.0), max(y[1], 0.0)  # the model's guard against negative round-off
    bn, bm, pb, pc = y[2], y[3], y[4], y[5]
    a_n, a_m, a_pb, a_pc = r["a"]
    antigen = a_n * bn + a_m * bm + a_pb * pb + a_pc * pc * p["pc_ag_equiv"]
    kill = p["kkill"] * (e + m)
    dy = np.empty(10)
    dy[0] = p["kexp"] * antigen / (antigen + p["EC50"]) * e - (p["kdE"] + p["kEM"]) * e
    dy[1] = p["kEM"] * e - p["kdM"] * m
    dy[2] = r["ksyn"] - (p["kdn"] + r["kact"]) * bn - a_n * kill * bn
    dy[3] = r["kact"] * bn - (p["kdm"] + r["kpb"]) * bm - a_m * kill * bm
    dy[4] = r["kpb"] * bm - p["kdpb"] * pb - a_pb * kill * pb
    dy[5] = r["kpc"] * pb - r["kdpc"] * pc - a_pc * kill * pc
    production = r["w"] * (pb / p["PB0"]) + (1.0 - r["w"]) * (pc / p["PC0"])
    dy[6:] = r["kdeg"] * r["ig0"] * production - r["kdeg"] * y[6:]
    return dy


def cd19_bcell(p, dose, t):
    """Outputs of cd19_bcell for a bolus of `dose` cells at t = 0 (E0 = f_blood·dose/V)."""
    r = cd19_rates(p)
    y0 = np.array([p["f_blood"] * dose / p["V_blood_uL"], 0.0, p["Bn0"], p["Bm0"], p["PB0"],
                   p["PC0"], p["IgG0"], p["IgM0"], p["IgA0"], p["AB0"]])
    e, m, bn, bm, pb, pc, igg, igm, iga, ab = radau(cd19_rhs, y0, t, CD19_SCALE, (p, r))
    return dict(transgene=p["c_tg"] * (e + m), cart_cells=e + m, b_cells=bn + bm + pb,
                naive_b=bn, memory_b=bm, plasmablast=pb, plasma_cell=pc, igg=igg, igm=igm,
                iga=iga, anti_dsdna=ab)


# --- singh2021 ----------------------------------------------------------------------------

def singh_rhs(_t, y, p, kon, koff):
    ep, mp, et, mt, cx, tum, mprot, sbcma = y
    cart = (et + mt) / p["Vbm"]              # CAR-T cells per L marrow
    car_free = cart * p["AgCAR"] - cx        # free CAR (#/L)
    ag_free = tum * p["AgT"] - cx            # free BCMA (#/L)
    q = cx / cart                            # complexes per CAR-T cell
    kexp = p["Kexp_max"] * q / (p["EC50"] + q)
    pt = cx / tum                            # complexes per tumour cell
    kkill = p["Kkill_max"] * pt / (p["KC50"] + pt)
    tr = max(tum, 0.0) / p["T0"]
    return np.array([
        -p["k12"] * ep + p["k21"] * et - p["kel_e"] * ep,
        -p["k12"] * mp + p["k21"] * mt - p["kel_m"] * mp,
        p["k12"] * ep - p["k21"] * et + kexp * et - p["Rm"] * et,
        p["k12"] * mp - p["k21"] * mt + p["Rm"] * et,
        kon * car_free * ag_free - koff * cx,
        p["kg"] * tum - kkill * tum,
        p["Pm"] * 1e-12 * p["T0"] * tr ** p["gm"] - p["Km"] * mprot,
        p["Pb"] * 1e-6 * p["T0"] * tr ** p["gb"] - p["Kb"] * sbcma,
    ])


def singh2021(p, dose, t):
    """Outputs of singh2021 for `dose` cells into blood effectors Ep at t = 0."""
    kon = p["kon_M_s"] * 86400.0 / AVOGADRO  # 1/M/s -> 1/(#/L)/day
    koff = p["koff_s"] * 86400.0             # 1/s -> 1/day
    mprot0 = p["Pm"] * 1e-12 * p["T0"] / p["Km"]
    sbcma0 = p["Pb"] * 1e-6 * p["T0"] / p["Kb"]
    y0 = np.array([dose, 0.0, 1e-6 * p["Vbm"], 0.0, 0.0, p["T0"], mprot0, sbcma0])
    ep, mp, _et, _mt, _cx, tum, mprot, sbcma = radau(singh_rhs, y0, t, SINGH_SCALE,
                                                     (p, kon, koff))
    return dict(transgene=p["TransC"] * (ep + mp) / p["Vb"], tumour=tum,
                mprotein_pct=100.0 * (mprot / mprot0 - 1.0),
                sbcma_pct=100.0 * (sbcma / sbcma0 - 1.0))


def radau(rhs, y0, t, scale, args):
    """States at the times t (sorted, from 0): Radau IIA order 5, rtol 1e-10."""
    sol = solve_ivp(rhs, (0.0, float(t[-1])), y0, method="Radau", t_eval=t, rtol=RTOL,
                    atol=ATOL * scale, args=args)
    if not sol.success:
        raise RuntimeError(sol.message)
    return sol.y


# --- checks and writing -----------------------------------------------------------------

def check_model_file(models, name, values):
    """Every value typed in here must be the `param` line of the model file."""
    text = open(os.path.join(models, name + ".model"), encoding="utf-8").read()
    declared = dict(re.findall(r"^param\s+(\w+)\s*=\s*(\S+)", text, flags=re.M))
    for key, value in values.items():
        if key not in declared:
            raise SystemExit(f"{name}.model: no parameter {key}")
        if float(declared[key]) != value:
            raise SystemExit(f"{name}.model: {key} = {declared[key]}, this script has {value}")


def write(path, t, cols):
    names = list(cols)
    with open(path, "w", encoding="ascii") as f:
        f.write(",".join(["time"] + names) + "\n")
        for i, ti in enumerate(t):
            row = [repr(float(ti))] + ["%.17g" % float(cols[n][i]) for n in names]
            f.write(",".join(row) + "\n")
    print(f"wrote {path}: {len(t)} times x {len(names)} outputs")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="models/reference", help="output folder")
    ap.add_argument("--models", default="models", help="folder of the model files")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)

    check_model_file(a.models, "stein2019", STEIN)
    check_model_file(a.models, "stein2019_ode", STEIN)
    check_model_file(a.models, "lisocel2021", LISOCEL)
    check_model_file(a.models, "pk_1cmt_iv", {k: PK[k] for k in ("CL", "V")})
    check_model_file(a.models, "pk_1cmt_oral", PK)
    check_model_file(a.models, "cd19_bcell", CD19)
    check_model_file(a.models, "cd19_cd20_bcell", CD19_CD20)
    check_model_file(a.models, "singh2021", SINGH)

    g = grid_with(STEIN["tmax"])
    st = stein(g, **STEIN)
    write(os.path.join(a.out, "stein2019.csv"), g, {"transgene": st})
    # the ODE form's exact solution is the same closed form
    write(os.path.join(a.out, "stein2019_ode.csv"), g, {"transgene": st})

    gl = grid_with(LISOCEL["tlag"], LISOCEL["tmax"])
    write(os.path.join(a.out, "lisocel2021.csv"), gl, {"transgene": lisocel(gl, **LISOCEL)})

    write(os.path.join(a.out, "pk_1cmt_iv.csv"), PK_GRID,
          {"conc": pk_iv(PK_GRID, PK_DOSE, PK["CL"], PK["V"])})
    write(os.path.join(a.out, "pk_1cmt_oral.csv"), PK_GRID,
          {"conc": pk_oral(PK_GRID, PK_DOSE, **PK)})

    gm = np.union1d(BASE_GRID, EARLY)
    out = cd19_bcell(CD19, CD19_DOSE, gm)
    write(os.path.join(a.out, "cd19_bcell.csv"), gm, {c: out[c] for c in CD19_COLUMNS})
    out = cd19_bcell(CD19_CD20, CD19_CD20_DOSE, gm)
    write(os.path.join(a.out, "cd19_cd20_bcell.csv"), gm, {c: out[c] for c in CD19_COLUMNS})
    out = singh2021(SINGH, SINGH_DOSE, gm)
    write(os.path.join(a.out, "singh2021.csv"), gm, {c: out[c] for c in SINGH_COLUMNS})


if __name__ == "__main__":
    main()
