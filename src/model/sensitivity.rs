//! Exact derivatives of predictions with respect to the parameters: forward
//! sensitivities for ODE models, direct differentiation for closed forms.
//!
//! With states y, structural parameters θ and S = ∂y/∂θ (n × p), the sensitivity
//! equations are integrated together with the states (the simultaneous corrector
//! approach; same solver, tolerances applied to every component of (y, S)):
//!
//! ```text
//! y' = f(t, y, θ) + r(t)             S' = J·S + ∂f/∂θ + ∂r/∂θ         J = ∂f/∂y
//! y(t0) = y0(θ)                      S(t0) = ∂y0/∂θ
//! ```
//!
//! where r is the infusion rate (amount·scale/duration). Events:
//! - a bolus adds amount·scale(θ) to its state, so S gains amount·∂scale/∂θ in that row;
//! - a reset puts y back to y0 and S back to ∂y0/∂θ;
//! - at a `stop` time τ(θ) where f is discontinuous, y is continuous but S jumps by
//!   (f⁻ − f⁺)·∂τ/∂θ (f⁻ evaluated as on the segment ending at τ, f⁺ as on the one
//!   starting there, after any bolus at τ; Hairer, Nørsett & Wanner 1993 §I.14,
//!   differentiation with respect to a switching time). A continuous f gives no jump.
//!
//! A prediction out = g(t, y, θ) then has ∂out/∂θ = ∂g/∂y·S + ∂g/∂θ; a closed form has
//! only the second term. All of f, J, ∂f/∂θ, ∂y0/∂θ, ∂scale/∂θ, ∂τ/∂θ, ∂g/∂y and ∂g/∂θ
//! are compiled from the model file by [`super::derive`] through the model compiler (so
//! they run as native code, or in the interpreter when the model does). The code is
//! compiled at the first request and shared by clones of the model.
//!
//! Residual parameters do not enter predictions: their columns are 0. Not covered: a
//! stop time that coincides with a covariate change (f⁻ then uses the covariates of the
//! segment before, as it should, but the change itself is not differentiated — covariates
//! are data).

use super::ast::{Expr, ExprKind, Stmt};
use super::compile::{compile_native, Gen, Routine, LAST_DOSE_SLOT, TAD_SLOT, TC_SLOT, T_SLOT};
use super::derive::{Differentiator, Var};
use super::error::{Located, Pos};
use super::model::Model;
use super::parser::parse;
use super::predict::{dose_context, open_segment, set_covariates, solve_segments};
use super::resolve::Decls;
use super::spec::{Individual, PredictError};
use super::vm::Slot;
use crate::data::CovariateValue;
use crate::solve::{OdeSystem, SolveStats, Solver};

/// The compiled derivative programs of a model (own slot array).
#[derive(Debug)]
pub(crate) struct SensitivityCode {
    individual: Routine,
    /// f, J (row-major n × n), ∂f/∂θ (row-major n × p).
    rhs: Routine,
    /// Per output: the value, ∂/∂y (n), ∂/∂θ (p).
    outputs: Vec<(Routine, Slot, Vec<Slot>, Vec<Slot>)>,
    template: Vec<f64>,
    param_slots: Vec<Slot>,
    covariates: Vec<(String, f64, Slot)>,
    first_state: usize,
    /// The structural parameters (the columns of S), by parameter index.
    params: Vec<usize>,
    init: Vec<Slot>,
    init_sens: Vec<Slot>,
    stops: Vec<(Slot, Vec<Slot>)>,
    /// Dose lines: state, scale, ∂scale/∂θ.
    doses: Vec<(usize, Slot, Vec<Slot>)>,
    f: Vec<Slot>,
    jac: Vec<Slot>,
    fp: Vec<Slot>,
    /// The `ddt`s are linear with constant coefficients (`super::linear`).
    linear: bool,
}

