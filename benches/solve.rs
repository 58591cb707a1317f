//! Solver benchmark: Dopri5 and Rodas4 on a 10-state linear-plus-saturating system over
//! 365 days with 366 daily outputs (the shape of a cartkin model solve).
//!
//! The system is a transit chain with first-order transfer, first-order loss and a
//! saturable (Michaelis–Menten) elimination in every compartment:
//!
//! ```text
//! y_0' = −(k_0 + λ_0) y_0 − V_0 y_0 / (K + y_0)
//! y_i' = k_{i−1} y_{i−1} − (k_i + λ_i) y_i − V_i y_i / (K + y_i),   i = 1..9
//! ```
//!
//! with rates between 0.05 and 2 per day (mildly stiff), y_0(0) = 1000.

use cartkin::solve::{Method, OdeSystem, Solver, SolverOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const N: usize = 10;

struct Chain {
    k: [f64; N],
    loss: [f64; N],
    vmax: [f64; N],
    km: f64,
}

impl Chain {
    fn new() -> Self {
        let mut k = [0.0; N];
        let mut loss = [0.0; N];
        let mut vmax = [0.0; N];
        for i in 0..N {
            k[i] = 2.0 / (1.0 + i as f64);
            loss[i] = 0.05 + 0.01 * i as f64;
            vmax[i] = 5.0 + i as f64;
        }
        Chain {
            k,
            loss,
            vmax,
            km: 20.0,
        }
    }
}

impl OdeSystem for Chain {
    fn dim(&self) -> usize {
        N
    }

    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
        let mut inflow = 0.0;
        for i in 0..N {
            let out = (self.k[i] + self.loss[i]) * y[i] + self.vmax[i] * y[i] / (self.km + y[i]);
            dy[i] = inflow - out;
            inflow = self.k[i] * y[i];
        }
    }
}

fn bench(c: &mut Criterion) {
    let outputs: Vec<f64> = (0..=365).map(f64::from).collect();
    for method in [Method::Dopri5, Method::Rodas4] {
        let options = SolverOptions {
            method,
            ..SolverOptions::default()
        };
        let mut solver = Solver::new(N, options);
        let mut sys = Chain::new();
        let mut y = [0.0; N];
        let mut sum = 0.0;
        c.bench_function(&format!("solve/{method:?}/chain10_365d_366out"), |b| {
            b.iter(|| {
                y = [0.0; N];
                y[0] = 1000.0;
                solver
                    .integrate(&mut sys, 0.0, 365.0, &mut y, &outputs, &mut |_, v| {
                        sum += v[N - 1]
                    })
                    .expect("the benchmark system solves");
                black_box(&y);
            })
        });
        black_box(sum);
        solver.reset_stats();
        y = [0.0; N];
        y[0] = 1000.0;
        solver
            .integrate(&mut sys, 0.0, 365.0, &mut y, &outputs, &mut |_, _| {})
            .expect("the benchmark system solves");
        eprintln!("{method:?}: {:?}", solver.stats());
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
