//! −2LL of the four error models and of Beal M3 censored records against the formulas
//! written out by hand (module docs of cartkin::estimate::likelihood), including the
//! finite penalty for non-positive predictions under logadd.

use approx::assert_relative_eq;
use cartkin::data::{Analyte, Covariates, Observation, Subject};
use cartkin::estimate::{ln_phi, neg2ll, Records};
use cartkin::model::{
    ErrorModel, Individual, Output, Parameter, Predict, PredictError, Role, Transform,
};

/// Four outputs with add(a), prop(b), combined(a, b), logadd(c); prediction = θ[3].
struct Four {
    params: Vec<Parameter>,
    outputs: Vec<Output>,
}

fn p(name: &str, v: f64) -> Parameter {
    Parameter {
        name: name.into(),
        typical: v,
        unit: String::new(),
        lower: 0.0,
        upper: f64::INFINITY,
        transform: Transform::Log,
        omega2: None,
        fixed: false,
        role: Role::Residual,
    }
}

fn out(name: &str, error: ErrorModel) -> Output {
    Output {
        analyte: Analyte::new(name),
        unit: String::new(),
        error,
        lloq: None,
    }
}

impl Four {
    fn new() -> Four {
        Four {
            params: vec![p("a", 0.5), p("b", 0.2), p("c", 0.3), p("f", 10.0)],
            outputs: vec![
                out("add", ErrorModel::Additive { a: 0 }),
                out("prop", ErrorModel::Proportional { b: 1 }),
                out("comb", ErrorModel::Combined { a: 0, b: 1 }),
                out("logadd", ErrorModel::LogAdditive { a: 2 }),
            ],
        }
    }
}

impl Predict for Four {
    fn name(&self) -> &str {
        "four"
    }
    fn parameters(&self) -> &[Parameter] {
        &self.params
    }
    fn outputs(&self) -> &[Output] {
        &self.outputs
    }
    fn predict(
        &self,
        theta: &[f64],
        _: &Individual<'_>,
        _: &[f64],
        _: &[usize],
        out: &mut [f64],
    ) -> Result<(), PredictError> {
        out.fill(theta[3]);
        Ok(())
    }
}

fn records(model: &Four, obs: &[(&str, f64, bool)]) -> Records {
    let subject = Subject {
        id: "X".into(),
        observations: obs
            .iter()
            .enumerate()
            .map(|(i, &(a, v, c))| Observation {
                time: i as f64,
                analyte: Analyte::new(a),
                value: v,
                censored: c,
                lloq: None,
                line: i + 2,
            })
            .collect(),
        doses: vec![],
        covariates: Covariates::default(),
    };
    Records::from_subject(&subject, model, None).unwrap().0
}

const LN_2PI: f64 = 1.837_877_066_409_345_5;

#[test]
fn each_error_model_matches_its_hand_formula() {
    let m = Four::new();
    let theta = [0.5, 0.2, 0.3, 10.0];
    let (a, b, c, f) = (0.5f64, 0.2f64, 0.3f64, 10.0f64);
    let cases: [(&str, f64, f64); 4] = [
        // (analyte, y, expected −2LL)
        ("add", 11.0, LN_2PI + 2.0 * a.ln() + (1.0 / a).powi(2)),
        (
            "prop",
            12.0,
            LN_2PI + 2.0 * (b * f).ln() + (2.0 / (b * f)).powi(2),
        ),
        (
            "comb",
            9.0,
            LN_2PI + (a * a + b * b * f * f).ln() + 1.0 / (a * a + b * b * f * f),
        ),
        (
            "logadd",
            13.0,
            LN_2PI + 2.0 * c.ln() + ((13f64.ln() - f.ln()) / c).powi(2) + 2.0 * 13f64.ln(),
        ),
    ];
    for (analyte, y, want) in cases {
        let r = records(&m, &[(analyte, y, false)]);
        let got = neg2ll(&m, &r, &theta, &[f]).unwrap();
        assert_relative_eq!(got, want, max_relative = 1e-14);
    }
    // Censored (M3) on each scale: −2 ln Φ((g(L) − g(f))/s).
    let cens: [(&str, f64, f64); 4] = [
        ("add", 9.0, -2.0 * ln_phi((9.0 - f) / a)),
        ("prop", 9.0, -2.0 * ln_phi((9.0 - f) / (b * f))),
        (
            "comb",
            9.0,
            -2.0 * ln_phi((9.0 - f) / (a * a + b * b * f * f).sqrt()),
        ),
        ("logadd", 9.0, -2.0 * ln_phi((9f64.ln() - f.ln()) / c)),
    ];
    for (analyte, lloq, want) in cens {
        let r = records(&m, &[(analyte, lloq, true)]);
        let got = neg2ll(&m, &r, &theta, &[f]).unwrap();
        assert_relative_eq!(got, want, max_relative = 1e-14);
    }
    // A sum over records is the sum of the parts.
    let r = records(&m, &[("add", 11.0, false), ("logadd", 9.0, true)]);
    let got = neg2ll(&m, &r, &theta, &[f, f]).unwrap();
    let want = LN_2PI + 2.0 * a.ln() + 4.0 - 2.0 * ln_phi((9f64.ln() - f.ln()) / c);
    assert_relative_eq!(got, want, max_relative = 1e-14);
}

#[test]
fn non_positive_predictions_under_logadd_get_the_documented_finite_penalty() {
    let m = Four::new();
    let theta = [0.5, 0.2, 0.3, 10.0];
    let r = records(&m, &[("logadd", 13.0, false)]);
    let c = 0.3f64;
    // f ≤ 0 is evaluated at f = 1e-300 (LOG_FLOOR).
    let want =
        LN_2PI + 2.0 * c.ln() + ((13f64.ln() - 1e-300f64.ln()) / c).powi(2) + 2.0 * 13f64.ln();
    for f in [0.0, -5.0] {
        let got = neg2ll(&m, &r, &theta, &[f]).unwrap();
        assert!(got.is_finite());
        assert_relative_eq!(got, want, max_relative = 1e-14);
    }
    // Proportional error at f = 0: zero SD is an error, not NaN.
    let r = records(&m, &[("prop", 1.0, false)]);
    assert!(neg2ll(&m, &r, &theta, &[0.0]).is_err());
    // A non-positive observation under logadd is refused with its line.
    let subject = Subject {
        id: "X".into(),
        observations: vec![Observation {
            time: 1.0,
            analyte: Analyte::new("logadd"),
            value: 0.0,
            censored: false,
            lloq: None,
            line: 7,
        }],
        doses: vec![],
        covariates: Covariates::default(),
    };
    let e = Records::from_subject(&subject, &m, None).unwrap_err();
    assert!(e.to_string().contains("line 7"), "{e}");
}
