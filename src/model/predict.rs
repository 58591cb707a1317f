//! Prediction: [`Predict`] for [`Model`].
//!
//! For one individual: parameters and covariates go into the slot array and the
//! individual program runs once. A closed-form model then evaluates each requested
//! output at its time. An ODE model starts at t0 = min(0, first dose, first requested
//! time) from its initial states and integrates segment by segment between the
//! breakpoints — declared `stop` times, dose times, infusion ends — applying boluses
//! (`amount · scale` added to the target state) at the start of the segment they open
//! and infusions as a constant rate `amount · scale / duration` while they run. An output
//! requested at a breakpoint sees the state after the events there. Inside a segment
//! [a, b] every comparison that mentions `t` directly (`t < tmax`, not a `let` of t) sees
//! t clamped into the open interval (a, b), so an `if(t < tmax, …)` keeps its left-hand
//! branch at b = tmax (enter_segment).
//!
//! Doses: a dose record's target is a state name, a compartment number declared with
//! `dose STATE cmt N`, or else the N-th state in declaration order; no target means the
//! first `dose` line. A reset ([`Dose::is_reset`], NONMEM EVID 3 and 4) puts the states
//! back to their initial values and stops the infusions given before it.
//!
//! Time-varying covariates: every change of a covariate the model declares is a
//! breakpoint; inside a segment the covariates hold their value at the segment's
//! midpoint, at a breakpoint their value at that time, and the individual program runs
//! again with them (so lets of covariates, e.g. `CL = TVCL·(WT/70)^0.75`, follow the
//! change). A dose's scale uses the covariates at the dose's time. A subject without a
//! change costs nothing more.
//!
//! `tad` and `last_dose` (outputs and closed forms): the time since, and the amount of,
//! the most recent dose at or before t (doses at the same time add up; infusions count
//! from their start); both are 0 before the first dose and after a reset.

use super::compile::{Code, Routine, LAST_DOSE_SLOT, TAD_SLOT, TC_SLOT, T_SLOT};
use super::model::Model;
use super::spec::{Individual, Output, Parameter, Predict, PredictError};
use super::vm::Slot;
use super::workspace::Workspace;
use crate::data::{step_at, CovariateValue, Dose, TimeUnit};
use crate::solve::{OdeSystem, SolveError, SolveStats, Solver};

/// The state index of a reset event.
const RESET: usize = usize::MAX;

/// `tad` and `last_dose` at time t: time since, and amount of, the most recent dose at
/// or before t (doses at one time add up); (0, 0) before any dose and after a reset.
pub(crate) fn dose_context(doses: &[Dose], t: f64) -> (f64, f64) {
    let mut last: Option<(f64, f64)> = None;
    for d in doses.iter().take_while(|d| d.time <= t) {
        last = if d.is_reset() {
            None
        } else {
            match last {
                Some((time, amount)) if time == d.time => Some((time, amount + d.amount)),
                _ => Some((d.time, d.amount)),
            }
        };
    }
    last.map_or((0.0, 0.0), |(time, amount)| (t - time, amount))
}

/// The time-varying numeric covariates of an individual that the model declares: the
/// slot and the steps of each.
fn varying_covariates<'a>(
    code: &Code,
    individual: &Individual<'a>,
) -> Vec<(Slot, &'a [(f64, CovariateValue)])> {
    code.covariates
        .iter()
        .filter_map(|(name, _, slot)| {
            individual
                .covariates
                .varying
                .get(&name.to_ascii_uppercase())
                .map(|steps| (*slot, steps.as_slice()))
        })
        .collect()
}

/// The ODE system seen by the solver.
struct System<'a> {
    code: &'a Code,
    slots: &'a mut [f64],
    rates: &'a [f64],
    first_state: usize,
    lo: f64,
    hi: f64,
}

impl OdeSystem for System<'_> {
    fn dim(&self) -> usize {
        self.code.state_slots.len()
    }

    #[inline]
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        eval_rhs(
            self.code,
            self.slots,
            self.rates,
            self.first_state,
            (self.lo, self.hi),
            t,
            y,
            dy,
        );
    }

    fn enter_segment(&mut self, start: f64, end: f64) {
        (self.lo, self.hi) = open_segment(start, end);
    }

    fn is_linear(&self) -> bool {
        self.code.linear
    }

    fn jacobian(&mut self, t: f64, y: &[f64], jac: &mut [f64]) -> bool {
        eval_jacobian(
            self.code,
            self.slots,
            self.first_state,
            (self.lo, self.hi),
            t,
            y,
            jac,
        )
    }
}

