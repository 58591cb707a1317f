#!/usr/bin/env python3
"""FOCE-I OFV and exact marginal -2LL of the pheno-like bench model, without cartkin.

The model of benches/data/pheno.model (one compartment, IV boluses, CL and V
proportional to weight, eta on both, proportional error) is written out here in NumPy:
C(t) = sum over doses of AMT/Vi * exp(-CLi/Vi * (t - t_dose)), CLi = CL*WT*exp(eta1),
Vi = V*WT*exp(eta2), y = C*(1 + eps), Var = (cv*C)^2.

For each parameter set (CL,V,cv,omega2_CL,omega2_V) it prints, both without N*ln(2*pi)
(NONMEM's convention):
- the FOCE-I OFV (NONMEM METHOD=1 INTER): the EBE by BFGS, then
  O(eta) + ln|Omega| + ln|Omega^-1 + sum(g g'/V + 1/2 h h'/V^2)|;
- the exact marginal -2LL, -2 ln of the integral over eta, by adaptive Gauss-Hermite
  quadrature (30 x 30 nodes per subject, centred on the EBE and scaled by the Laplace
  covariance).

Usage: python3 scripts/pheno_marginal.py benches/data/pheno_sim.csv CL,V,cv,w1,w2 [...]
"""
import csv
import math
import sys

import numpy as np
from scipy.optimize import minimize


def read(path):
    subjects = {}
    for r in csv.DictReader(open(path)):
        s = subjects.setdefault(r["ID"], {"doses": [], "obs": [], "wt": float(r["WT"])})
        t = float(r["TIME"])
        if r["EVID"] == "1":
            addl = int(r["ADDL"]) if r["ADDL"] not in (".", "") else 0
            ii = float(r["II"]) if r["II"] not in (".", "") else 0.0
            for k in range(addl + 1):
                s["doses"].append((t + k * ii, float(r["AMT"])))
        else:
            s["obs"].append((t, float(r["DV"])))
    out = []
    for s in subjects.values():
        out.append({
            "wt": s["wt"],
            "t": np.array([o[0] for o in s["obs"]]),
            "y": np.array([o[1] for o in s["obs"]]),
            "td": np.array([d[0] for d in s["doses"]]),
            "amt": np.array([d[1] for d in s["doses"]]),
        })
    return out


def concentration(s, cl, v, eta):
    cli = cl * s["wt"] * math.exp(eta[0])
    vi = v * s["wt"] * math.exp(eta[1])
    dt = s["t"][:, None] - s["td"][None, :]
    given = dt >= 0
    terms = s["amt"][None, :] / vi * np.exp(-cli / vi * np.where(given, dt, 0.0))
    return np.where(given, terms, 0.0).sum(axis=1)


def conditional(s, th, eta):
    """O(eta) = sum[ln Var + (y - C)^2/Var] + eta' Omega^-1 eta (no ln 2 pi)."""
    cl, v, cv, w1, w2 = th
    c = concentration(s, cl, v, eta)
    var = (cv * c) ** 2
    return np.sum(np.log(var) + (s["y"] - c) ** 2 / var) + eta[0] ** 2 / w1 + eta[1] ** 2 / w2


def ebe(s, th):
    return minimize(lambda e: conditional(s, th, e), np.zeros(2), method="BFGS",
                    options={"gtol": 1e-10}).x


def foce_i(subjects, th):
    cl, v, cv, w1, w2 = th
    total = 0.0
    for s in subjects:
        e = ebe(s, th)
        c = concentration(s, cl, v, e)
        g = np.zeros((len(c), 2))
        for k in range(2):
            up, down = e.copy(), e.copy()
            up[k] += 1e-6
            down[k] -= 1e-6
            g[:, k] = (concentration(s, cl, v, up) - concentration(s, cl, v, down)) / 2e-6
        var = (cv * c) ** 2
        h = 2 * cv ** 2 * c[:, None] * g
        b = (g.T / var) @ g + 0.5 * (h.T / var ** 2) @ h
        total += (conditional(s, th, e) + math.log(w1 * w2)
                  + np.linalg.slogdet(np.diag([1 / w1, 1 / w2]) + b)[1])
    return total


def marginal(subjects, th, n=30):
    w1, w2 = th[3], th[4]
    x, w = np.polynomial.hermite_e.hermegauss(n)  # weight exp(-x^2/2)
    total = 0.0
    for s in subjects:
        e = ebe(s, th)
        o0 = conditional(s, th, e)
        step = 1e-4
        hess = np.zeros((2, 2))
        for a in range(2):
            for b in range(2):
                def at(da, db):
                    p = e.copy()
                    p[a] += da
                    p[b] += db
                    return conditional(s, th, p)
                hess[a, b] = (at(step, step) - at(step, -step) - at(-step, step)
                              + at(-step, -step)) / (4 * step * step)
        chol = np.linalg.cholesky(np.linalg.inv(hess / 2))
        acc = 0.0
        for i in range(n):
            for j in range(n):
                z = np.array([x[i], x[j]])
                acc += w[i] * w[j] * math.exp(-(conditional(s, th, e + chol @ z) - o0) / 2
                                              + z @ z / 2)
        # -2 ln of  integral exp(-O/2) d eta / (2 pi sqrt|Omega|)
        integral = math.exp(-o0 / 2) * acc * abs(np.linalg.det(chol))
        total += -2 * math.log(integral) + math.log(w1 * w2) + 2 * math.log(2 * math.pi)
    return total


def main():
    subjects = read(sys.argv[1])
    for arg in sys.argv[2:]:
        th = [float(v) for v in arg.split(",")]
        print(f"{arg}: FOCE-I OFV {foce_i(subjects, th):.4f}, "
              f"exact marginal -2LL {marginal(subjects, th):.4f}")


if __name__ == "__main__":
    main()