/// Compile the derivative programs of a model text (already checked by `Model`).
pub(crate) fn compile(source: &str, native: bool) -> Result<SensitivityCode, Located> {
    let stmts = parse(source)?;
    let decls = Decls::collect(&stmts)?;
    let n = decls.states.len();
    let params: Vec<usize> = (0..decls.params.len())
        .filter(|i| !decls.params[*i].residual)
        .collect();
    let p = params.len();
    let mut vars: Vec<Var> = (0..n).map(Var::State).collect();
    vars.extend(params.iter().map(|i| Var::Param(*i)));
    let diff = Differentiator::new(&decls, vars);
    let mut gen = Gen::new(diff.decls());
    let zero = Expr {
        kind: ExprKind::Num(0.0),
        pos: Pos { line: 1, column: 1 },
    };
    let d = |e: &Expr, k: usize| diff.derivative(e, k).unwrap_or_else(|| zero.clone());
    let mut init = Vec::new();
    let mut init_sens = Vec::new();
    for (name, e) in &decls.states {
        init.push(gen.individual_value(e, &format!("the initial value of `{}`", name.text))?);
        for k in 0..p {
            let what = format!("∂{}(0)/∂θ", name.text);
            init_sens.push(gen.individual_value(&d(e, n + k), &what)?);
        }
    }
    let mut stops = Vec::new();
    let mut doses = Vec::new();
    let mut outputs = Vec::new();
    for s in &stmts {
        match &s.node {
            Stmt::Stop(e) => {
                let slot = gen.individual_value(e, "a stop time")?;
                let sens = (0..p)
                    .map(|k| gen.individual_value(&d(e, n + k), "∂stop/∂θ"))
                    .collect::<Result<Vec<_>, _>>()?;
                stops.push((slot, sens));
            }
            Stmt::Dose { state, scale, .. } => {
                let i = decls
                    .states
                    .iter()
                    .position(|s| s.0.text == state.text)
                    .unwrap_or(0);
                let e = scale.clone().unwrap_or(Expr {
                    kind: ExprKind::Num(1.0),
                    pos: state.pos,
                });
                let slot = gen.individual_value(&e, "a dose scale")?;
                let sens = (0..p)
                    .map(|k| gen.individual_value(&d(&e, n + k), "∂scale/∂θ"))
                    .collect::<Result<Vec<_>, _>>()?;
                doses.push((i, slot, sens));
            }
            Stmt::Output { analyte, expr, .. } => {
                let mut roots = vec![(expr.clone(), format!("output `{}`", analyte.text))];
                for k in 0..n + p {
                    roots.push((d(expr, k), format!("∂{}/∂·", analyte.text)));
                }
                outputs.push(roots);
            }
            _ => {}
        }
    }
    let mut rhs_roots = Vec::new();
    for ((name, _), e) in decls.states.iter().zip(&decls.ddts) {
        rhs_roots.push((e.clone(), format!("ddt({})", name.text)));
    }
    for ((name, _), e) in decls.states.iter().zip(&decls.ddts) {
        for k in 0..n {
            rhs_roots.push((d(e, k), format!("∂ddt({})/∂y", name.text)));
        }
    }
    for ((name, _), e) in decls.states.iter().zip(&decls.ddts) {
        for k in 0..p {
            rhs_roots.push((d(e, n + k), format!("∂ddt({})/∂θ", name.text)));
        }
    }
    let rhs_refs: Vec<(&Expr, String)> = rhs_roots.iter().map(|(e, w)| (e, w.clone())).collect();
    let (rhs_code, rhs_slots) = gen.dynamic_program(&rhs_refs);
    let mut out_progs = Vec::new();
    for roots in &outputs {
        let r: Vec<(&Expr, String)> = roots.iter().map(|(e, w)| (e, w.clone())).collect();
        let (code, slots) = gen.dynamic_program(&r);
        out_progs.push((code, slots));
    }
    let individual = std::mem::take(&mut gen.individual);
    let mut code = SensitivityCode {
        linear: decls.ddts_are_linear(),
        individual: Routine::new(gen.program(individual)?),
        rhs: Routine::new(gen.program(rhs_code)?),
        outputs: out_progs
            .into_iter()
            .map(|(c, s)| {
                Ok((
                    Routine::new(gen.program(c)?),
                    s[0],
                    s[1..1 + n].to_vec(),
                    s[1 + n..].to_vec(),
                ))
            })
            .collect::<Result<Vec<_>, Located>>()?,
        template: gen.template(),
        param_slots: gen.param_slots.clone(),
        covariates: gen.covariates(),
        first_state: gen.state_slots.first().map_or(0, |s| *s as usize),
        params,
        init,
        init_sens,
        stops,
        doses,
        f: rhs_slots[..n].to_vec(),
        jac: rhs_slots[n..n + n * n].to_vec(),
        fp: rhs_slots[n + n * n..].to_vec(),
    };
    if native {
        let mut routines = vec![&mut code.individual, &mut code.rhs];
        routines.extend(code.outputs.iter_mut().map(|o| &mut o.0));
        compile_native(routines);
    }
    Ok(code)
}

