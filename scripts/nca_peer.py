"""Independent reference NCA for tests/it/nca_peer.rs.

Reads transgene profiles of data/example.csv with the csv module (not cartkin's reader)
and computes Cmax, Tmax, AUClast, AUC0-28, AUC0-50 (linear-up/log-down and linear),
and the automatic lambda_z, written from PKNCA's definitions (pk.calc.auc,
clean.conc.blq, pk.calc.half.life): plain Python loops, scipy.stats.linregress for the
regression. It shares no code with cartkin. Prints the Rust `Reference` entries.

Rules (PKNCA defaults, cartkin's defaults of docs/outputs.md, `nca.csv`):
- only post-dose samples (t >= 0) enter; BLQ before the first quantifiable sample = 0,
  BLQ between quantifiable samples and after Tlast are dropped;
- Cmax = largest quantifiable value, Tmax its first time;
- AUC0-x sums whole intervals up to x, and the part [t1, x] of the interval holding x
  with the interpolant of the rule (log interpolation on a log-down interval);
- lambda_z: candidates are the quantifiable points after Tmax; fit the last n for
  n = 3..all; best = max adjusted R^2 over all fits (adj = 1-(1-R^2)(n-1)/(n-2));
  keep fits with slope < 0 and adj > best - 1e-4; take the one with the most points.

Run: python scripts/nca_peer.py [data/example.csv] [ID ...]
"""

import csv
import math
import sys

from scipy.stats import linregress


def read_profiles(path):
    """ID -> list of (time, value or None for BLQ) for transgene, sorted by time."""
    profiles = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["EVID"] != "0" or row["DVID"] != "transgene":
                continue
            dv = row["DV"].strip()
            blq = row["CENS"] == "1" or dv.startswith("<") or dv.upper() in ("BLQ", "BQL")
            value = None if blq else float(dv)
            profiles.setdefault(row["ID"], []).append((float(row["TIME"]), value))
    for p in profiles.values():
        p.sort(key=lambda s: s[0])
    return profiles


def is_log(c1, c2, linear):
    return (not linear) and c2 < c1 and c2 > 0


def seg(t1, c1, t2, c2, linear):
    if is_log(c1, c2, linear):
        return (t2 - t1) * (c1 - c2) / math.log(c1 / c2)
    return (t2 - t1) * (c1 + c2) / 2


def interp(t1, c1, t2, c2, t, linear):
    if is_log(c1, c2, linear):
        return math.exp(math.log(c1) + (math.log(c2) - math.log(c1)) * (t - t1) / (t2 - t1))
    return c1 + (c2 - c1) * (t - t1) / (t2 - t1)


def clean(samples):
    """PKNCA clean.conc.blq with first = 0, middle = drop, last = drop; t >= 0 only."""
    post = [(t, v) for t, v in samples if t >= 0]
    q = [i for i, (_, v) in enumerate(post) if v is not None]
    first, last = q[0], q[-1]
    points = []
    for i, (t, v) in enumerate(post):
        if v is not None:
            points.append((t, v))
        elif i < first:
            points.append((t, 0.0))
    if points[0][0] > 0:
        points.insert(0, (0.0, 0.0))
    return points


def auc_to(points, x, linear):
    total = 0.0
    for (t1, c1), (t2, c2) in zip(points, points[1:]):
        if t2 <= x:
            total += seg(t1, c1, t2, c2, linear)
        elif t1 < x:
            cx = interp(t1, c1, t2, c2, x, linear)
            total += seg(t1, c1, x, cx, linear)
    return total


def lambda_z(points, tmax):
    cand = [(t, c) for t, c in points if t > tmax and c > 0]
    fits = []
    for n in range(3, len(cand) + 1):
        pts = cand[-n:]
        r = linregress([t for t, _ in pts], [math.log(c) for _, c in pts])
        r2 = r.rvalue ** 2
        adj = 1 - (1 - r2) * (n - 1) / (n - 2)
        fits.append((n, adj, r.slope, r2))
    best = max(f[1] for f in fits)
    ok = [f for f in fits if f[2] < 0 and f[1] > best - 1e-4]
    n, adj, slope, r2 = max(ok, key=lambda f: f[0])
    return n, float(-slope), float(r2), float(adj), [round(float(f[1]), 6) for f in fits]


def reference(samples):
    points = clean(samples)
    quant = [(t, v) for t, v in samples if t >= 0 and v is not None]
    cmax = max(v for _, v in quant)
    tmax = min(t for t, v in quant if v == cmax)
    tlast = quant[-1][0]
    out = {"cmax": cmax, "tmax": tmax}
    for name, linear in (("linlog", False), ("linear", True)):
        out[name] = [auc_to(points, tlast, linear), auc_to(points, 28.0, linear),
                     auc_to(points, 50.0, linear)]
    out["lz"] = lambda_z(points, tmax)
    return out


def rust_value(v):
    return "None" if v is None else f"Some({v!r})"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "data/example.csv"
    ids = sys.argv[2:] or ["1", "9", "17"]
    profiles = read_profiles(path)
    for i in ids:
        s = profiles[i]
        r = reference(s)
        n, lz, r2, adj, adjs = r["lz"]
        print(f"// subject {i}; adj R^2 of the 3.. point fits: {adjs}")
        print("Reference {")
        print(f"    id: \"{i}\",")
        print("    profile: vec![" + ", ".join(f"({t!r}, {rust_value(v)})" for t, v in s) + "],")
        print(f"    cmax: {r['cmax']!r},")
        print(f"    tmax: {r['tmax']!r},")
        print(f"    linlog: [{', '.join(repr(x) for x in r['linlog'])}],")
        print(f"    linear: [{', '.join(repr(x) for x in r['linear'])}],")
        print(f"    lambda_z_points: {n},")
        print(f"    lambda_z: {lz!r},")
        print(f"    r_squared: {r2!r},")
        print(f"    adj_r_squared: {adj!r},")
        print("},")


if __name__ == "__main__":
    main()
