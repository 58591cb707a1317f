//! The exact FOCE-I and Laplacian gradients (implicit differentiation of the EBE,
//! `estimate::population::foce_gradient`) against central differences of the objective
//! itself, each EBE re-searched to rounding at every probe. Independent: the differences
//! use only objective values, the exact gradient only the predictions' Jacobian and the
//! algebra of its module docs.

use std::path::Path;

use cartkin::data::{read_csv_with, Dataset, ReadOptions, TimeUnit};
use cartkin::estimate::population::covariance::{r_matrix, r_matrix_from_gradients};
use cartkin::estimate::population::{
    foce_gradient, population_problem, Approximation, Evaluation, PopulationProblem,
};
use cartkin::model::bind::bind;
use cartkin::model::Model;

use crate::common::repo_file;

/// A one-compartment IV model on the pheno-like neonates (benches/data/pheno_sim.csv):
/// a weight exponent without η (a covariate coefficient on the identity scale), CL and
/// V correlated (a full 2×2 Ω block), a combined error model with both parts estimated.
const MODEL: &str = "model gradient_check
time_unit hours
covariate WT = 1.3 unit \"kg\"
param CL = 0.0055 bounds 1e-5 1 log iiv 0.06
param V = 1.1 bounds 0.01 10 log iiv 0.05
param CL_WT = 0.9 bounds -3 3 identity
param add = 0.8 residual
param prop = 0.08 residual
block CL V
let CLi = CL * WT ^ CL_WT
let Vi = V * WT
state A = 0
ddt(A) = -CLi / Vi * A
dose A
output conc = A / Vi unit \"mg/L\"
error conc combined(add, prop)
";

/// The first 15 neonates.
fn neonates(model: &Model) -> Dataset {
    let loaded = read_csv_with(
        &repo_file("benches/data/pheno_sim.csv"),
        &ReadOptions::default(),
    )
    .expect("data");
    let mut data = bind(model, &loaded.dataset, TimeUnit::Hours).expect("bind");
    data.subjects.truncate(15);
    data
}

/// The problem, EBEs searched to rounding, a point away from the optimum with a
/// correlation in Ω, the objective there and its EBEs.
fn problem_and_point<'a>(
    model: &'a Model,
    data: &'a Dataset,
) -> (
    PopulationProblem<'a, Model>,
    Vec<f64>,
    Evaluation,
    Vec<Vec<f64>>,
) {
    let mut problem = population_problem(model, data, None, &[], &[]).expect("problem");
    assert_eq!(problem.approximation, Approximation::FoceI);
    assert!(foce_gradient::available(&problem));
    problem.polish = true;
    let mut values = problem.pop.initial(model);
    values.omega[(0, 1)] = 0.02;
    values.omega[(1, 0)] = 0.02;
    let x = problem.pop.pack(&values).expect("positive definite");
    assert_eq!(x.len(), 5 + 3);
    let at = problem
        .evaluate(&x, &problem.zero_etas())
        .expect("objective");
    let warm: Vec<Vec<f64>> = at.modes.iter().map(|m| m.eta.clone()).collect();
    (problem, x, at, warm)
}

/// The exact gradient at x (and its per-subject parts) against central differences of
/// the objective with h = `step`·max(1, |x_k|), each within `rel`·max(1, |difference|).
fn assert_gradient_matches_differences<M: cartkin::model::Predict + ?Sized>(
    problem: &PopulationProblem<'_, M>,
    x: &[f64],
    at: &Evaluation,
    warm: &[Vec<f64>],
    step: f64,
    rel: f64,
) {
    let (exact, per_subject) =
        foce_gradient::gradient(problem, x, &at.modes, 1e-4).expect("gradient");
    // the per-subject gradients sum to the total
    for k in 0..x.len() {
        let sum: f64 = per_subject.iter().map(|g| g[k]).sum();
        assert!((sum - exact[k]).abs() <= 1e-9 * exact[k].abs().max(1.0));
    }
    let names = problem.pop.packed_names();
    let mut probe = x.to_vec();
    for k in 0..x.len() {
        let h = step * x[k].abs().max(1.0);
        probe[k] = x[k] + h;
        let up = problem.evaluate(&probe, warm).expect("up").neg2ll;
        probe[k] = x[k] - h;
        let down = problem.evaluate(&probe, warm).expect("down").neg2ll;
        probe[k] = x[k];
        let fd = (up - down) / (2.0 * h);
        let tol = rel * fd.abs().max(1.0);
        assert!(
            (exact[k] - fd).abs() <= tol,
            "∂OFV/∂{}: exact {} vs differences {fd} (tol {tol:e})",
            names[k],
            exact[k]
        );
    }
}