/// The exact Jacobian ∂f/∂y (row-major) from the compiled derivative program; `false`
/// for a model without one.
fn eval_jacobian(
    code: &Code,
    slots: &mut [f64],
    first_state: usize,
    (lo, hi): (f64, f64),
    t: f64,
    y: &[f64],
    jac: &mut [f64],
) -> bool {
    let Some(routine) = &code.jacobian else {
        return false;
    };
    slots[T_SLOT] = t;
    slots[TC_SLOT] = t.max(lo).min(hi);
    slots[first_state..first_state + y.len()].copy_from_slice(y);
    routine.run(slots);
    for (j, s) in jac.iter_mut().zip(&code.jacobian_slots) {
        *j = slots[*s as usize];
    }
    true
}

/// The right-hand side: write t and the states into the slots, run the program, read
/// the derivatives (plus infusion rates).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn eval_rhs(
    code: &Code,
    slots: &mut [f64],
    rates: &[f64],
    first_state: usize,
    (lo, hi): (f64, f64),
    t: f64,
    y: &[f64],
    dy: &mut [f64],
) {
    slots[T_SLOT] = t;
    slots[TC_SLOT] = t.max(lo).min(hi);
    slots[first_state..first_state + y.len()].copy_from_slice(y);
    code.rhs.run(slots);
    for ((d, s), r) in dy.iter_mut().zip(&code.deriv_slots).zip(rates) {
        *d = slots[*s as usize] + r;
    }
}

/// The range comparisons see t in, for the segment [start, end]: the open interval.
pub(super) fn open_segment(start: f64, end: f64) -> (f64, f64) {
    let lo = next_up(start).min(end);
    (lo, next_down(end).max(lo))
}

/// The ODE system of a model for one individual (parameters and covariates applied),
/// for tests, benchmarks and external solvers. Doses are not applied: the initial state
/// is the model's `state` values.
#[derive(Debug, Clone)]
pub struct ModelOde {
    code: std::sync::Arc<Code>,
    slots: Vec<f64>,
    rates: Vec<f64>,
    first_state: usize,
    range: (f64, f64),
}

impl ModelOde {
    /// The initial state.
    pub fn initial_state(&self) -> Vec<f64> {
        self.code
            .init_slots
            .iter()
            .map(|k| self.slots[*k as usize])
            .collect()
    }
}

impl OdeSystem for ModelOde {
    fn dim(&self) -> usize {
        self.code.state_slots.len()
    }

    #[inline]
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        eval_rhs(
            &self.code,
            &mut self.slots,
            &self.rates,
            self.first_state,
            self.range,
            t,
            y,
            dy,
        );
    }

    fn enter_segment(&mut self, start: f64, end: f64) {
        self.range = open_segment(start, end);
    }

    fn is_linear(&self) -> bool {
        self.code.linear
    }

    fn jacobian(&mut self, t: f64, y: &[f64], jac: &mut [f64]) -> bool {
        eval_jacobian(
            &self.code,
            &mut self.slots,
            self.first_state,
            self.range,
            t,
            y,
            jac,
        )
    }
}

impl ModelOde {
    /// The same system without its exact Jacobian: the stiff solver falls back to finite
    /// differences (for comparisons).
    #[doc(hidden)]
    pub fn without_jacobian(mut self) -> ModelOde {
        let mut code = (*self.code).clone();
        code.jacobian = None;
        self.code = std::sync::Arc::new(code);
        self
    }
}

/// The ends of the smooth segments of a solve over (t0, t_end], from the candidate
/// `breaks` (stops, dose times, infusion ends, covariate changes): those inside, sorted,
/// with breaks one representable time apart merged, and t_end last. Shared by the
/// solve of the states and of the sensitivities, so both stop at the same times.
pub(super) fn segment_ends(breaks: &mut Vec<f64>, t0: f64, t_end: f64) {
    breaks.retain(|b| *b > t0 && *b < t_end);
    breaks.push(t_end);
    breaks.sort_by(f64::total_cmp);
    // a change one representable time after a breakpoint (a NOCB step) happens at it
    let mut previous = t0;
    breaks.retain(|b| {
        let keep = *b > next_up(previous);
        if keep {
            previous = *b;
        }
        keep
    });
    if breaks.last() != Some(&t_end) && t_end > t0 {
        breaks.push(t_end);
    }
}

