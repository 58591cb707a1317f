//! 3+3 with de-escalation: the exact enumeration against hand-derived formulas for one
//! and two levels, and simulated trials against the exact enumeration within 4
//! Monte-Carlo standard errors for several DLT-probability vectors.

use cartkin::trial::exact::three_plus_three_exact;
use cartkin::trial::run::characteristics;
use cartkin::trial::{Rule, Toxicity, TrialPlan};

use crate::common::trial::{level_design, pk_model, settings};

/// P(Binomial(3, p) = k).
fn b3(p: f64, k: u32) -> f64 {
    let c = [1.0, 3.0, 3.0, 1.0][k as usize];
    c * p.powi(k as i32) * (1.0 - p).powi(3 - k as i32)
}

#[test]
fn one_level_by_hand() {
    // One level, p = 0.2 (q = 0.8). 3 treated; 0/3: top level, 3 more, selected if the
    // second cohort has <= 1 DLT; 1/3: 3 more, selected if the second has 0; >= 2/3: no
    // MTD. P(select) = q³(q³ + 3pq²) + 3pq²·q³ = 0.512·0.896 + 0.384·0.512 = 0.65536.
    // Six are treated when the first cohort has <= 1 DLT: E[n] = 3 + 3·0.896 = 5.688;
    // E[DLT] = 0.6 + 0.6·0.896 = 1.1376.
    let oc = three_plus_three_exact(&[1.0], &[0.2], 0);
    assert!((oc.levels[0].p_select - 0.65536).abs() < 1e-14);
    assert!((oc.p_none - (1.0 - 0.65536)).abs() < 1e-14);
    assert!((oc.levels[0].mean_n - 5.688).abs() < 1e-13);
    assert!((oc.levels[0].mean_dlt - 1.1376).abs() < 1e-13);
}

#[test]
fn two_levels_by_hand() {
    // Levels A (pa) and B (pb), a_k, b_k the Binomial(3) probabilities of k DLTs.
    // B is reached after A 0/3 (A has 3) or A 1/3 then 0/3 (A has 6).
    // At B (the top): 0/3 then <= 1/3 more, or 1/3 then 0/3 more, selects B:
    //   sB = b0·(b0 + b1) + b1·b0; otherwise (f = 1 − sB) escalation stops at B and A is
    //   the MTD if it has 6, else A is filled to 6 and selected if its 3 new have <= 1 DLT
    //   (its first 3 had 0).
    // P(B) = (a0 + a1·a0)·sB; P(A) = a1·a0·f + a0·f·(a0 + a1); P(none) = the rest.
    for (pa, pb) in [(0.1, 0.4), (0.25, 0.25), (0.05, 0.7)] {
        let a: Vec<f64> = (0..4).map(|k| b3(pa, k)).collect();
        let b: Vec<f64> = (0..4).map(|k| b3(pb, k)).collect();
        let sb = b[0] * (b[0] + b[1]) + b[1] * b[0];
        let f = 1.0 - sb;
        let p_b = (a[0] + a[1] * a[0]) * sb;
        let p_a = a[1] * a[0] * f + a[0] * f * (a[0] + a[1]);
        let oc = three_plus_three_exact(&[1.0, 2.0], &[pa, pb], 0);
        assert!((oc.levels[0].p_select - p_a).abs() < 1e-14, "{pa} {pb}");
        assert!((oc.levels[1].p_select - p_b).abs() < 1e-14, "{pa} {pb}");
        assert!((oc.p_none - (1.0 - p_a - p_b)).abs() < 1e-14, "{pa} {pb}");
    }
}

#[test]
fn exact_probabilities_sum_to_one_and_certain_outcomes_hold() {
    let oc = three_plus_three_exact(&[1.0, 2.0, 3.0, 4.0], &[0.05, 0.1, 0.3, 0.5], 0);
    let total: f64 = oc.levels.iter().map(|l| l.p_select).sum::<f64>() + oc.p_none;
    assert!((total - 1.0).abs() < 1e-13);
    // No toxicity at all: escalate through every level, 3 each, then 3 more at the top.
    let oc = three_plus_three_exact(&[1.0, 2.0, 3.0], &[0.0, 0.0, 0.0], 0);
    assert_eq!(oc.levels[2].p_select, 1.0);
    let n: Vec<f64> = oc.levels.iter().map(|l| l.mean_n).collect();
    assert_eq!(n, vec![3.0, 3.0, 6.0]);
    // Certain toxicity: 3 at level 1, no MTD.
    let oc = three_plus_three_exact(&[1.0, 2.0], &[1.0, 1.0], 0);
    assert_eq!(oc.p_none, 1.0);
    assert_eq!(oc.levels[0].mean_n, 3.0);
    // Start at level 2 with level 2 toxic: de-escalate to level 1, fill it to 6.
    let oc = three_plus_three_exact(&[1.0, 2.0], &[0.0, 1.0], 1);
    assert_eq!(oc.levels[0].p_select, 1.0);
    assert_eq!(oc.levels[0].mean_n, 6.0);
}

#[test]
fn simulation_agrees_with_exact_enumeration_within_4_se() {
    // 4,000 trials per vector; for each level the selection probability and the mean
    // number of patients must be within 4 Monte-Carlo SE of the exact values (SE of a
    // proportion sqrt(p(1−p)/R); SE of a mean from the simulated trials' SD / sqrt(R)).
    let model = pk_model();
    let reps = 4000;
    let doses = [1.0, 2.0, 3.0, 4.0];
    for (seed, p) in [
        (1, [0.05, 0.10, 0.20, 0.35]),
        (2, [0.15, 0.30, 0.45, 0.60]),
        (3, [0.02, 0.05, 0.08, 0.12]),
        (4, [0.40, 0.50, 0.60, 0.70]),
    ] {
        let plan = TrialPlan::new(
            &model,
            level_design(&doses, seed),
            settings(Rule::ThreePlusThree, Toxicity::Fixed(p.to_vec())),
        )
        .unwrap();
        let results = plan.run(0, reps).unwrap();
        let sim = characteristics(&doses, &plan.settings.toxicity, &results);
        let exact = three_plus_three_exact(&doses, &p, 0);
        let r = reps as f64;
        let check = |what: &str, s: f64, e: f64, se: f64| {
            let se = se.max(1.0 / r); // a probability of 0 or 1 has SE 0 both ways
            assert!(
                (s - e).abs() <= 4.0 * se,
                "p {p:?} {what}: simulated {s}, exact {e}, 4 SE {}",
                4.0 * se
            );
        };
        for l in 0..doses.len() {
            let pe = exact.levels[l].p_select;
            check(
                &format!("p_select level {}", l + 1),
                sim.levels[l].p_select,
                pe,
                (pe * (1.0 - pe) / r).sqrt(),
            );
            let mean = sim.levels[l].mean_n;
            let var = results
                .iter()
                .map(|t| (t.record.n[l] as f64 - mean).powi(2))
                .sum::<f64>()
                / (r - 1.0);
            check(
                &format!("mean_n level {}", l + 1),
                mean,
                exact.levels[l].mean_n,
                (var / r).sqrt(),
            );
        }
        let pn = exact.p_none;
        check("p_none", sim.p_none, pn, (pn * (1.0 - pn) / r).sqrt());
    }
}
