//! cartkin's Dopri5 against the `ode_solvers` crate's Dopri5 (issue 10, item 7: keep the
//! dependency that serves best, decided by measurement).
//!
//! Both are Hairer's DOPRI5: the Dormand–Prince 5(4) pair, the PI step control with
//! β = 0.04, the HINIT first step and Shampine's dense output (Hairer, Nørsett & Wanner,
//! *Solving Ordinary Differential Equations I*, 2nd ed., Springer 1993, §II.4–II.6). They
//! run here at the same rtol/atol on the library's non-stiff problems:
//!
//! - `stein_ode`: the `stein2019_ode` model (Stein et al., CPT Pharmacometrics Syst
//!   Pharmacol 2019) written in Rust, a discontinuity at Tmax = 9.3 d, 0–365 d. Exact
//!   solution: the closed form `E = Cmax·e^(−α s)`, `M = F_B·Cmax·(e^(−β s) − e^(−α s))`,
//!   s = t − Tmax (docs/model-language.md shows the model file).
//! - `chain10`: a 10-state linear transit chain y₀' = −k y₀, yᵢ' = k yᵢ₋₁ − k yᵢ, k = 0.5/d,
//!   0–60 d. Exact solution yᵢ(t) = y₀(0)·(kt)ⁱ/i!·e^(−kt).
//! - `cd19_bcell`: the right-hand side of `models/cd19_bcell.model` compiled by cartkin
//!   (`Model::ode_system`), 50e6 cells at t = 0, 0–365 d. Reference:
//!   `models/reference/cd19_bcell.csv` (SciPy Radau, rtol 1e-10; about 1e-7 relative).
//!
//! Outputs are daily. cartkin integrates segment by segment between stops with its dense
//! output at the output times (as `Model::predict` does). `ode_solvers` has no stops: it
//! runs either straight through the discontinuity (`through`) or restarted at Tmax
//! (`restart`, two solver objects); its output at arbitrary times comes from a
//! `ContinuousOutputModel`, which stores every step's coefficients.
//!
//! The bench prints, per problem and tolerance, step attempts, RHS evaluations, the
//! largest error relative to each component's peak, and heap allocations per solve
//! (counted by a global allocator), then times one solve with criterion.
//!
//! Run: `cargo bench -p cartkin-benches --bench ode_solvers -- --measurement-time 3`.

