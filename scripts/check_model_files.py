#!/usr/bin/env python3
"""Read the built-in model files with a small independent interpreter and compare each
with its reference trajectory (models/reference/*.csv).

This is a cross-check of the model FILES (equations, parameter values, dose scaling) that
does not depend on cartkin's parser: statements are read with regular expressions and
expressions evaluated by Python (`^` -> `**`, `&&`/`||` -> and/or, `if(c, a, b)` ->
a function). ODE models are solved with SciPy Radau, segment by segment between the
declared stop times. It only understands what the built-in files use (one bolus at t = 0,
no covariates). Usage:

    python scripts/check_model_files.py [models/NAME.model ...]
"""

import csv
import math
import re
import sys

import numpy as np
from scipy.integrate import solve_ivp

DOSES = {"pk_1cmt_iv": 320.0, "pk_1cmt_oral": 320.0, "cd19_bcell": 50e6,
         "cd19_cd20_bcell": 300e6, "singh2021": 450e6}


def statements(text):
    """Comment-free logical lines (a line ending inside parentheses continues)."""
    out, buf, depth = [], "", 0
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip() and depth == 0:
            continue
        if depth == 0 and re.match(r"\s*(unit|lloq)\b", line) and out:
            # an output's `unit ... lloq ...` may continue on the next line (docs/model-language.md)
            out[-1] += " " + line.strip()
            continue
        buf = (buf + " " + line.strip()) if buf else line.strip()
        depth += line.count("(") - line.count(")")
        if depth == 0:
            out.append(buf)
            buf = ""
    assert depth == 0, "unbalanced parentheses"
    return out


def to_py(expr):
    e = expr.replace("^", "**").replace("&&", " and ").replace("||", " or ")
    return re.sub(r"\bif\(", "_if(", e)


FUNCS = dict(exp=math.exp, log=math.log, log10=math.log10, sqrt=math.sqrt, pow=math.pow,
             abs=abs, min=min, max=max, _if=lambda c, a, b: a if c else b)


class ModelFile:
    def __init__(self, path):
        self.params, self.lets, self.states, self.ddt = {}, [], [], {}
        self.stops, self.outputs, self.dose = [], [], None
        for s in statements(open(path, encoding="utf-8").read()):
            kw = s.split()[0]
            if kw == "param":
                m = re.match(r"param\s+(\w+)\s*=\s*(\S+)", s)
                self.params[m.group(1)] = float(m.group(2))
            elif kw == "let":
                m = re.match(r"let\s+(\w+)\s*=\s*(.*)$", s)
                self.lets.append((m.group(1), to_py(m.group(2))))
            elif kw == "state":
                m = re.match(r"state\s+(\w+)\s*=\s*(.*)$", s)
                self.states.append((m.group(1), to_py(m.group(2)), len(self.lets)))
            elif kw.startswith("ddt("):
                m = re.match(r"ddt\((\w+)\)\s*=\s*(.*)$", s)
                self.ddt[m.group(1)] = to_py(m.group(2))
            elif kw == "stop":
                self.stops.append(to_py(s[4:].strip()))
            elif kw == "output":
                m = re.match(r"output\s+(\w+)\s*=\s*(.*?)\s+unit\s+\"", s)
                self.outputs.append((m.group(1), to_py(m.group(2))))
            elif kw == "dose":
                m = re.match(r"dose\s+(\w+)(?:\s+scale\s+(.*))?$", s)
                self.dose = (m.group(1), to_py(m.group(2) or "1"))
            elif kw in ("model", "description", "reference", "error", "solver", "covariate"):
                pass
            else:
                raise ValueError(f"unknown statement: {s}")
        self.names = [n for n, _, _ in self.states]

    def env(self, t, y):
        ns = dict(FUNCS)
        ns.update(self.params)
        ns["t"] = t
        if y is not None:
            ns.update(zip(self.names, y))
        for name, e in self.lets:
            try:
                ns[name] = eval(e, {}, ns)
            except NameError:  # a let that needs states, evaluated before they exist
                if y is not None:
                    raise
        return ns

    def outputs_at(self, t, y):
        ns = self.env(t, y)
        return [eval(e, {}, ns) for _, e in self.outputs]

    def solve(self, times, dose):
        ns0 = self.env(0.0, None)
        y = np.array([eval(e, {}, ns0) for _, e, _ in self.states], dtype=float)
        if self.dose and dose:
            i = self.names.index(self.dose[0])
            y[i] += dose * eval(self.dose[1], {}, ns0)
        stops = sorted(eval(s, {}, ns0) for s in self.stops)
        edges = [0.0] + [s for s in stops if 0 < s < times[-1]] + [times[-1]]
        out = np.empty((len(times), len(self.outputs)))
        scale = np.maximum(np.abs(y), 1.0)
        for a, b in zip(edges[:-1], edges[1:]):
            # inside [a, b) the if() conditions take their left-of-b value: evaluate the
            # right-hand side at min(t, midpoint-side of b) for the conditions only
            def rhs(t, yy, a=a, b=b):
                tc = min(t, b - 1e-12 * max(1.0, b)) if t >= b else t
                ns = self.env(tc, yy)
                ns["t"] = tc
                return [eval(self.ddt[n], {}, ns) for n in self.names]
            sel = [(k, t) for k, t in enumerate(times) if a <= t <= b]
            sol = solve_ivp(rhs, (a, b), y, method="Radau", rtol=1e-11,
                            atol=1e-13 * scale, dense_output=True)
            assert sol.success, sol.message
            for k, t in sel:
                if t < b or b == edges[-1]:
                    out[k] = self.outputs_at(t, sol.sol(t))
            y = sol.y[:, -1]
        return out


def main(paths):
    for path in paths:
        name = re.search(r"(\w+)\.model$", path).group(1)
        mf = ModelFile(path)
        with open(f"models/reference/{name}.csv") as f:
            rows = list(csv.reader(f))
        head, data = rows[0], np.array(rows[1:], dtype=float)
        times = data[:, 0]
        assert head[1:] == [n for n, _ in mf.outputs], (head, mf.outputs)
        if mf.states:
            got = mf.solve(times, DOSES.get(name, 0.0))
        else:
            got = np.array([mf.outputs_at(t, None) for t in times])
        ref = data[:, 1:]
        peak = np.max(np.abs(ref), axis=0)
        err = np.abs(got - ref) / (1e-9 * peak + np.abs(ref))
        worst = np.unravel_index(np.argmax(err), err.shape)
        print(f"{name:16s} max |err|/(1e-9*peak+|ref|) = {err.max():.2e} "
              f"({head[1 + worst[1]]} at t = {times[worst[0]]})")


if __name__ == "__main__":
    main(sys.argv[1:] or [f"models/{n}.model" for n in (
        "stein2019", "stein2019_ode", "lisocel2021", "pk_1cmt_iv", "pk_1cmt_oral",
        "cd19_bcell", "cd19_cd20_bcell", "singh2021")])
