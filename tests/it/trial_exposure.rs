//! The exposure link on the one-compartment IV model, whose exposure is known in closed
//! form (conc = D/V·exp(−(CL/V)·t): Cmax on the daily grid is D/V at t = 0): each
//! patient's probability and the per-level mean `p_dlt` recomputed here from the
//! subject's parameters; a zero slope gives the fixed-probability design trial for trial;
//! a positive slope with exposure rising in dose makes P(DLT) rise with dose; and the
//! results do not depend on the thread count.

use rand::Rng;

use cartkin::model::Predict;
use cartkin::simulate::population::subject_rng;
use cartkin::trial::run::characteristics;
use cartkin::trial::{Boin, Link, Metric, Rule, Toxicity, TrialPlan};

use crate::common::trial::{level_design, pk_model, settings};

const DOSES: [f64; 3] = [100.0, 300.0, 900.0];

fn link(metric: Metric, intercept: f64, slope: f64) -> Toxicity {
    Toxicity::Logistic(Link {
        metric,
        analyte: "conc".into(),
        intercept,
        slope,
    })
}

fn boin() -> Rule {
    Rule::Boin(Boin::new(0.3, 0.18, 0.42, 3, 12, None, 0.95))
}

#[test]
fn a_zero_slope_equals_the_fixed_probability_design() {
    let model = pk_model();
    let p = 0.2f64;
    for rule in [Rule::ThreePlusThree, boin()] {
        let fixed = TrialPlan::new(
            &model,
            level_design(&DOSES, 3),
            settings(rule.clone(), Toxicity::Fixed(vec![p; 3])),
        )
        .unwrap();
        let linked = TrialPlan::new(
            &model,
            level_design(&DOSES, 3),
            settings(rule, link(Metric::Cmax, (p / (1.0 - p)).ln(), 0.0)),
        )
        .unwrap();
        let a = fixed.run(0, 500).unwrap();
        let b = linked.run(0, 500).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.record, y.record);
        }
        let (ca, cb) = (
            characteristics(&DOSES, &fixed.settings.toxicity, &a),
            characteristics(&DOSES, &linked.settings.toxicity, &b),
        );
        for (la, lb) in ca.levels.iter().zip(&cb.levels) {
            assert_eq!(la.p_select, lb.p_select);
            assert_eq!(la.mean_n, lb.mean_n);
            if let (Some(x), Some(y)) = (la.p_dlt, lb.p_dlt) {
                assert!((x - y).abs() < 1e-12, "{x} {y}");
            }
        }
    }
}

/// Logistic of α + β·ln m.
fn logistic(alpha: f64, beta: f64, m: f64) -> f64 {
    1.0 / (1.0 + (-(alpha + beta * m.ln())).exp())
}

#[test]
fn implied_p_dlt_is_the_mean_of_the_link_over_the_levels_patients() {
    let model = pk_model();
    let (alpha, beta) = (-3.0, 1.0);
    let iv = model.parameter_index("V").unwrap();
    let icl = model.parameter_index("CL").unwrap();
    for (metric, rule) in [
        (Metric::Cmax, Rule::ThreePlusThree),
        (Metric::Auc0To28, boin()),
    ] {
        let plan = TrialPlan::new(
            &model,
            level_design(&DOSES, 21),
            settings(rule, link(metric, alpha, beta)),
        )
        .unwrap();
        let results = plan.run(0, 300).unwrap();
        let oc = characteristics(&DOSES, &plan.settings.toxicity, &results);
        let mut sum = [0.0; 3];
        let mut count = [0usize; 3];
        for t in &results {
            for p in &t.patients {
                // The patient's stream: the DLT uniform first, then the subject.
                let stream = plan.stream(t.index, p.slot);
                let mut rng = subject_rng(21, stream);
                let u: f64 = rng.random();
                let s = plan.design.population.draw(stream, &mut rng);
                let (v, cl) = (s.theta[iv], s.theta[icl]);
                let d = DOSES[p.level];
                let m = match metric {
                    Metric::Cmax => d / v,
                    // Linear trapezoids of the closed form over the daily grid 0..28.
                    Metric::Auc0To28 => (0..28)
                        .map(|k| {
                            let c = |t: f64| d / v * (-cl / v * t).exp();
                            0.5 * (c(k as f64) + c(k as f64 + 1.0))
                        })
                        .sum(),
                };
                let e = p.exposure.unwrap();
                assert!(
                    (e - m).abs() <= 1e-5 * m,
                    "{metric}: {e} vs closed form {m}"
                );
                let prob = logistic(alpha, beta, m);
                assert!((p.p_dlt - prob).abs() < 1e-5, "{} vs {prob}", p.p_dlt);
                assert_eq!(p.dlt, u < p.p_dlt);
                sum[p.level] += prob;
                count[p.level] += 1;
            }
        }
        for l in 0..3 {
            let got = oc.levels[l].p_dlt;
            if count[l] == 0 {
                assert_eq!(got, None);
                continue;
            }
            let want = sum[l] / count[l] as f64;
            assert!(
                (got.unwrap() - want).abs() < 1e-5,
                "level {l}: {got:?} vs {want}"
            );
        }
        if metric == Metric::Cmax {
            // Exposure ∝ dose with a positive slope: P(DLT) rises with dose (the mean
            // odds scale with the dose: ×3 per level here).
            let p: Vec<f64> = oc.levels.iter().map(|l| l.p_dlt.unwrap()).collect();
            assert!(p[0] < p[1] && p[1] < p[2], "{p:?}");
            let observed: Vec<f64> = oc.levels.iter().map(|l| l.mean_dlt / l.mean_n).collect();
            assert!(observed[0] < observed[2], "{observed:?}");
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let model = pk_model();
    let plan = TrialPlan::new(
        &model,
        level_design(&DOSES, 8),
        settings(boin(), link(Metric::Cmax, -3.0, 1.0)),
    )
    .unwrap();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| plan.run(0, 200).unwrap())
    };
    assert_eq!(run(1), run(2));
    // A range of trials run apart is the same as within the whole run (shards).
    let whole = run(2);
    assert_eq!(plan.run(150, 50).unwrap(), whole[150..].to_vec());
}
