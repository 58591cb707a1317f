//! BOIN: boundaries against the published values (Liu & Yuan 2015, Table 1 and the BOIN
//! R package: target 0.25 → λe 0.197, λd 0.298; target 0.30 → 0.236, 0.358), elimination
//! against the Beta posterior (statrs), MTD selection by hand, and selection
//! probabilities against an independent small implementation written here (its own
//! random generator), within Monte-Carlo error.

use rand::{Rng, SeedableRng};
use statrs::distribution::{Beta, ContinuousCDF};

use cartkin::trial::design::boin_boundaries;
use cartkin::trial::run::characteristics;
use cartkin::trial::{Boin, Rule, Toxicity, TrialPlan};

use crate::common::trial::{level_design, pk_model, settings};

/// λe and λd written out from Liu & Yuan (2015), eq. (2), with φ1 = 0.6φ, φ2 = 1.4φ.
fn published_formula(phi: f64) -> (f64, f64) {
    let (p1, p2) = (0.6 * phi, 1.4 * phi);
    let le = ((1.0 - p1) / (1.0 - phi)).ln() / ((phi * (1.0 - p1)) / (p1 * (1.0 - phi))).ln();
    let ld = ((1.0 - phi) / (1.0 - p2)).ln() / ((p2 * (1.0 - phi)) / (phi * (1.0 - p2))).ln();
    (le, ld)
}

#[test]
fn boundaries_match_the_published_values() {
    for (phi, e_pub, d_pub) in [(0.25, 0.197, 0.298), (0.30, 0.236, 0.358)] {
        let (e, d) = boin_boundaries(phi, 0.6 * phi, 1.4 * phi);
        let (fe, fd) = published_formula(phi);
        assert!((e - fe).abs() < 1e-15 && (d - fd).abs() < 1e-15);
        // The published values have three decimals (λd = 0.35852 for 0.30 is printed
        // 0.358): agreement to 1e-3.
        assert!((e - e_pub).abs() < 1e-3, "target {phi}: λe {e}");
        assert!((d - d_pub).abs() < 1e-3, "target {phi}: λd {d}");
    }
}

fn boin(target: f64, max_n: usize) -> Boin {
    Boin::new(target, 0.6 * target, 1.4 * target, 3, max_n, None, 0.95)
}

#[test]
fn elimination_is_the_beta_posterior_above_the_target() {
    let b = boin(0.30, 30);
    for n in 1..=30usize {
        for y in 0..=n {
            let post = 1.0
                - Beta::new(y as f64 + 1.0, (n - y) as f64 + 1.0)
                    .unwrap()
                    .cdf(0.30);
            assert_eq!(
                b.eliminates(y, n),
                n >= 3 && post > 0.95,
                "{y}/{n}: posterior {post}"
            );
        }
    }
    // Target 0.30: 3/3 eliminates (1 − 0.3⁴ = 0.9919), 2/3 does not (0.9163);
    // by hand, the smallest y with P(Binomial(n + 1, 0.3) <= y) > 0.95: 3 of 3, 4 of 6
    // (0.9712; 3 gives 0.8740), 5 of 9 (0.9527), 7 of 12 (0.9818; 6 gives 0.9376).
    let table: Vec<Option<usize>> = [3, 6, 9, 12]
        .iter()
        .map(|&n| b.elimination_boundary(n))
        .collect();
    assert_eq!(table, vec![Some(3), Some(4), Some(5), Some(7)]);
}

#[test]
fn selection_by_hand() {
    let b = boin(0.30, 12);
    // p̂ = (y + 0.05)/(n + 0.1): 0.0161, 0.1721, 0.6613, increasing; closest to 0.30 is
    // level 2 (|0.1721 − 0.3| = 0.128 < |0.6613 − 0.3| = 0.361).
    assert_eq!(b.select(&[3, 6, 3], &[0, 1, 2]), Some(1));
    // 2/3 then 1/3: 0.6613 > 0.3387, equal variances, pooled to 0.5 both: a tie above
    // the target selects the lower level.
    assert_eq!(b.select(&[3, 3], &[2, 1]), Some(0));
    // 1/3 then 0/3: pooled below the target (weighted mean < 0.3): the higher level.
    assert_eq!(b.select(&[3, 3], &[1, 0]), Some(1));
    // Level 1 eliminated (3/3): no MTD; level 2 eliminated: only level 1 is admissible.
    assert_eq!(b.select(&[3, 3], &[3, 0]), None);
    assert_eq!(b.select(&[6, 3, 0], &[3, 3, 0]), Some(0));
    // Untreated levels are not candidates.
    assert_eq!(b.select(&[0, 6, 0], &[0, 1, 0]), Some(1));
}