/// The span of a solve and the ends of its smooth segments: t0 is the earliest of time
/// 0, the first output time and the first event, t_end the last output time (t0 when
/// none is later); `breaks`, holding the stops, receives the event times, the infusion
/// ends and the covariate changes and is reduced by [`segment_ends`]. `events` gives
/// the (time, duration) of each event. Returns (t0, t_end).
pub(super) fn solve_segments(
    breaks: &mut Vec<f64>,
    times: &[f64],
    events: impl Iterator<Item = (f64, f64)> + Clone,
    varying: &[(Slot, &[(f64, CovariateValue)])],
) -> (f64, f64) {
    let t_first = times.first().copied().unwrap_or(0.0);
    let t0 = events.clone().map(|e| e.0).fold(t_first.min(0.0), f64::min);
    let t_end = times.last().copied().unwrap_or(t0).max(t0);
    breaks.extend(events.clone().map(|e| e.0));
    breaks.extend(events.filter(|e| e.1 > 0.0).map(|e| e.0 + e.1));
    for (_, steps) in varying {
        breaks.extend(steps.iter().skip(1).map(|s| s.0));
    }
    segment_ends(breaks, t0, t_end);
    (t0, t_end)
}

/// The next representable f64 above a finite x.
pub(super) fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let b = x.to_bits();
    f64::from_bits(if x > 0.0 { b + 1 } else { b - 1 })
}

/// The next representable f64 below a finite x.
fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

impl Predict for Model {
    fn name(&self) -> &str {
        &self.name
    }

    fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    fn omega_blocks(&self) -> &[Vec<String>] {
        &self.omega_blocks
    }

    fn outputs(&self) -> &[Output] {
        &self.outputs
    }

    fn predict(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        self.predict_with_stats(theta, individual, times, outputs, out)
            .map(|_| ())
    }

    fn predict_jacobian(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), PredictError> {
        self.predict_sensitivities(theta, individual, times, outputs, None, out, jac)
            .map(|_| ())
    }

    fn predict_jacobian_of(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        wanted: &[usize],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), PredictError> {
        self.predict_sensitivities(theta, individual, times, outputs, Some(wanted), out, jac)
            .map(|_| ())
    }

    fn exact_jacobian(&self) -> bool {
        true
    }

    fn time_unit(&self) -> TimeUnit {
        self.time_unit
    }
}

impl Model {
    /// [`Predict::predict`], also returning the solver's work counters (all zero for a
    /// closed-form model).
    pub fn predict_with_stats(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
    ) -> Result<SolveStats, PredictError> {
        self.check_call(theta, times, outputs, out)?;
        if self.states.is_empty() {
            // A closed-form model needs only the slot array: a thread-local one, so a
            // call costs no lock (prediction throughput is the point of a closed form).
            thread_local! {
                static SLOTS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
            }
            return SLOTS.with(|c| match c.try_borrow_mut() {
                Ok(mut s) => self.closed_form(&mut s, theta, individual, times, outputs, out),
                Err(_) => self.closed_form(&mut Vec::new(), theta, individual, times, outputs, out),
            });
        }
        let mut ws = self
            .pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        let result = self.run(&mut ws, theta, individual, times, outputs, out);
        if let Ok(mut p) = self.pool.lock() {
            p.push(ws);
        }
        // (a failed solve's work is in the solver too, but not returned: counted only
        // when the prediction succeeds)
        if let (Ok(stats), Ok(mut totals)) = (&result, self.solver_totals.lock()) {
            totals.add(stats);
        }
        result
    }

    pub(super) fn input_error(&self, message: String) -> PredictError {
        PredictError::Input {
            model: self.name.clone(),
            message,
        }
    }

    pub(super) fn check_call(
        &self,
        theta: &[f64],
        times: &[f64],
        outputs: &[usize],
        out: &[f64],
    ) -> Result<(), PredictError> {
        if theta.len() != self.parameters.len() {
            return Err(self.input_error(format!(
                "{} parameter values given, the model has {}",
                theta.len(),
                self.parameters.len()
            )));
        }
        if times.len() != outputs.len() || times.len() != out.len() {
            return Err(self.input_error(format!(
                "times, outputs and out differ in length ({}, {}, {})",
                times.len(),
                outputs.len(),
                out.len()
            )));
        }
        if let Some(o) = outputs.iter().find(|o| **o >= self.outputs.len()) {
            return Err(self.input_error(format!(
                "output index {o}: the model has {} outputs",
                self.outputs.len()
            )));
        }
        if let Some(w) = times.windows(2).find(|w| w[0] > w[1]) {
            return Err(self.input_error(format!(
                "requested times must be sorted, found {} before {}",
                w[0], w[1]
            )));
        }
        if let Some(t) = times.iter().find(|t| !t.is_finite()) {
            return Err(self.input_error(format!("requested time {t} is not finite")));
        }
        Ok(())
    }

