//! Population estimation by SAEM, the stochastic approximation EM algorithm as in
//! Monolix (Delyon, Lavielle & Moulines 1999, Ann Stat 27:94; Kuhn & Lavielle 2005,
//! Comput Stat Data Anal 49:1020; Lavielle 2014, Mixed Effects Models for the Population
//! Approach, ch. 9).
//!
//! Model ([`super::model`]): φ_i = μ + η_i, η_i ~ N(0, Ω), the parameters with IIV on
//! their estimation scale (log-normal, logit-normal or normal), Ω diagonal, block or full;
//! y_ij given φ_i by the error model of its output, censored records by their M3
//! probability. Iteration k, with step size γ_k:
//! 1. **Simulation** ([`kernels`]): for every subject, C chains (⌈50/N⌉ by default, as
//!    Monolix) move by Metropolis–Hastings with three kernels — the prior N(μ, Ω) as
//!    proposal, a multidimensional random walk and a componentwise random walk, their
//!    scales adapted toward acceptance rates 0.3 and 0.4 — targeting p(φ_i | y_i; θ_{k−1}).
//!    Censored records enter the acceptance ratio through their exact likelihood
//!    P(y < LLOQ) = Φ((L − F)/s).
//! 2. **Stochastic approximation** ([`statistics`]): the sufficient statistics
//!    s₁ = mean φ, s₂ = mean φφᵀ and the residual sums of squares (censored values drawn
//!    from their truncated conditional distribution) are smoothed,
//!    S_k = S_{k−1} + γ_k(s_k − S_{k−1}).
//! 3. **Maximisation**: μ = S₁, Ω = S₂ − S₁S₁ᵀ on its blocks, a² = S_a/n_a for `add`,
//!    `prop` and `logadd` errors in closed form ([`statistics`]); parameters without IIV
//!    (and covariate coefficients, which enter through the model's expressions) and
//!    `combined` error parameters by one damped Newton step on the current chains,
//!    smoothed with the same γ_k ([`numeric`]: our choice, Monolix's "optimisation"
//!    method for parameters without variability).
//! 4. **Annealing** during exploration: each variance of Ω and of the residual error falls
//!    at most by 5% per iteration, which keeps the chains exploring.
//!
//! Phases ([`stopping`]): K1 exploratory iterations with γ = 1 (150–500, ended by a drift
//! test on the estimates), then K2 smoothing iterations with γ = 1/k (50–200, ended when
//! the Monte-Carlo SE of the averaged estimates is small). After convergence
//! ([`posterior`], [`fit`]): conditional means and SDs of η from the chains, EBEs
//! (conditional modes), −2LL by importance sampling (with its Monte-Carlo SE) and by
//! linearisation (FOCE-I/Laplacian), standard errors from the observed Fisher
//! information by stochastic approximation (Louis; [`fisher`]) or from the linearised
//! likelihood, diagnostics and shrinkage. The whole fit is reproducible from
//! its seed for any thread count: every subject has its own random streams
//! ([`crate::rng`]).

pub mod driver;
pub mod fisher;
pub mod fit;
pub mod kernels;
pub mod numeric;
pub mod posterior;
pub mod settings;
pub mod statistics;
pub mod stopping;
pub mod trace;

pub use driver::{run_saem, Phase, SaemEstimate, SaemIteration};
pub use fit::{fit_saem, SaemFit, SaemOptions, StandardErrors};
pub use posterior::{ConditionalMoments, ImportanceLikelihood};
pub use settings::{CheckedSaem, SaemError, SaemSettings};
pub use trace::write_saem_trace;