use std::alloc::{GlobalAlloc, Layout, System as SystemAllocator};
use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cartkin::data::Covariates;
use cartkin::model::{Individual, Model, ModelOde, Predict};
use cartkin::solve::{Method, OdeSystem, Solver, SolverOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use ode_solvers::continuous_output_model::ContinuousOutputModel;
use ode_solvers::{DVector, Dopri5, System};

/// Counts heap allocations (and reallocations) of the whole process.
struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { SystemAllocator.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { SystemAllocator.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { SystemAllocator.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Stein 2019 typical values (models/stein2019_ode.model).
struct Stein {
    foldx: f64,
    tmax: f64,
    cmax: f64,
    alpha: f64,
    fb: f64,
    beta: f64,
    /// The open segment the `t < tmax` test sees (as cartkin's `enter_segment`).
    segment: (f64, f64),
}

impl Stein {
    fn typical() -> Stein {
        Stein {
            foldx: 3900.0,
            tmax: 9.3,
            cmax: 24000.0,
            alpha: 0.16,
            fb: 0.0079,
            beta: 0.0032,
            segment: (f64::NEG_INFINITY, f64::INFINITY),
        }
    }

    fn initial_state(&self) -> Vec<f64> {
        vec![self.cmax / self.foldx, 0.0]
    }

    /// The closed form (E, M) at t.
    fn exact(&self, t: f64) -> Vec<f64> {
        if t < self.tmax {
            let rho = self.foldx.ln() / self.tmax;
            vec![self.cmax / self.foldx * (rho * t).exp(), 0.0]
        } else {
            let s = t - self.tmax;
            let (ea, eb) = ((-self.alpha * s).exp(), (-self.beta * s).exp());
            vec![self.cmax * ea, self.fb * self.cmax * (eb - ea)]
        }
    }
}

impl OdeSystem for Stein {
    fn dim(&self) -> usize {
        2
    }

    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        // Inside a segment the branch is decided on the open interval, so a stage
        // evaluated exactly at the segment's end (t = Tmax) keeps the left branch.
        let t_seen = t.clamp(self.segment.0, self.segment.1);
        if t_seen < self.tmax {
            dy[0] = self.foldx.ln() / self.tmax * y[0];
            dy[1] = 0.0;
        } else {
            dy[0] = -self.alpha * y[0];
            dy[1] = self.fb * (self.alpha - self.beta) * y[0] - self.beta * y[1];
        }
    }

    fn enter_segment(&mut self, start: f64, end: f64) {
        let width = end - start;
        self.segment = (start + 1e-12 * width, end - 1e-12 * width);
    }
}

/// A linear transit chain of `CHAIN` compartments with one rate.
struct Chain {
    k: f64,
}

const CHAIN: usize = 10;

impl Chain {
    fn exact(&self, t: f64) -> Vec<f64> {
        let mut term = 100.0 * (-self.k * t).exp();
        (0..CHAIN)
            .map(|i| {
                if i > 0 {
                    term *= self.k * t / i as f64;
                }
                term
            })
            .collect()
    }
}

impl OdeSystem for Chain {
    fn dim(&self) -> usize {
        CHAIN
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
        dy[0] = -self.k * y[0];
        for i in 1..CHAIN {
            dy[i] = self.k * (y[i - 1] - y[i]);
        }
    }
}

/// One problem: a system, its initial state, its breakpoints (t0, the stops inside,
/// t_end), the output times and the reference values at them (one row per output time).
struct Problem<S> {
    name: &'static str,
    system: S,
    y0: Vec<f64>,
    bounds: Vec<f64>,
    times: Vec<f64>,
    /// What the reference holds, computed from a state vector.
    observe: fn(&[f64]) -> Vec<f64>,
    reference: Vec<Vec<f64>>,
}

/// Work of one solve.
#[derive(Default)]
struct Outcome {
    steps: usize,
    rhs_evals: usize,
    allocations: usize,
}

/// cartkin: one `integrate` call per smooth segment, outputs by dense output. The
/// solver is built once (as the library pools it); `values` is filled in place.
fn solve_cartkin<S: OdeSystem>(
    p: &mut Problem<S>,
    solver: &mut Solver,
    y: &mut Vec<f64>,
    values: &mut [Vec<f64>],
) {
    y.clone_from(&p.y0);
    let mut first = 0;
    for w in p.bounds.windows(2) {
        let (a, b) = (w[0], w[1]);
        // outputs in (a, b], and the output at t0 in the first segment
        let last = first + p.times[first..].partition_point(|&t| t <= b);
        let outputs = &p.times[first..last];
        solver
            .integrate(&mut p.system, a, b, y, outputs, &mut |i, v| {
                values[first + i].copy_from_slice(v)
            })
            .expect("cartkin Dopri5 solves the benchmark problem");
        first = last;
    }
}

/// `ode_solvers` needs `&self` in the right-hand side: the system sits in a `RefCell`,
/// with an evaluation counter.
struct Shared<'a, S> {
    system: RefCell<&'a mut S>,
    evals: &'a Cell<usize>,
}

impl<S: OdeSystem> System<f64, DVector<f64>> for Shared<'_, S> {
    fn system(&self, t: f64, y: &DVector<f64>, dy: &mut DVector<f64>) {
        self.evals.set(self.evals.get() + 1);
        self.system
            .borrow_mut()
            .rhs(t, y.as_slice(), dy.as_mut_slice());
    }
}

/// `ode_solvers`: one solver object per segment (`restart`) or one for the whole range
/// (`through`, the discontinuity left to step-size control); outputs evaluated from the
/// continuous output model of each segment.
fn solve_ode_solvers<S: OdeSystem>(
    p: &mut Problem<S>,
    rtol: f64,
    atol: f64,
    restart: bool,
    values: &mut [Vec<f64>],
) -> Outcome {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let ends = [p.bounds[0], p.bounds[p.bounds.len() - 1]];
    let bounds: &[f64] = if restart { &p.bounds } else { &ends };
    let mut out = Outcome::default();
    let mut y = DVector::from_column_slice(&p.y0);
    let evals = Cell::new(0);
    let mut first = 0;
    for w in bounds.windows(2) {
        let (a, b) = (w[0], w[1]);
        p.system.enter_segment(a, b);
        let shared = Shared {
            system: RefCell::new(&mut p.system),
            evals: &evals,
        };
        let mut stepper = Dopri5::new(shared, a, b, b - a, y.clone(), rtol, atol);
        let mut dense = ContinuousOutputModel::default();
        let stats = stepper
            .integrate_with_continuous_output_model(&mut dense)
            .expect("ode_solvers Dopri5 solves the benchmark problem");
        out.steps += (stats.accepted_steps + stats.rejected_steps) as usize;
        let last = first + p.times[first..].partition_point(|&t| t <= b);
        for (&t, value) in p.times[first..last].iter().zip(&mut values[first..last]) {
            let v = dense
                .evaluate(t)
                .expect("output time inside the solved range");
            value.copy_from_slice(v.as_slice());
        }
        first = last;
        y = stepper.y_out().last().expect("at least one step").clone();
    }
    out.rhs_evals = evals.get();
    out.allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    out
}

/// The largest |observed − reference| over all output times, relative to each
/// component's peak |reference|, maximised over components.
fn peak_relative_error<S>(p: &Problem<S>, values: &[Vec<f64>]) -> f64 {
    let observed: Vec<Vec<f64>> = values.iter().map(|v| (p.observe)(v)).collect();
    let dim = p.reference[0].len();
    (0..dim)
        .map(|j| {
            let peak = p.reference.iter().map(|r| r[j].abs()).fold(0.0, f64::max);
            observed
                .iter()
                .zip(&p.reference)
                .map(|(v, r)| (v[j] - r[j]).abs() / peak)
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max)
}

fn daily(days: u32) -> Vec<f64> {
    (0..=days).map(f64::from).collect()
}

fn stein_problem() -> Problem<Stein> {
    let system = Stein::typical();
    let times = daily(365);
    let reference = times.iter().map(|&t| system.exact(t)).collect();
    Problem {
        name: "stein_ode",
        y0: system.initial_state(),
        bounds: vec![0.0, system.tmax, 365.0],
        times,
        observe: |y| y.to_vec(),
        reference,
        system,
    }
}

fn chain_problem() -> Problem<Chain> {
    let system = Chain { k: 0.5 };
    let times = daily(60);
    let reference = times.iter().map(|&t| system.exact(t)).collect();
    Problem {
        name: "chain10",
        y0: system.exact(0.0),
        bounds: vec![0.0, 60.0],
        times,
        observe: |y| y.to_vec(),
        reference,
        system,
    }
}

/// cd19_bcell through cartkin's compiled model file, 50e6 cells at t = 0 (the bolus
/// `dose E scale f_blood / V_blood_uL` applied to the initial state).
fn cd19_problem() -> Problem<ModelOde> {
    let root = cartkin_benches::root();
    let model = Model::load("cd19_bcell")
        .or_else(|_| Model::from_file(&root.join("models/cd19_bcell.model")))
        .expect("cd19_bcell model");
    let theta = model.typical();
    let covariates = Covariates::default();
    let individual = Individual {
        doses: &[],
        covariates: &covariates,
    };
    let system = model
        .ode_system(&theta, &individual)
        .expect("cd19_bcell ODE system");
    let p = |n: &str| theta[model.parameter_index(n).expect(n)];
    let mut y0 = system.initial_state();
    y0[0] += 50e6 * p("f_blood") / p("V_blood_uL");

    // reference outputs at whole days: cart_cells = E + M, then one state each
    let csv = std::fs::read_to_string(root.join("models/reference/cd19_bcell.csv"))
        .expect("models/reference/cd19_bcell.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let columns: Vec<usize> = [
        "cart_cells",
        "naive_b",
        "memory_b",
        "plasmablast",
        "plasma_cell",
        "igg",
        "igm",
        "iga",
        "anti_dsdna",
    ]
    .iter()
    .map(|c| {
        header
            .iter()
            .position(|h| h == c)
            .expect("reference column")
    })
    .collect();
    let (mut times, mut reference) = (Vec::new(), Vec::new());
    for line in lines {
        let row: Vec<f64> = line
            .split(',')
            .map(|x| x.parse().expect("reference number"))
            .collect();
        if row[0] == row[0].round() {
            times.push(row[0]);
            reference.push(columns.iter().map(|&c| row[c]).collect());
        }
    }
    assert_eq!(times, daily(365), "the reference holds every day 0..=365");
    Problem {
        name: "cd19_bcell",
        system,
        y0,
        bounds: vec![0.0, 365.0],
        times,
        observe: |y| {
            let mut o = vec![y[0] + y[1]];
            o.extend_from_slice(&y[2..10]);
            o
        },
        reference,
    }
}

fn options(rtol: f64, atol: f64) -> SolverOptions {
    SolverOptions {
        method: Method::Dopri5,
        rtol,
        atol,
        ..SolverOptions::default()
    }
}

/// Print the work table of a problem and time its solves.
fn compare<S: OdeSystem>(c: &mut Criterion, p: &mut Problem<S>, tolerances: &[(f64, f64)]) {
    let restarts: &[bool] = if p.bounds.len() > 2 {
        &[false, true]
    } else {
        &[true]
    };
    for &(rtol, atol) in tolerances {
        let mut solver = Solver::new(p.y0.len(), options(rtol, atol));
        let mut y = p.y0.clone();
        let mut values = vec![vec![0.0; p.y0.len()]; p.times.len()];
        solve_cartkin(p, &mut solver, &mut y, &mut values); // warm the workspace
        solver.reset_stats();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        solve_cartkin(p, &mut solver, &mut y, &mut values);
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        let stats = *solver.stats();
        eprintln!(
            "| {} | {rtol:e} / {atol:e} | cartkin Dopri5 (stops) | {} | {} | {:.2e} | {} |",
            p.name,
            stats.steps,
            stats.rhs_evals,
            peak_relative_error(p, &values),
            allocations
        );
        for &restart in restarts {
            let out = solve_ode_solvers(p, rtol, atol, restart, &mut values);
            let how = if restart { "restart" } else { "through" };
            eprintln!(
                "| {} | {rtol:e} / {atol:e} | ode_solvers Dopri5 ({how}) | {} | {} | {:.2e} | {} |",
                p.name,
                out.steps,
                out.rhs_evals,
                peak_relative_error(p, &values),
                out.allocations
            );
        }

        let mut g = c.benchmark_group(format!("{}/rtol{rtol:e}", p.name));
        g.bench_function("cartkin", |b| {
            b.iter(|| {
                solve_cartkin(p, &mut solver, &mut y, &mut values);
                black_box(&values);
            })
        });
        for &restart in restarts {
            let how = if restart { "restart" } else { "through" };
            g.bench_function(format!("ode_solvers_{how}"), |b| {
                b.iter(|| {
                    black_box(solve_ode_solvers(p, rtol, atol, restart, &mut values));
                })
            });
        }
        g.finish();
    }
}

fn bench(c: &mut Criterion) {
    eprintln!(
        "| problem | rtol / atol | solver | step attempts | RHS evaluations \
         | max error / peak | allocations per solve |"
    );
    eprintln!("|---|---|---|---|---|---|---|");
    compare(c, &mut stein_problem(), &[(1e-6, 1e-9), (1e-9, 1e-9)]);
    compare(c, &mut chain_problem(), &[(1e-6, 1e-9), (1e-9, 1e-12)]);
    compare(c, &mut cd19_problem(), &[(1e-6, 1e-9), (1e-8, 1e-10)]);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