/// An independent BOIN trial (the rules of the issue, BOIN package `get.oc` order),
/// with its own generator: the DLT count of a cohort is a sum of uniforms below p.
fn reference_trial(p: &[f64], target: f64, max_n: usize, rng: &mut impl Rng) -> Option<usize> {
    let (le, ld) = published_formula(target);
    let k = p.len();
    let post_above = |y: usize, n: usize| {
        1.0 - Beta::new(y as f64 + 1.0, (n - y) as f64 + 1.0)
            .unwrap()
            .cdf(target)
    };
    let elim = |y: usize, n: usize| n >= 3 && post_above(y, n) > 0.95;
    let (mut n, mut y, mut out) = (vec![0usize; k], vec![0usize; k], vec![false; k]);
    let mut d = 0;
    loop {
        let total: usize = n.iter().sum();
        let size = 3.min(max_n - total);
        y[d] += (0..size).filter(|_| rng.random::<f64>() < p[d]).count();
        n[d] += size;
        if total + size >= max_n {
            break;
        }
        if elim(y[d], n[d]) {
            for e in &mut out[d..] {
                *e = true;
            }
            if d == 0 {
                return None;
            }
        }
        let r = y[d] as f64 / n[d] as f64;
        if r <= le && d + 1 < k {
            if !out[d + 1] {
                d += 1;
            }
        } else if r >= ld && d > 0 {
            d -= 1;
        }
    }
    // select.mtd: admissible = treated levels below the first eliminated one.
    let first = (0..k).find(|&i| elim(y[i], n[i])).unwrap_or(k);
    let idx: Vec<usize> = (0..first).filter(|&i| n[i] > 0).collect();
    if idx.is_empty() {
        return None;
    }
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for &i in &idx {
        let (yi, ni) = (y[i] as f64, n[i] as f64);
        let est = (yi + 0.05) / (ni + 0.1);
        let var = (yi + 0.05) * (ni - yi + 0.05) / ((ni + 0.1) * (ni + 0.1) * (ni + 1.1));
        blocks.push((est, 1.0 / var, 1));
        while blocks.len() >= 2 && blocks[blocks.len() - 2].0 > blocks[blocks.len() - 1].0 {
            let (b2, b1) = (blocks.pop().unwrap(), blocks.pop().unwrap());
            let w = b1.1 + b2.1;
            blocks.push(((b1.0 * b1.1 + b2.0 * b2.1) / w, w, b1.2 + b2.2));
        }
    }
    let fitted: Vec<f64> = blocks
        .iter()
        .flat_map(|b| std::iter::repeat_n(b.0, b.2))
        .collect();
    // The package's tie-break: add i·1e-10, take the smallest distance.
    let best = (0..fitted.len())
        .min_by(|&a, &b| {
            let da = (fitted[a] + (a + 1) as f64 * 1e-10 - target).abs();
            let db = (fitted[b] + (b + 1) as f64 * 1e-10 - target).abs();
            da.total_cmp(&db)
        })
        .unwrap();
    Some(idx[best])
}

#[test]
fn selection_probabilities_agree_with_an_independent_implementation() {
    // 3,000 trials each way; the difference of two independent proportions must be
    // within 4·sqrt(p(1−p)(1/R1 + 1/R2)) with p the pooled estimate.
    let model = pk_model();
    let reps = 3000;
    for (seed, target, max_n, p) in [
        (5u64, 0.30, 30, vec![0.05, 0.15, 0.30, 0.45, 0.60]),
        (6, 0.25, 18, vec![0.10, 0.25, 0.40]),
        (7, 0.30, 12, vec![0.02, 0.06, 0.10]),
    ] {
        let doses: Vec<f64> = (1..=p.len()).map(|i| i as f64).collect();
        let plan = TrialPlan::new(
            &model,
            level_design(&doses, seed),
            settings(Rule::Boin(boin(target, max_n)), Toxicity::Fixed(p.clone())),
        )
        .unwrap();
        let results = plan.run(0, reps).unwrap();
        let oc = characteristics(&doses, &plan.settings.toxicity, &results);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed + 1000);
        let mut counts = vec![0usize; p.len() + 1];
        for _ in 0..reps {
            match reference_trial(&p, target, max_n, &mut rng) {
                Some(l) => counts[l] += 1,
                None => counts[p.len()] += 1,
            }
        }
        let r = reps as f64;
        let mine: Vec<f64> = oc
            .levels
            .iter()
            .map(|l| l.p_select)
            .chain([oc.p_none])
            .collect();
        for (i, (&a, &c)) in mine.iter().zip(&counts).enumerate() {
            let b = c as f64 / r;
            let pooled = 0.5 * (a + b);
            let se = (pooled * (1.0 - pooled) * 2.0 / r).sqrt().max(1.0 / r);
            assert!(
                (a - b).abs() <= 4.0 * se,
                "p {p:?}, outcome {i}: cartkin {a}, reference {b}, 4 SE {}",
                4.0 * se
            );
        }
    }
}

#[test]
fn the_trial_stops_at_max_n_and_never_escalates_into_an_eliminated_level() {
    let model = pk_model();
    let doses = [1.0, 2.0, 3.0];
    let plan = TrialPlan::new(
        &model,
        level_design(&doses, 9),
        settings(
            Rule::Boin(boin(0.30, 12)),
            Toxicity::Fixed(vec![0.1, 0.8, 0.9]),
        ),
    )
    .unwrap();
    let b = boin(0.30, 12);
    for t in plan.run(0, 500).unwrap() {
        let n: usize = t.record.n.iter().sum();
        assert!(n == 12 || t.record.stopped_early, "{t:?}");
        // Replay: once a level is eliminated no later patient is treated at or above it.
        let (mut nn, mut yy) = (vec![0usize; 3], vec![0usize; 3]);
        let mut eliminated_from = 3;
        for p in &t.patients {
            assert!(p.level < eliminated_from, "{t:?}");
            nn[p.level] += 1;
            yy[p.level] += usize::from(p.dlt);
            if nn[p.level] % 3 == 0 && b.eliminates(yy[p.level], nn[p.level]) {
                eliminated_from = eliminated_from.min(p.level);
            }
        }
    }
}
