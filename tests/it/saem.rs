//! SAEM (`--method saem`): recovery of known population values from a simulated Stein
//! population (censored records, parameters with and without IIV), agreement with FOCE-I
//! on a smooth well-sampled closed-form model, the same bits for 1 and 2 threads (the
//! whole fit), the command line end to end on data/example.csv (censored), on the
//! NONMEM-style theophylline file and on a simulated NONMEM-style multiple-dose dataset
//! with covariates (recovery of the truth), and refused settings.

use std::path::PathBuf;

use cartkin::data::Dataset;
use cartkin::estimate::population::saem::{fit_saem, run_saem, SaemOptions, SaemSettings};
use cartkin::estimate::population::{fit_population, population_problem, PopulationOptions};
use cartkin::model::{ErrorModel, Predict};
use rand_distr::{Distribution, StandardNormal};

use crate::common::estimate::{in_memory, rng, stein_population, subject, Decay};
use crate::common::stein::{Stein, OMEGA2, TYPICAL};
use crate::common::{cartkin_in, repo_file};

#[test]
fn recovers_a_simulated_stein_population() {
    // 60 subjects; η on tmax, cmax, alpha; foldx, fb, beta without IIV (the numerical
    // M-step); about a third of the records censored. Tolerances from the sampling
    // error of N = 60 subjects: |ln(μ̂/μ)| < 3√(ω²/N) for typical values with IIV,
    // |ω̂² − ω²| < 3ω²√(2/N) (SE of a variance), σ within 10 %, the parameters without
    // IIV within 25 %.
    let n = 60;
    let data = stein_population(n, 2026, 20.0);
    let censored: usize = data
        .subjects
        .iter()
        .flat_map(|s| &s.observations)
        .filter(|o| o.censored)
        .count();
    assert!(censored > 100, "{censored} censored records");
    let model = Stein::with_iiv([false, true, true, true, false, false]);
    let problem = population_problem(&model, &data, None, &[], &[]).expect("problem");
    let settings = SaemSettings {
        seed: 7,
        ..SaemSettings::default()
    }
    .check()
    .expect("settings");
    let est = run_saem(&problem, &settings, &|_| {}).expect("SAEM");
    assert!(est.explored, "exploration ended by its rule");
    let params = model.parameters();
    let natural = |k: usize| params[k].to_natural(est.psi[k]);
    for (k, j) in [(1, 0), (2, 1), (3, 2)] {
        let tol = 3.0 * (OMEGA2[k] / n as f64).sqrt();
        let err = (natural(k) / TYPICAL[k]).ln().abs();
        assert!(
            err < tol,
            "{}: {} vs {}",
            params[k].name,
            natural(k),
            TYPICAL[k]
        );
        let w2 = est.omega[(j, j)];
        let tol = 3.0 * OMEGA2[k] * (2.0 / n as f64).sqrt();
        assert!((w2 - OMEGA2[k]).abs() < tol, "ω² {}: {w2}", params[k].name);
    }
    for k in [0, 4, 5] {
        let rel = natural(k) / TYPICAL[k] - 1.0;
        assert!(rel.abs() < 0.25, "{}: {}", params[k].name, natural(k));
    }
    assert!((natural(6) / 0.4 - 1.0).abs() < 0.10, "σ {}", natural(6));
    assert_eq!(est.layout.numeric, vec![0, 4, 5]);
}

/// C(t) = A·exp(−k·t), A and k log-normal, additive error: smooth and, with ten
/// samples per subject, well approximated by FOCE-I.
fn mono_exp() -> Decay {
    Decay::new(
        (10.0, Some(0.1)),
        (0.3, Some(0.1)),
        0.2,
        ErrorModel::Additive { a: 2 },
        None,
    )
}