#[test]
fn exact_foce_gradient_matches_differences_of_the_objective() {
    // Central differences of the objective, h = 1e-4·max(1, |x_k|): truncation
    // error O(h²) ≈ 1e-8 relative, EBE rounding (≈1e-12) / h ≈ 1e-8 absolute.
    let model = Model::parse(MODEL, Path::new("gradient_check.model")).expect("model");
    let data = neonates(&model);
    let (problem, x, at, warm) = problem_and_point(&model, &data);
    assert_gradient_matches_differences(&problem, &x, &at, &warm, 1e-4, 1e-5);
}

#[test]
fn exact_laplacian_gradient_matches_differences_of_the_objective() {
    // stein2019 on the first 12 subjects of benches/data/stein_pop.csv (LLOQ 75, 31 %
    // of records censored: the Laplacian), 6 η, at the model's initial values, away
    // from the optimum. The exact gradient's third derivatives come from second
    // differences of the exact ℓ (error ≈ ε^½ ≈ 1e-8 relative). Each objective value
    // carries the rounding of its Hessian of O (differences of the exact gradient of O,
    // ≈ 1e-9 absolute here), so the outer differences take h = 3e-4 (noise ≈ 3e-6,
    // truncation O(h²) ≈ 1e-7; measured: largest difference 1.7e-5 on a component of
    // 4.8, against 1.6e-4 with h = 1e-4, where noise dominates): tolerance 1e-5
    // relative.
    let model = Model::load("stein2019").expect("model");
    let loaded = read_csv_with(
        &repo_file("benches/data/stein_pop.csv"),
        &ReadOptions::default(),
    )
    .expect("data");
    let mut data = bind(&model, &loaded.dataset, TimeUnit::Days).expect("bind");
    data.subjects.truncate(12);
    let mut problem = population_problem(&model, &data, None, &[], &[]).expect("problem");
    assert_eq!(problem.approximation, Approximation::Laplacian);
    assert!(problem.n_censored() > 0);
    problem.polish = true;
    let x = problem
        .pop
        .pack(&problem.pop.initial(&model))
        .expect("positive definite");
    let at = problem
        .evaluate(&x, &problem.zero_etas())
        .expect("objective");
    assert_eq!(at.fallbacks, 0, "every subject's Laplacian Hessian is used");
    let warm: Vec<Vec<f64>> = at.modes.iter().map(|m| m.eta.clone()).collect();
    assert_gradient_matches_differences(&problem, &x, &at, &warm, 3e-4, 1e-5);
}

#[test]
fn r_from_exact_gradients_matches_second_differences_of_the_objective() {
    // R = ∇²OFV two ways: central differences of the exact gradient (h = 1e-4, the
    // covariance step's way for FOCE-I) and central second differences of the objective
    // (h = 5e-4: truncation O(h²) ≈ 2.5e-7 relative, EBE rounding 1e-12/h² ≈ 4e-6):
    // agree to 1e-4 of the geometric mean of their diagonal elements. (At the covariance
    // step's h = 2e-3 for second differences they differ by 5e-4: the truncation error
    // of the second differences; the exact gradient's differences have h = 1e-4.)
    let model = Model::parse(MODEL, Path::new("gradient_check.model")).expect("model");
    let data = neonates(&model);
    let (problem, x, at, warm) = problem_and_point(&model, &data);
    let (from_gradients, _) = r_matrix_from_gradients(&problem, &x, &warm, 1e-4).expect("R");
    let from_values = r_matrix(&problem, &x, at.neg2ll, &warm, 5e-4).expect("R");
    let p = x.len();
    let names = problem.pop.packed_names();
    for i in 0..p {
        for j in 0..p {
            let scale = (from_values[i * p + i] * from_values[j * p + j])
                .abs()
                .sqrt();
            let (a, b) = (from_gradients[i * p + j], from_values[i * p + j]);
            assert!(
                (a - b).abs() <= 1e-4 * scale.max(1.0),
                "R[{}, {}]: from gradients {a} vs second differences {b}",
                names[i],
                names[j]
            );
        }
    }
}