    fn run(
        &self,
        ws: &mut Workspace,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
    ) -> Result<SolveStats, PredictError> {
        let s = &mut ws.slots;
        self.individual_values(s, theta, individual)?;
        let varying = varying_covariates(&self.code, individual);
        self.solve(ws, individual, &varying, times, outputs, out)
    }

    /// A closed-form model: the individual values once, then each output at its time.
    fn closed_form(
        &self,
        s: &mut Vec<f64>,
        theta: &[f64],
        individual: &Individual<'_>,
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
    ) -> Result<SolveStats, PredictError> {
        self.individual_values(s, theta, individual)?;
        let code = &*self.code;
        let varying = varying_covariates(code, individual);
        for ((t, o), v) in times.iter().zip(outputs).zip(out.iter_mut()) {
            if !varying.is_empty() {
                self.covariates_at(s, &varying, *t)?;
            }
            s[T_SLOT] = *t;
            s[TC_SLOT] = *t;
            (s[TAD_SLOT], s[LAST_DOSE_SLOT]) = dose_context(individual.doses, *t);
            let (prog, slot) = &code.outputs[*o];
            prog.run(s);
            *v = s[*slot as usize];
            if !v.is_finite() {
                return Err(self.non_finite(prog, s, *t));
            }
        }
        Ok(SolveStats::default())
    }

    /// The compiled right-hand side, one instruction per line (for inspection and
    /// tests that pin its length).
    #[doc(hidden)]
    pub fn rhs_listing(&self) -> Vec<String> {
        self.code
            .rhs
            .program()
            .code()
            .iter()
            .map(|i| format!("{i:?}"))
            .collect()
    }

    /// A copy of the model whose programs run in the interpreter (the reference the
    /// native code is tested against).
    #[doc(hidden)]
    pub fn interpreted(&self) -> Model {
        let mut m = self.clone();
        m.code = std::sync::Arc::new(self.code.interpreted());
        m.sensitivity = std::sync::Arc::new(std::sync::OnceLock::new());
        m
    }

    /// Whether the model's right-hand side and outputs run as native code.
    #[doc(hidden)]
    pub fn is_native(&self) -> bool {
        self.code.is_native()
    }

    /// The ODE system for one individual with parameters `theta` (natural scale).
    pub fn ode_system(
        &self,
        theta: &[f64],
        individual: &Individual<'_>,
    ) -> Result<ModelOde, PredictError> {
        self.check_call(theta, &[], &[], &[])?;
        let mut slots = Vec::new();
        self.individual_values(&mut slots, theta, individual)?;
        Ok(ModelOde {
            code: std::sync::Arc::clone(&self.code),
            slots,
            rates: vec![0.0; self.states.len()],
            first_state: self.code.state_slots.first().map_or(0, |s| *s as usize),
            range: (f64::NEG_INFINITY, f64::INFINITY),
        })
    }

    /// Fill the slots for one individual: literals, parameters, covariates (their value
    /// at t = 0, else the declared default), then the individual program.
    fn individual_values(
        &self,
        s: &mut Vec<f64>,
        theta: &[f64],
        individual: &Individual<'_>,
    ) -> Result<(), PredictError> {
        let code = &*self.code;
        s.clear();
        s.extend_from_slice(&code.template);
        for (x, slot) in theta.iter().zip(&code.param_slots) {
            s[*slot as usize] = *x;
        }
        for (name, default, slot) in &code.covariates {
            s[*slot as usize] = individual.covariates.numeric(name, 0.0).unwrap_or(*default);
        }
        code.individual.run(s);
        let used = code
            .init_slots
            .iter()
            .chain(&code.stop_slots)
            .chain(code.doses.iter().map(|d| &d.1));
        if used.into_iter().any(|k| !s[*k as usize].is_finite()) {
            return Err(self.non_finite(&code.individual, s, 0.0));
        }
        Ok(())
    }

