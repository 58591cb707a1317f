//! Three transgene profiles of `data/example.csv` (S01, S08, S14; LLOQ 20 copies/µg)
//! against an independent Python implementation written from PKNCA's definitions
//! (numpy-free loops, `scipy.stats.linregress` for λz; SciPy 1.17.1). Agreement to
//! relative 1e-12: both compute the same formulas, so only round-off differs.
//!
//! The reference script (run with the SciPy venv):
//! ```text
//! def seg(t1,c1,t2,c2,linear):                      # one trapezoid
//!     if not linear and c2 < c1 and c2 > 0: return (t2-t1)*(c1-c2)/math.log(c1/c2)
//!     return (t2-t1)*(c1+c2)/2
//! def interp(t1,c1,t2,c2,t,linear):                 # log interpolation in log-down
//!     if not linear and c2 < c1 and c2 > 0:
//!         return math.exp(math.log(c1)+(math.log(c2)-math.log(c1))*(t-t1)/(t2-t1))
//!     return c1+(c2-c1)*(t-t1)/(t2-t1)
//! # BLQ before the first quantifiable = 0, after Tlast dropped; AUC0-x sums whole
//! # intervals to x and the part [t1, x] of the interval holding x via interp().
//! # λz: last n = 3.. points after Tmax, linregress on log C, adj R² = 1-(1-R²)(n-1)/(n-2);
//! # best over all fits, keep λz > 0 and adj > best - 1e-4, then the most points.
//! ```

use approx::assert_relative_eq;
use cartkin::nca::{analyse, AucMethod, NcaSettings, Profile, Sample};

fn profile(values: &[(f64, Option<f64>)]) -> Profile {
    Profile::new(
        values
            .iter()
            .map(|&(t, v)| match v {
                Some(c) => Sample::measured(t, c),
                None => Sample::blq(t, 20.0),
            })
            .collect(),
    )
    .unwrap()
}

const DAYS: [f64; 13] = [
    0.0, 1.0, 4.0, 7.0, 10.0, 14.0, 21.0, 28.0, 56.0, 84.0, 168.0, 252.0, 365.0,
];

fn subject(values: [Option<f64>; 13]) -> Profile {
    let v: Vec<(f64, Option<f64>)> = DAYS.iter().copied().zip(values).collect();
    profile(&v)
}

struct Reference {
    profile: Profile,
    cmax: f64,
    tmax: f64,
    /// AUClast, AUC0–28, AUC0–50 by linear-up/log-down
    linlog: [f64; 3],
    /// the same by the linear rule
    linear: [f64; 3],
    lambda_z_points: usize,
    lambda_z: f64,
    r_squared: f64,
    adj_r_squared: f64,
}

fn references() -> Vec<Reference> {
    vec![
        Reference {
            profile: subject([
                None,
                None,
                Some(1980.0),
                Some(8280.0),
                Some(5920.0),
                Some(3700.0),
                Some(3920.0),
                Some(3250.0),
                Some(512.0),
                Some(263.0),
                None,
                None,
                None,
            ]),
            cmax: 8280.0,
            tmax: 7.0,
            linlog: [161996.3925805077, 110047.6790232136, 147761.3999705067],
            linear: [174183.0, 110665.0, 158500.85714285716],
            // adj R² of the 3, 4, 5, 6-point fits: 0.862787, 0.934857, 0.93759, 0.952394
            lambda_z_points: 6,
            lambda_z: 0.04350836213365225,
            r_squared: 0.9619155181038862,
            adj_r_squared: 0.9523943976298578,
        },
        Reference {
            profile: subject([
                None,
                None,
                Some(352.0),
                Some(2520.0),
                Some(3290.0),
                Some(2680.0),
                Some(2180.0),
                Some(702.0),
                Some(100.0),
                None,
                None,
                None,
                None,
            ]),
            cmax: 3290.0,
            tmax: 10.0,
            linlog: [60179.062624271384, 51529.474083200235, 59434.36284949154],
            linear: [63816.0, 52588.0, 62829.0],
            lambda_z_points: 4,
            lambda_z: 0.08081571437980073,
            r_squared: 0.9754535173699865,
            adj_r_squared: 0.9631802760549798,
        },
        Reference {
            profile: subject([
                None,
                Some(23.2),
                Some(497.0),
                Some(2840.0),
                Some(1920.0),
                Some(2540.0),
                Some(1550.0),
                Some(1520.0),
                Some(310.0),
                Some(117.0),
                None,
                None,
                None,
            ]),
            cmax: 2840.0,
            tmax: 7.0,
            linlog: [73398.75967754907, 46543.16744360534, 65636.66245784811],
            linear: [78515.4, 46917.4, 69899.54285714286],
            // adj R² 3..6 points: 0.962316, 0.97461, 0.982803, 0.967315 → 5 points
            lambda_z_points: 5,
            lambda_z: 0.04443983141718709,
            r_squared: 0.9871022240097833,
            adj_r_squared: 0.9828029653463778,
        },
    ]
}

#[test]
fn example_transgene_profiles_match_the_independent_python_implementation() {
    for (i, r) in references().iter().enumerate() {
        for (method, expected) in [
            (AucMethod::LinearUpLogDown, r.linlog),
            (AucMethod::Linear, r.linear),
        ] {
            let s = NcaSettings {
                method,
                partial_ends: vec![28.0, 50.0],
                ..Default::default()
            }
            .check()
            .unwrap();
            let res = analyse(&r.profile, &s).unwrap();
            assert_eq!(
                (res.cmax, res.tmax),
                (Some(r.cmax), Some(r.tmax)),
                "profile {i}"
            );
            assert_relative_eq!(res.auclast.unwrap(), expected[0], max_relative = 1e-12);
            assert_relative_eq!(
                res.partial[0].value.unwrap(),
                expected[1],
                max_relative = 1e-12
            );
            assert_relative_eq!(
                res.partial[1].value.unwrap(),
                expected[2],
                max_relative = 1e-12
            );
            let l = res.lambda_z.unwrap();
            assert_eq!(l.n_points(), r.lambda_z_points, "profile {i}");
            assert_relative_eq!(l.lambda_z, r.lambda_z, max_relative = 1e-12);
            assert_relative_eq!(l.r_squared, r.r_squared, max_relative = 1e-12);
            assert_relative_eq!(l.adj_r_squared, r.adj_r_squared, max_relative = 1e-12);
        }
    }
}