/// Smallest |y| a difference step is scaled by (as in Rodas4).
const DELTA_FLOOR: f64 = 1e-5;

/// The state index of a reset event.
const RESET: usize = usize::MAX;

/// A dose event: time, state (or [`RESET`]), amount, duration, ∂amount/∂θ.
type Event = (f64, usize, f64, f64, Vec<f64>);

/// The augmented system (y, S) seen by the solver; S row-major n × p after y, its p
/// columns those of the structural parameters `cols` (positions in
/// [`SensitivityCode::params`]).
struct Augmented<'a> {
    code: &'a SensitivityCode,
    cols: &'a [usize],
    slots: &'a mut [f64],
    rates: &'a [f64],
    drates: &'a [f64],
    n: usize,
    range: (f64, f64),
    /// Smallest |y| a difference step is scaled by (as Rodas4's own differences).
    floor: f64,
}

impl<'a> Augmented<'a> {
    fn new(
        code: &'a SensitivityCode,
        cols: &'a [usize],
        slots: &'a mut [f64],
        (rates, drates): (&'a [f64], &'a [f64]),
        n: usize,
        range: (f64, f64),
        floor: f64,
    ) -> Self {
        Augmented {
            code,
            cols,
            slots,
            rates,
            drates,
            n,
            range,
            floor,
        }
    }

    /// dy/dt at (t, y), f plus the infusion rates, with comparisons seeing `range`.
    fn state_rates(&mut self, t: f64, y: &[f64], range: (f64, f64), out: &mut [f64]) {
        self.evaluate(t, y, range);
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.slots[self.code.f[i] as usize] + self.rates[i];
        }
    }

    /// Run the derivative right-hand side at (t, y) with comparisons seeing `range`.
    fn evaluate(&mut self, t: f64, y: &[f64], range: (f64, f64)) {
        let s = &mut *self.slots;
        s[T_SLOT] = t;
        s[TC_SLOT] = t.max(range.0).min(range.1);
        let f = self.code.first_state;
        s[f..f + self.n].copy_from_slice(&y[..self.n]);
        self.code.rhs.run(s);
    }
}

impl OdeSystem for Augmented<'_> {
    fn dim(&self) -> usize {
        self.n * (1 + self.cols.len())
    }

    fn rhs(&mut self, t: f64, z: &[f64], dz: &mut [f64]) {
        self.evaluate(t, z, self.range);
        let (n, p, all) = (self.n, self.cols.len(), self.code.params.len());
        let (c, s) = (self.code, &*self.slots);
        let sens = &z[n..];
        let (dy, dsens) = dz.split_at_mut(n);
        for (i, d) in dy.iter_mut().enumerate() {
            *d = s[c.f[i] as usize] + self.rates[i];
        }
        for i in 0..n {
            for (k, &col) in self.cols.iter().enumerate() {
                let mut acc = s[c.fp[i * all + col] as usize] + self.drates[i * p + k];
                for j in 0..n {
                    acc += s[c.jac[i * n + j] as usize] * sens[j * p + k];
                }
                dsens[i * p + k] = acc;
            }
        }
    }

    fn enter_segment(&mut self, start: f64, end: f64) {
        self.range = open_segment(start, end);
    }

    /// (y, S) is linear with constant coefficients when y is: ∂f/∂θ is then affine
    /// in y too.
    fn is_linear(&self) -> bool {
        self.code.linear
    }

    /// The Jacobian of (y, S) ↦ (f + r, J·S + ∂f/∂θ + ∂r/∂θ), row-major m × m:
    ///
    /// ```text
    /// [ J   0       ]     J exact (compiled), in the top-left block and in the
    /// [ H   I_n ⊗ J ]     diagonal blocks (J acts on each column of S);
    /// ```
    ///
    /// H = ∂(J·S + ∂f/∂θ)/∂y (second derivatives of f) by forward differences in y:
    /// n + 1 evaluations of the derivative program instead of n(1 + p) of the augmented
    /// right-hand side.
    fn jacobian(&mut self, t: f64, z: &[f64], jac: &mut [f64]) -> bool {
        let (n, p) = (self.n, self.cols.len());
        let m = n * (1 + p);
        jac.iter_mut().for_each(|x| *x = 0.0);
        let mut base = vec![0.0; m];
        self.rhs(t, z, &mut base);
        let c = self.code;
        for i in 0..n {
            for l in 0..n {
                let v = self.slots[c.jac[i * n + l] as usize];
                jac[i * m + l] = v;
                for k in 0..p {
                    jac[(n + i * p + k) * m + n + l * p + k] = v;
                }
            }
        }
        let mut probe = z.to_vec();
        let mut moved = vec![0.0; m];
        for j in 0..n {
            let yj = z[j];
            probe[j] = yj + f64::EPSILON.sqrt() * yj.abs().max(self.floor);
            let delta = probe[j] - yj;
            self.rhs(t, &probe, &mut moved);
            probe[j] = yj;
            for r in n..m {
                jac[r * m + j] = (moved[r] - base[r]) / delta;
            }
        }
        true
    }
}