    /// Set the time-varying covariates to their values at `t` and run the individual
    /// program again.
    fn covariates_at(
        &self,
        s: &mut [f64],
        varying: &[(Slot, &[(f64, CovariateValue)])],
        t: f64,
    ) -> Result<(), PredictError> {
        set_covariates(s, varying, t);
        self.code.individual.run(s);
        if self.code.doses.iter().any(|d| !s[d.1 as usize].is_finite()) {
            return Err(self.non_finite(&self.code.individual, s, t));
        }
        Ok(())
    }

    /// Evaluate output `o` at time `t` with states `y` (ignored when empty) after the
    /// doses `doses`.
    fn output(
        &self,
        s: &mut [f64],
        o: usize,
        t: f64,
        y: &[f64],
        doses: &[Dose],
    ) -> Result<f64, PredictError> {
        let code = &*self.code;
        s[T_SLOT] = t;
        s[TC_SLOT] = t;
        (s[TAD_SLOT], s[LAST_DOSE_SLOT]) = dose_context(doses, t);
        if let Some(first) = code.state_slots.first() {
            let f = *first as usize;
            s[f..f + y.len()].copy_from_slice(y);
        }
        let (prog, slot) = &code.outputs[o];
        prog.run(s);
        let v = s[*slot as usize];
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.non_finite(prog, s, t))
        }
    }

    /// The first named quantity of `prog` (in evaluation order) that is not finite.
    #[cold]
    fn non_finite(&self, prog: &Routine, s: &[f64], t: f64) -> PredictError {
        let name_of = |slot: Slot| {
            self.code
                .names
                .iter()
                .find(|(k, _)| *k == slot)
                .map(|(_, n)| n.clone())
        };
        let mut what = None;
        for (i, slot) in self.code.param_slots.iter().enumerate() {
            if !s[*slot as usize].is_finite() {
                what = Some(format!("parameter `{}`", self.parameters[i].name));
                break;
            }
        }
        if what.is_none() {
            what = prog
                .program()
                .results()
                .into_iter()
                .filter(|d| !s[*d as usize].is_finite())
                .find_map(name_of);
        }
        PredictError::NonFinite {
            model: self.name.clone(),
            what: what.unwrap_or_else(|| "a value".into()),
            time: t,
        }
    }

    fn solve(
        &self,
        ws: &mut Workspace,
        individual: &Individual<'_>,
        varying: &[(Slot, &[(f64, CovariateValue)])],
        times: &[f64],
        outputs: &[usize],
        out: &mut [f64],
    ) -> Result<SolveStats, PredictError> {
        let code = &*self.code;
        let n = self.states.len();
        let Workspace {
            slots,
            solver,
            y,
            ys,
            rates,
            breaks,
            events,
            init,
        } = ws;
        let doses = individual.doses;
        // doses → events
        events.clear();
        if !code.doses.is_empty() {
            for d in doses {
                if d.is_reset() {
                    events.push((d.time, RESET, 0.0, 0.0));
                    continue;
                }
                let (state, scale) = self.dose_target(d.target.as_deref())?;
                if !varying.is_empty() {
                    self.covariates_at(slots, varying, d.time)?;
                }
                let amount = d.amount * slots[scale as usize];
                let duration = d.duration.filter(|x| *x > 0.0).unwrap_or(0.0);
                events.push((d.time, state, amount, duration));
            }
        }
        breaks.clear();
        breaks.extend(code.stop_slots.iter().map(|k| slots[*k as usize]));
        let event_spans = events.iter().map(|e| (e.0, e.3));
        let (t0, t_end) = solve_segments(breaks, times, event_spans, varying);
        if !varying.is_empty() {
            self.covariates_at(slots, varying, t0)?;
        }
        y.clear();
        y.extend(code.init_slots.iter().map(|k| slots[*k as usize]));
        init.clear();
        init.extend_from_slice(y);
        rates.clear();
        rates.resize(n, 0.0);
        ys.clear();
        ys.resize(times.len() * n, 0.0);
        let solver = solver.get_or_insert_with(|| Solver::new(n, self.solver.clone()));
        solver.reset_stats();
        let first_state = code.state_slots[0] as usize;
        let mut t = t0;
        let mut k = 0;
        let mut bi = 0;
        loop {
            if !varying.is_empty() {
                self.covariates_at(slots, varying, t)?;
            }
            apply_events(events, t, y, rates, init);
            while k < times.len() && times[k] <= t {
                out[k] = self.output(slots, outputs[k], times[k], y, doses)?;
                k += 1;
            }
            if bi == breaks.len() || t >= t_end {
                break;
            }
            let next = breaks[bi];
            bi += 1;
            if !varying.is_empty() {
                self.covariates_at(slots, varying, 0.5 * (t + next))?;
            }
            let j = k + times[k..].iter().take_while(|x| **x < next).count();
            let mut sys = System {
                code,
                slots,
                rates,
                first_state,
                lo: t,
                hi: next,
            };
            let base = k;
            let mut sink = |i: usize, yi: &[f64]| {
                ys[(base + i) * n..(base + i + 1) * n].copy_from_slice(yi);
            };
            let r = solver.integrate(&mut sys, t, next, y, &times[k..j], &mut sink);
            if let Err(e) = r {
                return Err(self.solve_error(e, slots));
            }
            for i in k..j {
                let yi = &ys[i * n..(i + 1) * n];
                out[i] = self.output(slots, outputs[i], times[i], yi, doses)?;
            }
            k = j;
            t = next;
        }
        Ok(*solver.stats())
    }

    /// State index and scale slot of a dose record's target.
    pub(super) fn dose_target(&self, target: Option<&str>) -> Result<(usize, Slot), PredictError> {
        let code = &*self.code;
        let Some(name) = target.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(code.doses[0]);
        };
        let by_cmt = name
            .parse::<i64>()
            .ok()
            .and_then(|c| code.dose_cmts.iter().find(|d| d.0 == c).map(|d| d.1));
        let state = match (by_cmt, name.parse::<usize>()) {
            (Some(i), _) => Some(i),
            (None, Ok(c)) if c >= 1 && c <= self.states.len() => Some(c - 1),
            _ => self
                .states
                .iter()
                .position(|s| s.eq_ignore_ascii_case(name)),
        };
        let Some(state) = state else {
            return Err(self.input_error(format!(
                "dose target `{name}` is neither a state ({}) nor a state number 1..{}",
                self.states.join(", "),
                self.states.len()
            )));
        };
        Ok(code
            .doses
            .iter()
            .find(|d| d.0 == state)
            .copied()
            .unwrap_or((state, code.unit_slot)))
    }

    fn solve_error(&self, e: SolveError, s: &[f64]) -> PredictError {
        let code = &*self.code;
        let (time, state) = match &e {
            SolveError::NonFinite { time, state } => {
                let err = self.non_finite(&code.rhs, s, *time);
                if !matches!(&err, PredictError::NonFinite { what, .. } if what == "a value") {
                    return err;
                }
                (*time, *state)
            }
            SolveError::StepSizeTooSmall { time, .. } | SolveError::TooManySteps { time, .. } => {
                // the state changing fastest relative to its size at the last evaluation
                let rel = |i: usize| {
                    let y = s[code.state_slots[i] as usize];
                    let d = s[code.deriv_slots[i] as usize];
                    d.abs() / (y.abs() + 1e-300)
                };
                let worst = (0..self.states.len())
                    .max_by(|a, b| rel(*a).total_cmp(&rel(*b)))
                    .unwrap_or(0);
                (*time, worst)
            }
            SolveError::InvalidInput { .. } => (f64::NAN, 0),
        };
        PredictError::Solve {
            model: self.name.clone(),
            time,
            state: self.states.get(state).cloned().unwrap_or_default(),
            reason: e.to_string(),
        }
    }
}

