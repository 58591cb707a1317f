//! Model engine benchmarks (issue 3): the cd19_bcell right-hand side compiled from its
//! model file vs the same equations hand-written in Rust (as in
//! `models/cd19_bcell.model` and `cd19_rhs` of scripts/make_references.py), and a full
//! 365-day cd19_bcell prediction — with the model's own solver (Dopri5) and under
//! `solver auto` (Dopri5 with stiffness detection, issue 12: it must not be slower).
//!
//! Run: `cargo bench -p cartkin-benches --bench model`.

use std::hint::black_box;

use cartkin::data::{Covariates, Dose};
use cartkin::model::{Individual, Model, Predict};
use cartkin::solve::{Method, OdeSystem, SolverOptions};
use criterion::{criterion_group, criterion_main, Criterion};

/// The built-in model, or the library's file while it is not built in.
fn cd19() -> Model {
    Model::load("cd19_bcell")
        .or_else(|_| Model::from_file(&cartkin_benches::root().join("models/cd19_bcell.model")))
        .expect("cd19_bcell model")
}

/// cd19_bcell parameters and the baseline-balancing flows, as a hand-written program
/// would keep them (derived rates computed once, models/cd19_bcell.model).
struct Cd19 {
    kexp: f64,
    ec50: f64,
    kde: f64,
    kem: f64,
    kdm_car: f64,
    kkill: f64,
    pb0: f64,
    pc0: f64,
    kdn: f64,
    kdm: f64,
    kdpb: f64,
    kdpc: f64,
    pc_ag_equiv: f64,
    kpb: f64,
    kact: f64,
    ksyn: f64,
    kpc: f64,
    a: [f64; 4],
    ig0: [f64; 4],
    kdeg: [f64; 4],
    w: [f64; 4],
}

impl Cd19 {
    fn from_model(m: &Model, theta: &[f64]) -> Cd19 {
        let p = |n: &str| theta[m.parameter_index(n).expect(n)];
        let (kdpb, pb0, bm0, bn0, pc0) = (p("kdpb"), p("PB0"), p("Bm0"), p("Bn0"), p("PC0"));
        let kpb = kdpb * pb0 / bm0;
        let kact = (p("kdm") + kpb) * bm0 / bn0;
        let kdpc = 2f64.ln() / p("thalf_pc");
        let (cd19, cd20, bcma) = (p("cd19"), p("cd20"), p("bcma"));
        Cd19 {
            kexp: p("kexp"),
            ec50: p("EC50"),
            kde: p("kdE"),
            kem: p("kEM"),
            kdm_car: p("kdM"),
            kkill: p("kkill"),
            pb0,
            pc0,
            kdn: p("kdn"),
            kdm: p("kdm"),
            kdpb,
            kdpc,
            pc_ag_equiv: p("pc_ag_equiv"),
            kpb,
            kact,
            ksyn: (p("kdn") + kact) * bn0,
            kpc: kdpc * pc0 / pb0,
            a: [cd19.max(cd20), cd19.max(cd20), cd19.max(bcma), bcma],
            ig0: [p("IgG0"), p("IgM0"), p("IgA0"), p("AB0")],
            kdeg: ["thalf_IgG", "thalf_IgM", "thalf_IgA", "thalf_AB"].map(|n| 2f64.ln() / p(n)),
            w: [p("w_IgG"), p("w_IgM"), p("w_IgA"), p("w_AB")],
        }
    }

    /// The cd19_bcell right-hand side written by hand.
    #[inline(never)]
    fn rhs(&self, y: &[f64], dy: &mut [f64]) {
        let (e, m) = (y[0].max(0.0), y[1].max(0.0));
        let (bn, bm, pb, pc) = (y[2], y[3], y[4], y[5]);
        let a =
            self.a[0] * bn + self.a[1] * bm + self.a[2] * pb + self.a[3] * pc * self.pc_ag_equiv;
        let kk = self.kkill * (e + m);
        dy[0] = self.kexp * a / (a + self.ec50) * e - (self.kde + self.kem) * e;
        dy[1] = self.kem * e - self.kdm_car * m;
        dy[2] = self.ksyn - (self.kdn + self.kact) * bn - self.a[0] * kk * bn;
        dy[3] = self.kact * bn - (self.kdm + self.kpb) * bm - self.a[1] * kk * bm;
        dy[4] = self.kpb * bm - self.kdpb * pb - self.a[2] * kk * pb;
        dy[5] = self.kpc * pb - self.kdpc * pc - self.a[3] * kk * pc;
        let (rpb, rpc) = (pb / self.pb0, pc / self.pc0);
        for i in 0..4 {
            let (k, w) = (self.kdeg[i], self.w[i]);
            dy[6 + i] = k * self.ig0[i] * (w * rpb + (1.0 - w) * rpc) - k * y[6 + i];
        }
    }
}

fn bench(c: &mut Criterion) {
    let model = cd19();
    let theta = model.typical();
    let cov = Covariates::default();
    let none = Individual {
        doses: &[],
        covariates: &cov,
    };
    let mut ode = model.ode_system(&theta, &none).expect("ode system");
    let hand = Cd19::from_model(&model, &theta);
    // a mid-expansion state (cells/uL, relative pool, g/L, IU/mL)
    let y = [5.0, 20.0, 3.0, 1.0, 0.2, 0.9, 11.0, 1.0, 2.3, 80.0];
    let (mut d1, mut d2) = ([0.0; 10], [0.0; 10]);
    ode.rhs(10.0, &y, &mut d1);
    hand.rhs(&y, &mut d2);
    for (a, b) in d1.iter().zip(&d2) {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1e-300),
            "compiled {a} vs hand-written {b}"
        );
    }
    let mut g = c.benchmark_group("cd19_rhs");
    g.bench_function("compiled", |b| {
        b.iter(|| {
            ode.rhs(black_box(10.0), black_box(&y), &mut d1);
            black_box(&d1);
        })
    });
    g.bench_function("hand_written", |b| {
        b.iter(|| {
            hand.rhs(black_box(&y), &mut d2);
            black_box(&d2);
        })
    });
    g.finish();

    let doses = [Dose {
        time: 0.0,
        amount: 50e6,
        target: None,
        duration: None,
        line: 0,
    }];
    let ind = Individual {
        doses: &doses,
        covariates: &cov,
    };
    let times: Vec<f64> = (0..=365).map(f64::from).collect();
    let outputs = vec![0usize; times.len()];
    let mut out = vec![0.0; times.len()];
    let stats = model
        .predict_with_stats(&theta, &ind, &times, &outputs, &mut out)
        .expect("cd19 predict");
    eprintln!("cd19_bcell 365-day predict (rtol 1e-8): {stats:?}");
    c.bench_function("cd19_predict_365d", |b| {
        b.iter(|| {
            model
                .predict(black_box(&theta), &ind, &times, &outputs, &mut out)
                .expect("cd19 predict");
            black_box(&out);
        })
    });

    let mut g = c.benchmark_group("cd19_predict_365d_solver");
    for method in [Method::Dopri5, Method::Auto] {
        let mut m = model.clone();
        m.set_solver_options(SolverOptions {
            method,
            ..model.solver_options().clone()
        });
        let stats = m
            .predict_with_stats(&theta, &ind, &times, &outputs, &mut out)
            .expect("cd19 predict");
        eprintln!("cd19_bcell 365-day predict, {method:?}: {stats:?}");
        g.bench_function(format!("{method:?}"), |b| {
            b.iter(|| {
                m.predict(black_box(&theta), &ind, &times, &outputs, &mut out)
                    .expect("cd19 predict");
                black_box(&out);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