/// 30 subjects, 10 samples over 0.5–12, A = 10·e^η (ω² 0.1), k = 0.3·e^η (ω² 0.1),
/// additive sd 0.2.
fn mono_exp_data(n: usize, seed: u64) -> Dataset {
    let mut r = rng(seed);
    let subjects = (0..n)
        .map(|i| {
            let za: f64 = StandardNormal.sample(&mut r);
            let zk: f64 = StandardNormal.sample(&mut r);
            let (a, k) = (
                10.0 * (0.1f64.sqrt() * za).exp(),
                0.3 * (0.1f64.sqrt() * zk).exp(),
            );
            let obs: Vec<(f64, f64, bool)> = (0..10)
                .map(|j| {
                    let t = 0.5 + 11.5 * j as f64 / 9.0;
                    let e: f64 = StandardNormal.sample(&mut r);
                    (t, a * (-k * t).exp() + 0.2 * e, false)
                })
                .collect();
            subject(&format!("M{i}"), "y", &obs, None)
        })
        .collect();
    in_memory(subjects)
}

#[test]
fn agrees_with_foce_on_a_smooth_well_sampled_model() {
    // The same data fitted by FOCE-I and by SAEM: estimates within FOCE's SEs, the
    // importance-sampling −2LL within 2 units of FOCE's −2LL (FOCE-I is close to exact
    // here: ten samples per subject and small IIV make p(η | y) nearly Gaussian), and
    // SAEM's stochastic-approximation (Louis) SEs within 35 % of FOCE's sandwich SEs
    // (under a correct model both estimate the same asymptotic covariance; the margin
    // is Monte-Carlo and finite-sample error).
    let model = mono_exp();
    let data = mono_exp_data(30, 11);
    let foce =
        fit_population(&model, &data, &PopulationOptions::default(), &|_| {}).expect("FOCE fit");
    assert!(foce.outer.converged, "{}", foce.outer.message);
    let se = foce.uncertainty.as_ref().expect("FOCE SEs");
    let mut options = SaemOptions::new(
        SaemSettings {
            seed: 3,
            is_samples: 2000,
            ..SaemSettings::default()
        }
        .check()
        .expect("settings"),
    );
    options.npde_replicates = 0;
    let saem = fit_saem(&model, &data, &options, &|_| {}).expect("SAEM fit");
    let params = model.parameters();
    let mut saem_q: Vec<f64> = (0..3).map(|k| params[k].to_natural(saem.psi[k])).collect();
    saem_q.extend([saem.omega[(0, 0)], saem.omega[(1, 1)]]);
    for (i, name) in se.names.iter().enumerate() {
        let d = (saem_q[i] - se.estimate[i]).abs();
        assert!(
            d < se.se[i],
            "{name}: SAEM {} FOCE {} ± {}",
            saem_q[i],
            se.estimate[i],
            se.se[i]
        );
    }
    let louis = saem.uncertainty.as_ref().expect("SAEM SEs");
    for (i, name) in se.names.iter().enumerate() {
        let ratio = louis.se[i] / se.se[i];
        assert!(
            (ratio - 1.0).abs() < 0.35,
            "{name}: SE SAEM {} FOCE {}",
            louis.se[i],
            se.se[i]
        );
    }
    let is = saem.importance.as_ref().expect("IS −2LL");
    assert!(is.se < 0.5, "Monte-Carlo SE {}", is.se);
    assert!(
        (is.neg2ll - foce.neg2ll()).abs() < 2.0,
        "IS {} ± {} vs FOCE {}",
        is.neg2ll,
        is.se,
        foce.neg2ll()
    );
}