/// Apply the events at time `t` in their order: a reset puts the states back to `init`,
/// boluses add to their state; infusion rates are recomputed from all infusions running
/// on [t, next breakpoint) and given after the last reset.
fn apply_events(
    events: &[(f64, usize, f64, f64)],
    t: f64,
    y: &mut [f64],
    rates: &mut [f64],
    init: &[f64],
) {
    rates.iter_mut().for_each(|r| *r = 0.0);
    // events are in time order: zeroing the rates at a reset drops the infusions before it
    for &(time, state, amount, duration) in events {
        if state == RESET {
            if time == t {
                y.copy_from_slice(init);
            }
            if time <= t {
                // infusions before a reset have stopped
                rates.iter_mut().for_each(|r| *r = 0.0);
            }
        } else if duration == 0.0 {
            if time == t {
                y[state] += amount;
            }
        } else if time <= t && t < time + duration {
            rates[state] += amount / duration;
        }
    }
}

/// Set the slots of the time-varying covariates to their numeric values at `t`.
pub(crate) fn set_covariates(s: &mut [f64], varying: &[(Slot, &[(f64, CovariateValue)])], t: f64) {
    for (slot, steps) in varying {
        if let Some(CovariateValue::Numeric(x)) = step_at(steps, t) {
            s[*slot as usize] = *x;
        }
    }
}