impl Model {
    /// The derivative programs, compiled at the first call.
    fn sensitivity_code(&self) -> Result<&SensitivityCode, PredictError> {
        self.sensitivity
            .get_or_init(|| {
                compile(self.source(), self.code.is_native()).map_err(|e| e.message.clone())
            })
            .as_ref()
            .map_err(|m| self.input_error(format!("derivatives could not be compiled: {m}")))
    }

    /// Predictions and their exact derivatives with respect to the parameters `wanted`
    /// (indices into θ; `None`: every parameter), natural scale:
    /// `jac[i * theta.len() + k] = ∂out[i]/∂θ_k`, 0 for a parameter not wanted (module
    /// docs). Only the sensitivity equations of the wanted structural parameters are
    /// solved: n(1 + w) equations instead of n(1 + p). Returns the solver's work on the
    /// augmented system (zero for a closed form), also added to [`Model::solver_totals`].
    #[allow(clippy::too_many_arguments)]
    pub fn predict_sensitivities(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        wanted: Option<&[usize]>,
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<SolveStats, PredictError> {
        self.check_call(theta, times, outputs, out)?;
        if jac.len() != out.len() * theta.len() {
            return Err(self.input_error(format!(
                "jac has {} entries: expected {} predictions × {} parameters",
                jac.len(),
                out.len(),
                theta.len()
            )));
        }
        let code = self.sensitivity_code()?;
        // The columns of S: positions in code.params of the wanted parameters.
        let cols: Vec<usize> = (0..code.params.len())
            .filter(|&k| wanted.is_none_or(|w| w.contains(&code.params[k])))
            .collect();
        jac.iter_mut().for_each(|x| *x = 0.0);
        let mut s = code.template.clone();
        for (x, slot) in theta.iter().zip(&code.param_slots) {
            s[*slot as usize] = *x;
        }
        for (name, default, slot) in &code.covariates {
            s[*slot as usize] = individual.covariates.numeric(name, 0.0).unwrap_or(*default);
        }
        code.individual.run(&mut s);
        let varying: Vec<(Slot, &[(f64, CovariateValue)])> = code
            .covariates
            .iter()
            .filter_map(|(name, _, slot)| {
                individual
                    .covariates
                    .varying
                    .get(&name.to_ascii_uppercase())
                    .map(|steps| (*slot, steps.as_slice()))
            })
            .collect();
        if self.states.is_empty() {
            for i in 0..times.len() {
                if !varying.is_empty() {
                    covariates_at(code, &mut s, &varying, times[i]);
                }
                let row = &mut jac[i * theta.len()..(i + 1) * theta.len()];
                out[i] = self.output_sens(
                    code,
                    &cols,
                    &mut s,
                    outputs[i],
                    times[i],
                    &[],
                    individual,
                    row,
                )?;
            }
            return Ok(SolveStats::default());
        }
        let stats = self.ode_sensitivities(
            code, &cols, &mut s, &varying, individual, times, outputs, out, jac,
        )?;
        if let Ok(mut totals) = self.solver_totals.lock() {
            totals.add(&stats);
        }
        Ok(stats)
    }

    /// Output `o` at t with states y and sensitivities S = y[n..] (columns `cols`) into
    /// `row`.
    #[allow(clippy::too_many_arguments)]
    fn output_sens(
        &self,
        code: &SensitivityCode,
        cols: &[usize],
        s: &mut [f64],
        o: usize,
        t: f64,
        z: &[f64],
        individual: &Individual<'_>,
        row: &mut [f64],
    ) -> Result<f64, PredictError> {
        let n = self.states.len();
        let p = cols.len();
        s[T_SLOT] = t;
        s[TC_SLOT] = t;
        (s[TAD_SLOT], s[LAST_DOSE_SLOT]) = dose_context(individual.doses, t);
        if n > 0 {
            let f = code.first_state;
            s[f..f + n].copy_from_slice(&z[..n]);
        }
        let (routine, value, dy, dp) = &code.outputs[o];
        routine.run(s);
        for (k, &col) in cols.iter().enumerate() {
            let mut d = s[dp[col] as usize];
            for j in 0..n {
                d += s[dy[j] as usize] * z[n + j * p + k];
            }
            row[code.params[col]] = d;
        }
        let v = s[*value as usize];
        if !v.is_finite() || row.iter().any(|x| !x.is_finite()) {
            return Err(PredictError::NonFinite {
                model: self.name.clone(),
                what: format!("the derivative of output `{}`", self.outputs[o].analyte),
                time: t,
            });
        }
        Ok(v)
    }

    #[allow(clippy::too_many_arguments)]
    fn ode_sensitivities(
        &self,
        code: &SensitivityCode,
        cols: &[usize],
        s: &mut [f64],
        varying: &[(Slot, &[(f64, CovariateValue)])],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<SolveStats, PredictError> {
        let n = self.states.len();
        let (p, all) = (cols.len(), code.params.len());
        let m = n * (1 + p);
        let np = self.parameters.len();
        let mut events: Vec<Event> = Vec::new();
        if !self.code.doses.is_empty() {
            for d in individual.doses {
                if d.is_reset() {
                    events.push((d.time, RESET, 0.0, 0.0, Vec::new()));
                    continue;
                }
                let (state, _) = self.dose_target(d.target.as_deref())?;
                if !varying.is_empty() {
                    covariates_at(code, s, varying, d.time);
                }
                let (scale, dscale) = match code.doses.iter().find(|x| x.0 == state) {
                    Some((_, slot, sens)) => (
                        s[*slot as usize],
                        cols.iter().map(|&k| s[sens[k] as usize]).collect(),
                    ),
                    None => (1.0, vec![0.0; p]),
                };
                let damount: Vec<f64> = dscale.iter().map(|x: &f64| d.amount * x).collect();
                let duration = d.duration.filter(|x| *x > 0.0).unwrap_or(0.0);
                events.push((d.time, state, d.amount * scale, duration, damount));
            }
        }
        let stops: Vec<(f64, Vec<f64>)> = code
            .stops
            .iter()
            .map(|(k, sens)| {
                (
                    s[*k as usize],
                    cols.iter().map(|&j| s[sens[j] as usize]).collect(),
                )
            })
            .collect();
        let mut breaks: Vec<f64> = stops.iter().map(|x| x.0).collect();
        let event_spans = events.iter().map(|e| (e.0, e.3));
        let (t0, t_end) = solve_segments(&mut breaks, times, event_spans, varying);
        if !varying.is_empty() {
            covariates_at(code, s, varying, t0);
        }
        let mut z: Vec<f64> = code.init.iter().map(|k| s[*k as usize]).collect();
        for i in 0..n {
            z.extend(
                cols.iter()
                    .map(|&k| s[code.init_sens[i * all + k] as usize]),
            );
        }
        let init = z.clone();
        let mut rates = vec![0.0; n];
        let mut drates = vec![0.0; n * p];
        let mut zs = vec![0.0; times.len() * m];
        let mut solver = Solver::new(m, self.solver.clone());
        let floor = DELTA_FLOOR.min(self.solver.atol / self.solver.rtol);
        let (mut t, mut k, mut bi) = (t0, 0, 0);
        let mut range = (f64::NEG_INFINITY, f64::INFINITY);
        // f + rates just before and just after the stops at a jump
        let (mut f_before, mut f_after) = (vec![0.0; n], vec![0.0; n]);
        loop {
            let jump: Vec<&Vec<f64>> = stops
                .iter()
                .filter(|x| x.0 == t && t > t0)
                .map(|x| &x.1)
                .collect();
            if !jump.is_empty() {
                Augmented::new(code, cols, s, (&rates, &drates), n, range, floor).state_rates(
                    t,
                    &z,
                    range,
                    &mut f_before,
                );
            }
            if !varying.is_empty() {
                covariates_at(code, s, varying, t);
            }
            apply_events(&events, t, &mut z, &mut rates, &mut drates, &init, n, p);
            if !jump.is_empty() {
                let end = breaks.get(bi).copied().unwrap_or(t_end).max(t);
                let after = open_segment(t, end);
                Augmented::new(code, cols, s, (&rates, &drates), n, after, floor).state_rates(
                    t,
                    &z,
                    after,
                    &mut f_after,
                );
                for i in 0..n {
                    let df = f_before[i] - f_after[i];
                    for dtau in &jump {
                        for kk in 0..p {
                            z[n + i * p + kk] += df * dtau[kk];
                        }
                    }
                }
            }
            while k < times.len() && times[k] <= t {
                let row = &mut jac[k * np..(k + 1) * np];
                out[k] =
                    self.output_sens(code, cols, s, outputs[k], times[k], &z, individual, row)?;
                k += 1;
            }
            if bi == breaks.len() || t >= t_end {
                break;
            }
            let next = breaks[bi];
            bi += 1;
            if !varying.is_empty() {
                covariates_at(code, s, varying, 0.5 * (t + next));
            }
            let j = k + times[k..].iter().take_while(|x| **x < next).count();
            range = open_segment(t, next);
            let mut sys = Augmented::new(code, cols, s, (&rates, &drates), n, range, floor);
            let base = k;
            let mut sink = |i: usize, zi: &[f64]| {
                zs[(base + i) * m..(base + i + 1) * m].copy_from_slice(zi);
            };
            solver
                .integrate(&mut sys, t, next, &mut z, &times[k..j], &mut sink)
                .map_err(|e| PredictError::Solve {
                    model: self.name.clone(),
                    time: t,
                    state: String::new(),
                    reason: format!("{e} (sensitivity equations)"),
                })?;
            for i in k..j {
                let zi = zs[i * m..(i + 1) * m].to_vec();
                let row = &mut jac[i * np..(i + 1) * np];
                out[i] =
                    self.output_sens(code, cols, s, outputs[i], times[i], &zi, individual, row)?;
            }
            k = j;
            t = next;
        }
        Ok(*solver.stats())
    }
}

/// Set the time-varying covariates to their values at `t` and run the individual
/// program again (as the prediction does).
fn covariates_at(
    code: &SensitivityCode,
    s: &mut [f64],
    varying: &[(Slot, &[(f64, CovariateValue)])],
    t: f64,
) {
    set_covariates(s, varying, t);
    code.individual.run(s);
}

/// The events at `t` in their order (as the prediction applies them), with their
/// sensitivities: a reset restores (y0, ∂y0/∂θ), a bolus adds amount and ∂amount/∂θ;
/// the infusion rates and their derivatives are those running on [t, next breakpoint).
#[allow(clippy::too_many_arguments)]
fn apply_events(
    events: &[Event],
    t: f64,
    z: &mut [f64],
    rates: &mut [f64],
    drates: &mut [f64],
    init: &[f64],
    n: usize,
    p: usize,
) {
    rates.iter_mut().for_each(|r| *r = 0.0);
    drates.iter_mut().for_each(|r| *r = 0.0);
    for (time, state, amount, duration, damount) in events {
        let (time, state, amount, duration) = (*time, *state, *amount, *duration);
        if state == RESET {
            if time == t {
                z.copy_from_slice(init);
            }
            if time <= t {
                rates.iter_mut().for_each(|r| *r = 0.0);
                drates.iter_mut().for_each(|r| *r = 0.0);
            }
        } else if duration == 0.0 {
            if time == t {
                z[state] += amount;
                for k in 0..p {
                    z[n + state * p + k] += damount[k];
                }
            }
        } else if time <= t && t < time + duration {
            rates[state] += amount / duration;
            for k in 0..p {
                drates[state * p + k] += damount[k] / duration;
            }
        }
    }
}
