//! Simulating a fitted model (`cartkin simulate --fit DIR`): typical values and
//! between-subject variances read from a fit directory, checked against values computed
//! by hand, and the whole path fit → simulate through the binary.

use std::path::Path;
use std::process::Command;

use approx::assert_relative_eq;
use cartkin::model::Model;
use cartkin::simulate::from_fit::FittedPopulation;
use cartkin::simulate::Omega;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn typical_values_and_variances_by_hand() {
    let model = Model::load("stein2019").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // Two estimated parameters (cmax, alpha) and the residual sigma; the others fixed.
    write(
        tmp.path(),
        "parameters.csv",
        "parameter,estimate,se,rse_pct,ci_low,ci_high,cv_pct,median,min,max,n,fixed\n\
         foldx,3900,,,,,,,,,0,true\n\
         cmax,2000,1,1,1,1,1,1,1,1,3,false\n\
         alpha,0.2,1,1,1,1,1,1,1,1,3,false\n\
         sigma,0.5,1,1,1,1,1,1,1,1,3,false\n",
    );
    // Three subjects reach an optimum, one does not (left out of the variances).
    write(
        tmp.path(),
        "individual.csv",
        "id,status,cmax,alpha,sigma\n\
         1,converged,1000,0.1,0.4\n\
         2,hessian_not_pd,2000,0.2,0.5\n\
         3,converged,4000,0.4,0.6\n\
         4,not_converged,99999,9,9\n",
    );
    let fitted = FittedPopulation::read(tmp.path(), &model).unwrap();
    assert_eq!(fitted.subjects, 3);
    assert_eq!(
        fitted.typical,
        vec![
            ("cmax".to_string(), 2000.0),
            ("alpha".to_string(), 0.2),
            ("sigma".to_string(), 0.5)
        ]
    );
    let Omega::Full { parameters, matrix } = &fitted.omega else {
        panic!("expected a full Omega, got {:?}", fitted.omega);
    };
    // By hand: log 1000, log 2000, log 4000 are equally spaced by ln 2, so their sample
    // variance (n − 1 = 2) is (ln2² + 0 + ln2²)/2 = ln2²; the same for 0.1, 0.2, 0.4.
    // Parameters not estimated keep the model's ω² (stein2019.model: foldx 2.4, tmax
    // 0.38, fb 0.8, beta 0.86); sigma (residual) gets no random effect.
    let ln2sq = std::f64::consts::LN_2.powi(2);
    let expected = [
        ("foldx", 2.4),
        ("tmax", 0.38),
        ("cmax", ln2sq),
        ("alpha", ln2sq),
        ("fb", 0.8),
        ("beta", 0.86),
    ];
    assert_eq!(
        parameters,
        &expected
            .iter()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
    );
    let m = expected.len();
    for (i, (_, v)) in expected.iter().enumerate() {
        for j in 0..m {
            let want = if i == j { *v } else { 0.0 };
            assert_relative_eq!(matrix[i * m + j], want, max_relative = 1e-12);
        }
    }

    // Bad input names the file and line.
    write(
        tmp.path(),
        "individual.csv",
        "id,status,cmax,alpha,sigma\n1,converged,1000,0.1,0.4\n2,converged,x,0.2,0.5\n",
    );
    let e = FittedPopulation::read(tmp.path(), &model)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("individual.csv:3") && e.contains("`cmax`"),
        "{e}"
    );
}

#[test]
fn fit_then_simulate_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example.csv");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cartkin"))
            .current_dir(tmp.path())
            .args(args)
            .output()
            .unwrap()
    };
    let fit = run(&[
        "fit",
        data.to_str().unwrap(),
        "--model",
        "stein2019",
        "--out",
        "fit",
    ]);
    assert_eq!(fit.status.code(), Some(0));
    let sim = run(&[
        "simulate", "--fit", "fit", "--dose", "50e6", "--n", "50", "--out", "sim",
    ]);
    let err = String::from_utf8_lossy(&sim.stderr);
    assert_eq!(sim.status.code(), Some(0), "{err}");
    // The simulation's typical values are the fit's estimates (parameters.csv).
    let params = std::fs::read_to_string(tmp.path().join("fit/parameters.csv")).unwrap();
    let runjson: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("sim/run.json")).unwrap())
            .unwrap();
    assert_eq!(runjson["model"]["name"], "stein2019");
    for line in params.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[11] != "false" {
            continue;
        }
        let estimate: f64 = f[1].parse().unwrap();
        let used = runjson["settings"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == f[0])
            .unwrap_or_else(|| panic!("{} not in run.json", f[0]))["typical"]
            .as_f64()
            .unwrap();
        // run.json holds the same shortest decimal as parameters.csv, but serde_json's
        // default float parsing (without its `float_roundtrip` feature) may read it one
        // ulp off (seen: 9277.845276934839 read as 9277.84527693484): 2 ulp allowed
        assert!(
            (used - estimate).abs() <= 2.0 * f64::EPSILON * estimate.abs(),
            "{}: {used} vs {estimate}",
            f[0]
        );
    }

    // A fit directory without run.json: a clear error, exit 1.
    let bad = run(&[
        "simulate", "--fit", "nowhere", "--dose", "50e6", "--out", "x",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--fit: cannot read nowhere/run.json"));
}

#[test]
fn a_moved_fit_directory_finds_its_model_file() {
    // A project with its model file and a fit of it; the whole project is then moved and
    // simulated from elsewhere: the model is found relative to the fit directory
    // (run.json model.path = ../m.model), not relative to the current directory.
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let source = Model::load("stein2019").unwrap().source().to_string();
    write(&project, "m.model", &source);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example.csv");
    let run = |cwd: &Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cartkin"))
            .current_dir(cwd)
            .args(args)
            .output()
            .unwrap()
    };
    let fit = run(
        &project,
        &[
            "fit",
            data.to_str().unwrap(),
            "--model",
            "m.model",
            "--out",
            "fit",
        ],
    );
    assert_eq!(
        fit.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fit.stderr)
    );
    let fit_run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("fit/run.json")).unwrap())
            .unwrap();
    assert_eq!(fit_run["model"]["origin"], "m.model");
    assert_eq!(fit_run["model"]["path"], "../m.model");

    let moved = tmp.path().join("moved");
    std::fs::rename(&project, &moved).unwrap();
    let args = [
        "simulate",
        "--fit",
        "moved/fit",
        "--dose",
        "50e6",
        "--n",
        "5",
        "--out",
    ];
    let sim = run(tmp.path(), &[&args[..], &["sim"]].concat());
    assert_eq!(
        sim.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let sim_run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("sim/run.json")).unwrap())
            .unwrap();
    assert_eq!(sim_run["model"]["sha256"], fit_run["model"]["sha256"]);

    // A model file changed since the fit is refused with its path.
    write(&moved, "m.model", &format!("{source}\n# edited\n"));
    let changed = run(tmp.path(), &[&args[..], &["sim2"]].concat());
    assert_eq!(changed.status.code(), Some(1));
    let err = String::from_utf8_lossy(&changed.stderr);
    assert!(err.contains("has changed since the fit"), "{err}");
    assert!(err.contains("m.model"), "{err}");
}