#[test]
fn same_result_with_one_and_two_threads() {
    // The whole fit, not only the SAEM loop: the conditional distributions (and Louis's
    // information from them), the importance-sampling −2LL, the EBEs and the NPDE draw
    // from per-subject streams too, so every number must be the same bits.
    let model = Stein::with_iiv([true, true, true, true, false, false]);
    let data = stein_population(12, 5, 20.0);
    let mut options = SaemOptions::new(
        SaemSettings {
            k1_min: 20,
            k1_max: 20,
            k2_min: 10,
            k2_max: 10,
            auto_stop: false,
            posterior_iterations: 20,
            is_samples: 50,
            seed: 99,
            ..SaemSettings::default()
        }
        .check()
        .expect("settings"),
    );
    options.npde_replicates = 20;
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            let fit = fit_saem(&model, &data, &options, &|_| {}).expect("SAEM");
            let se = fit.uncertainty.as_ref().map(|u| u.se.clone()).ok();
            let is = fit.importance.as_ref().map(|i| (i.neg2ll, i.se));
            (
                fit.saem.trace.clone(),
                fit.psi.clone(),
                fit.conditional.mean.clone(),
                fit.conditional.sd.clone(),
                se,
                is,
                fit.linearised.neg2ll,
                fit.diagnostics.clone(),
            )
        })
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.0.len(), 30);
    assert!(one.4.is_some(), "standard errors computed");
    assert!(one.7.iter().any(|d| d.npde.iter().any(Option::is_some)));
    assert_eq!(one.0, two.0, "SAEM trace");
    assert_eq!(one.1, two.1, "estimates");
    assert_eq!(one.2, two.2, "conditional means");
    assert_eq!(one.3, two.3, "conditional SDs");
    assert_eq!(one.4, two.4, "standard errors");
    assert_eq!(one.5, two.5, "importance-sampling −2LL");
    assert_eq!(one.6, two.6, "linearised −2LL");
    assert_eq!(one.7, two.7, "diagnostics (NPDE)");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cartkin-saem-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn cli_fits_stein_to_the_example_with_censored_records() {
    let dir = scratch("example");
    let data = repo_file("data/example.csv");
    let out = cartkin_in(
        &dir,
        &[
            "fit",
            data.to_str().expect("utf-8 path"),
            "--model",
            "stein2019",
            "--method",
            "saem",
            "--fix",
            "fb=0.0079,beta=0.0032",
            "--k1",
            "60",
            "--k2",
            "30",
            "--no-auto-stop",
            "--is-samples",
            "200",
            "--npde-replicates",
            "50",
            "--covariance",
            "none",
            "--seed",
            "4",
            "--out",
            "fit",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let run: serde_json::Value =
        serde_json::from_str(&read(dir.join("fit/run.json"))).expect("run.json");
    assert_eq!(run["method"], "saem");
    assert_eq!(run["neg2ll_method"], "importance_sampling");
    assert_eq!(run["linearisation"], "Laplacian");
    assert_eq!(run["observations"]["censored"], 100);
    assert_eq!(run["convergence"]["k1"], 60);
    assert_eq!(run["convergence"]["k2"], 30);
    assert!(run["neg2ll_se"].as_f64().expect("se") > 0.0);
    let trace = read(dir.join("fit/saem_trace.csv"));
    assert_eq!(trace.lines().count(), 1 + 90);
    assert!(trace.starts_with("iteration,phase,gamma,foldx,tmax,cmax,alpha,sigma,omega2_foldx"));
    let individual = read(dir.join("fit/individual.csv"));
    let header = individual.lines().next().expect("header");
    assert!(header.contains("eta_cmax") && header.contains("cmean_eta_cmax"));
    assert!(header.contains("csd_eta_alpha"));
    assert_eq!(individual.lines().count(), 1 + 18);
    // the example's covariates at baseline beside the η of individual.csv
    let eta_covariates = read(dir.join("fit/eta_covariates.csv"));
    let mut lines = eta_covariates.lines();
    assert_eq!(
        lines.next(),
        Some("id,DOSE,WT,eta_foldx,eta_tmax,eta_cmax,eta_alpha")
    );
    let etas: Vec<&str> = individual
        .lines()
        .nth(1)
        .expect("subject 1")
        .split(',')
        .skip(6)
        .take(4)
        .collect();
    let first = format!("1,25000000,62.95497208748437,{}", etas.join(","));
    assert_eq!(lines.next(), Some(first.as_str()));
    assert_eq!(eta_covariates.lines().count(), 1 + 18);
    let params = read(dir.join("fit/parameters.csv"));
    assert!(params.contains("\nomega2_cmax,") && params.contains("\nshrinkage_eta_tmax,"));
    let predictions = read(dir.join("fit/predictions.csv"));
    let npde_present = predictions
        .lines()
        .skip(1)
        .filter(|l| !l.ends_with(','))
        .count();
    assert_eq!(npde_present, 252, "every transgene record has an NPDE");
}

#[test]
fn cli_fits_the_nonmem_theophylline_file() {
    // A plain NONMEM file (ID, TIME, DV, AMT, EVID, CMT, WT; hours), the ODE model it was
    // simulated from; SEs by linearisation (2R⁻¹).
    let dir = scratch("theoph");
    let data = repo_file("data/theoph_nonmem.csv");
    let model = repo_file("data/theoph/theoph.model");
    let out = cartkin_in(
        &dir,
        &[
            "fit",
            data.to_str().expect("utf-8 path"),
            "--model",
            model.to_str().expect("utf-8 path"),
            "--time-unit",
            "hours",
            "--method",
            "saem",
            "--k1",
            "40",
            "--k2",
            "20",
            "--no-auto-stop",
            "--is-samples",
            "100",
            "--npde-replicates",
            "0",
            "--se",
            "linearisation",
            "--out",
            "fit",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let run: serde_json::Value =
        serde_json::from_str(&read(dir.join("fit/run.json"))).expect("run.json");
    assert_eq!(run["n_subjects"], 12);
    assert_eq!(run["linearisation"], "FOCE-I");
    assert!(run["standard_errors"]
        .as_str()
        .expect("text")
        .starts_with("linearisation"));
    assert!(run["neg2ll"].as_f64().expect("−2LL").is_finite());
}

#[test]
fn cli_refuses_bad_settings() {
    let dir = scratch("bad");
    let data = repo_file("data/example.csv");
    for (flag, value, says) in [
        ("--k1", "0", "k1 = 0"),
        ("--chains", "0", "chains = 0"),
        ("--is-samples", "1", "is_samples = 1"),
    ] {
        let out = cartkin_in(
            &dir,
            &[
                "fit",
                data.to_str().expect("utf-8 path"),
                "--model",
                "stein2019",
                "--method",
                "saem",
                flag,
                value,
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag} {value}: {stderr}");
        assert!(stderr.contains(says), "{flag} {value}: {stderr}");
    }
}

#[test]
fn cli_fits_a_nonmem_multiple_dose_dataset_and_recovers_the_truth() {
    // The NONMEM-style design of tests/it/estimate_foce_recovery.rs (ID, TIME, DV, AMT,
    // EVID, ADDL, II, WT, SEX; hours): 40 subjects given 100 mg IV every 12 h (one dose
    // record with ADDL 2, II 12), six samples over 48 h; one compartment, CL ∝ (WT/70)^CL_WT,
    // V·(1 + V_SEX) for SEX 1, η on CL (ω² 0.09) and V (ω² 0.04), 10 % proportional
    // error. DV simulated by `cartkin simulate --data` from the true values (the same
    // seed as the FOCE test); SAEM starts from other values for every estimate.
    // Recovery, two ways: (1) each estimate within 3 of its own (Louis) SE of the truth,
    // with RSE < 50 % (so a vague SE cannot pass); (2) independently of the SEs, from
    // the sampling error of N = 40 subjects: CL and V within 3√(ω²/N) on the log scale
    // (14 %, 9.5 %), ω² within 3ω²√(2/N) (SE of a variance), cv within 15 %.
    use crate::estimate_foce_recovery::{design, start_model, TRUTH, VALUES};
    use std::collections::HashMap;
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    std::fs::write(dir.join("truth.model"), TRUTH).expect("write");
    std::fs::write(dir.join("start.model"), start_model()).expect("write");
    std::fs::write(dir.join("design.csv"), design()).expect("write");
    let ok = |args: &[&str]| {
        let o = cartkin_in(dir, args);
        assert!(
            o.status.success(),
            "cartkin {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    ok(&[
        "simulate",
        "--data",
        "design.csv",
        "--model",
        "truth.model",
        "--time-unit",
        "hours",
        "--n",
        "1",
        "--with-error",
        "--as-dataset",
        "--seed",
        "20261201",
        "--out",
        "sim",
    ]);
    // The simulated file is still NONMEM-style: one dose record per subject with ADDL/II.
    let data = read(dir.join("sim/dataset.csv"));
    assert!(
        data.starts_with("ID,TIME,DV,AMT,EVID,ADDL,II,WT,SEX\n"),
        "{data:.60}"
    );
    assert_eq!(data.lines().filter(|l| l.contains(",1,2,12,")).count(), 40);
    ok(&[
        "fit",
        "sim/dataset.csv",
        "--model",
        "start.model",
        "--time-unit",
        "hours",
        "--method",
        "saem",
        "--is-samples",
        "200",
        "--npde-replicates",
        "0",
        "--no-plots",
        "--seed",
        "1",
        "--out",
        "fit",
    ]);
    let run: serde_json::Value =
        serde_json::from_str(&read(dir.join("fit/run.json"))).expect("run.json");
    assert_eq!(run["converged"], true, "{}", run["convergence"]);
    assert_eq!(run["convergence"]["exploration_stopped_by_rule"], true);
    assert_eq!(run["n_subjects"], 40);
    assert_eq!(run["observations"]["used"], 240);
    assert_eq!(
        run["numerical_m_step"],
        serde_json::json!(["CL_WT", "V_SEX"])
    );
    // a healthy fit: no variance collapsed or exploded
    assert_eq!(
        run["warnings"],
        serde_json::json!([]),
        "{}",
        run["warnings"]
    );
    let iterations = run["convergence"]["k1"].as_u64().expect("k1")
        + run["convergence"]["k2"].as_u64().expect("k2");
    let trace = read(dir.join("fit/saem_trace.csv"));
    assert_eq!(trace.lines().count() as u64, 1 + iterations);
    assert_eq!(read(dir.join("fit/individual.csv")).lines().count(), 1 + 40);
    assert_eq!(
        read(dir.join("fit/predictions.csv")).lines().count(),
        1 + 240
    );

    let mut reader = csv::Reader::from_path(dir.join("fit/parameters.csv")).expect("csv");
    let rows: HashMap<String, (f64, f64)> = reader
        .deserialize::<HashMap<String, String>>()
        .map(|r| {
            let r = r.expect("row");
            let num = |c: &str| r[c].parse::<f64>().unwrap_or(f64::NAN);
            (r["parameter"].clone(), (num("estimate"), num("se")))
        })
        .collect();
    let n = 40.0_f64;
    for (name, truth, start) in VALUES {
        let (est, se) = rows[name];
        assert!(se.is_finite() && se > 0.0, "{name}: SE {se}");
        assert!(se < 0.5 * truth.abs().max(0.1), "{name}: SE {se} is vague");
        assert!(
            (est - truth).abs() < 3.0 * se,
            "{name}: estimate {est} ± {se}, truth {truth} (start {start})"
        );
        let sampling_ok = match name {
            "CL" => (est / truth).ln().abs() < 3.0 * (0.09 / n).sqrt(),
            "V" => (est / truth).ln().abs() < 3.0 * (0.04 / n).sqrt(),
            "omega2_CL" | "omega2_V" => (est - truth).abs() < 3.0 * truth * (2.0 / n).sqrt(),
            "cv" => (est / truth - 1.0).abs() < 0.15,
            _ => true,
        };
        assert!(sampling_ok, "{name}: estimate {est}, truth {truth}");
    }
}

/// The README's main job: default settings on the example. Standard errors are
/// reported: from Louis's information, or — when that estimate of the information is
/// not positive definite, as on these 18 subjects — from the linearised covariance step,
/// with run.json saying so and why.
#[test]
fn readme_main_job_reports_standard_errors() {
    let dir = scratch("readme");
    let data = repo_file("data/example.csv");
    let out = cartkin_in(
        &dir,
        &[
            "fit",
            data.to_str().expect("utf-8 path"),
            "--model",
            "stein2019",
            "--method",
            "saem",
            "--fix",
            "fb=0.0079,beta=0.0032",
            "--seed",
            "1",
            "--no-plots",
            "--out",
            "fit",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value =
        serde_json::from_str(&read(dir.join("fit/run.json"))).expect("run.json");
    let how = run["standard_errors"].as_str().expect("standard_errors");
    assert!(
        how.starts_with("stochastic approximation")
            || how.contains("because the stochastic-approximation (Louis) information failed: "),
        "{how}"
    );
    assert_eq!(run["covariance"]["status"], "ok", "{how}");
    let params = read(dir.join("fit/parameters.csv"));
    for name in ["foldx", "tmax", "cmax", "alpha", "sigma", "omega2_cmax"] {
        let row: Vec<&str> = params
            .lines()
            .find(|l| l.starts_with(&format!("{name},")))
            .unwrap_or_else(|| panic!("{name} in parameters.csv"))
            .split(',')
            .collect();
        let se: f64 = row[2]
            .parse()
            .unwrap_or_else(|_| panic!("{name}: se '{}'", row[2]));
        assert!(se > 0.0 && se.is_finite(), "{name}: se {se}");
    }
}
