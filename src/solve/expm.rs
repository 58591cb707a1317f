//! The matrix exponential e^A of a small dense matrix by scaling and squaring with
//! diagonal Padé approximants (Higham 2005, "The scaling and squaring method for the
//! matrix exponential revisited", SIAM J. Matrix Anal. Appl. 26:1179, Algorithm 2.3):
//!
//! ```text
//! r_m(A) = Q_m(A)⁻¹ P_m(A),   P_m = V + U,  Q_m = V − U   (U odd, V even in A)
//! ‖A‖₁ ≤ θ_m for m = 3, 5, 7, 9:  e^A ≈ r_m(A)
//! otherwise:                       e^A ≈ r_13(A/2^s)^(2^s),  s = ⌈log₂(‖A‖₁/θ_13)⌉
//! ```
//!
//! with Higham's θ_m and Padé coefficients b_k (his Table 2.3 and eq. (2.10)); the
//! backward error is below the unit roundoff. Row-major buffers, no allocation after
//! the workspace is sized (the linear solver calls it once per output time).

use super::linalg::{lu_factor, lu_solve};

/// θ_m of Higham (2005), Table 2.3, for m = 3, 5, 7, 9, 13.
const THETA: [f64; 5] = [
    1.495_585_217_958_292e-2,
    2.539_398_330_063_23e-1,
    9.504_178_996_162_932e-1,
    2.097_847_961_257_068,
    5.371_920_351_148_152,
];

/// Padé coefficients b_0..b_m for m = 3, 5, 7, 9.
const B3: [f64; 4] = [120.0, 60.0, 12.0, 1.0];
const B5: [f64; 6] = [30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0];
const B7: [f64; 8] = [
    17_297_280.0,
    8_648_640.0,
    1_995_840.0,
    277_200.0,
    25_200.0,
    1_512.0,
    56.0,
    1.0,
];
const B9: [f64; 10] = [
    17_643_225_600.0,
    8_821_612_800.0,
    2_075_673_600.0,
    302_702_400.0,
    30_270_240.0,
    2_162_160.0,
    110_880.0,
    3_960.0,
    90.0,
    1.0,
];
/// b_0..b_13.
const B13: [f64; 14] = [
    64_764_752_532_480_000.0,
    32_382_376_266_240_000.0,
    7_771_770_303_897_600.0,
    1_187_353_796_428_800.0,
    129_060_195_264_000.0,
    10_559_470_521_600.0,
    670_442_572_800.0,
    33_522_128_640.0,
    1_323_241_920.0,
    40_840_800.0,
    960_960.0,
    16_380.0,
    182.0,
    1.0,
];

/// Workspace of [`Expm::exp`] for n×n matrices.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expm {
    n: usize,
    /// A (scaled), A², A⁴, A⁶, A⁸.
    powers: [Vec<f64>; 5],
    u: Vec<f64>,
    v: Vec<f64>,
    work: Vec<f64>,
    piv: Vec<usize>,
    column: Vec<f64>,
}

impl Expm {
    fn resize(&mut self, n: usize) {
        if self.n == n {
            return;
        }
        self.n = n;
        for p in &mut self.powers {
            p.resize(n * n, 0.0);
        }
        self.u.resize(n * n, 0.0);
        self.v.resize(n * n, 0.0);
        self.work.resize(n * n, 0.0);
        self.piv.resize(n, 0);
        self.column.resize(n, 0.0);
    }

    /// e^A into `out` for the row-major n×n `a`; `None` when A is not finite or the
    /// Padé denominator is singular (it is not for a finite A: Higham 2005, §2).
    pub fn exp(&mut self, a: &[f64], n: usize, out: &mut [f64]) -> Option<()> {
        self.resize(n);
        let norm = (0..n)
            .map(|j| (0..n).map(|i| a[i * n + j].abs()).sum::<f64>())
            .fold(0.0, f64::max);
        if !norm.is_finite() {
            return None;
        }
        let low: [(&[f64], f64); 4] = [
            (&B3, THETA[0]),
            (&B5, THETA[1]),
            (&B7, THETA[2]),
            (&B9, THETA[3]),
        ];
        let chosen = low.iter().find(|(_, theta)| norm <= *theta);
        let squarings = match chosen {
            Some((b, _)) => {
                self.powers[0].copy_from_slice(a);
                self.even_powers(b.len() / 2 - 1);
                self.pade_low(b);
                0
            }
            None => {
                let s = (norm / THETA[4]).log2().ceil().max(0.0) as i32;
                let scale = 0.5f64.powi(s);
                for (x, y) in self.powers[0].iter_mut().zip(a) {
                    *x = y * scale;
                }
                self.even_powers(3);
                self.pade13();
                s
            }
        };
        self.solve(out)?;
        for _ in 0..squarings {
            self.work.copy_from_slice(out);
            mul(&self.work, &self.work, out, n);
        }
        Some(())
    }

    /// A², A⁴, … A^(2k) into powers[1..=k] from powers[0].
    fn even_powers(&mut self, k: usize) {
        let n = self.n;
        let (first, rest) = self.powers.split_at_mut(1);
        mul(&first[0], &first[0], &mut rest[0], n);
        for j in 1..k {
            let (done, next) = rest.split_at_mut(j);
            let (last, a2) = (&done[j - 1], &done[0]);
            mul(last, a2, &mut next[0], n);
        }
    }

    /// U = A·Σ b_{2k+1} A^{2k}, V = Σ b_{2k} A^{2k} for m = b.len() − 1 ≤ 9.
    fn pade_low(&mut self, b: &[f64]) {
        let (n, half) = (self.n, b.len() / 2);
        for (i, (w, v)) in self.work.iter_mut().zip(self.v.iter_mut()).enumerate() {
            let (mut odd, mut even) = (0.0, 0.0);
            for k in 1..half {
                let p = self.powers[k][i];
                odd += b[2 * k + 1] * p;
                even += b[2 * k] * p;
            }
            if i % (n + 1) == 0 {
                odd += b[1];
                even += b[0];
            }
            *w = odd;
            *v = even;
        }
        mul(&self.powers[0], &self.work, &mut self.u, n);
    }

    /// U and V of the [13/13] approximant (Higham 2005, eq. (2.10)).
    fn pade13(&mut self) {
        let n = self.n;
        let b = &B13;
        // U = A·[A⁶(b13 A⁶ + b11 A⁴ + b9 A²) + b7 A⁶ + b5 A⁴ + b3 A² + b1 I]
        combine(
            &mut self.u,
            n,
            &self.powers,
            &[(b[13], 3), (b[11], 2), (b[9], 1)],
            0.0,
        );
        mul(&self.powers[3], &self.u, &mut self.v, n);
        combine(
            &mut self.work,
            n,
            &self.powers,
            &[(b[7], 3), (b[5], 2), (b[3], 1)],
            b[1],
        );
        for (w, x) in self.work.iter_mut().zip(&self.v) {
            *w += x;
        }
        mul(&self.powers[0], &self.work, &mut self.u, n);
        // V = A⁶(b12 A⁶ + b10 A⁴ + b8 A²) + b6 A⁶ + b4 A⁴ + b2 A² + b0 I
        combine(
            &mut self.work,
            n,
            &self.powers,
            &[(b[12], 3), (b[10], 2), (b[8], 1)],
            0.0,
        );
        mul(&self.powers[3], &self.work, &mut self.v, n);
        combine(
            &mut self.work,
            n,
            &self.powers,
            &[(b[6], 3), (b[4], 2), (b[2], 1)],
            b[0],
        );
        for (v, w) in self.v.iter_mut().zip(&self.work) {
            *v += w;
        }
    }

    /// out = (V − U)⁻¹(V + U), column by column.
    fn solve(&mut self, out: &mut [f64]) -> Option<()> {
        let n = self.n;
        for ((w, u), v) in self.work.iter_mut().zip(&self.u).zip(&self.v) {
            *w = v - u;
        }
        lu_factor(&mut self.work, n, &mut self.piv).ok()?;
        for j in 0..n {
            for i in 0..n {
                self.column[i] = self.v[i * n + j] + self.u[i * n + j];
            }
            lu_solve(&self.work, n, &self.piv, &mut self.column);
            for i in 0..n {
                out[i * n + j] = self.column[i];
            }
        }
        Some(())
    }
}

/// out = Σ c·powers[k] over `terms` (c, k) + identity·I.
fn combine(
    out: &mut [f64],
    n: usize,
    powers: &[Vec<f64>; 5],
    terms: &[(f64, usize)],
    identity: f64,
) {
    out.iter_mut().for_each(|x| *x = 0.0);
    for &(c, k) in terms {
        for (o, p) in out.iter_mut().zip(&powers[k]) {
            *o += c * p;
        }
    }
    for i in 0..n {
        out[i * n + i] += identity;
    }
}

/// c = a·b (row-major n×n).
fn mul(a: &[f64], b: &[f64], c: &mut [f64], n: usize) {
    for i in 0..n {
        for j in 0..n {
            let mut s = 0.0;
            for k in 0..n {
                s += a[i * n + k] * b[k * n + j];
            }
            c[i * n + j] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(a: &[f64], n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n * n];
        Expm::default().exp(a, n, &mut out).unwrap();
        out
    }

    #[test]
    fn upper_triangular_2x2_matches_its_closed_form() {
        // e^[[a, b], [0, c]] = [[e^a, b(e^a − e^c)/(a − c)], [0, e^c]], at norms that
        // take every Padé degree and the scaling (‖A‖₁ from 1e-3 to 1e3)
        for scale in [1e-3, 0.1, 0.5, 1.5, 3.0, 40.0, 1e3] {
            let (a, b, c) = (-1.3 * scale, 0.7 * scale, -0.2 * scale);
            let e = exp(&[a, b, 0.0, c], 2);
            let want = [a.exp(), b * (a.exp() - c.exp()) / (a - c), 0.0, c.exp()];
            for (x, y) in e.iter().zip(want) {
                assert!(
                    (x - y).abs() <= 1e-13 * y.abs().max(1e-300),
                    "scale {scale}: {e:?} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn rotation_generator_gives_cosines_and_sines() {
        // e^[[0, −w], [w, 0]] = [[cos w, −sin w], [sin w, cos w]]
        for w in [0.01, 1.0, 10.0, 100.0] {
            let e = exp(&[0.0, -w, w, 0.0], 2);
            let want = [w.cos(), -w.sin(), w.sin(), w.cos()];
            for (x, y) in e.iter().zip(want) {
                assert!(
                    (x - y).abs() <= 1e-13 * w.max(1.0),
                    "w {w}: {e:?} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn agrees_with_nalgebra_on_a_compartmental_matrix() {
        // a 3-compartment transfer matrix with an input column (an independent
        // implementation: nalgebra's expm, also Al-Mohy–Higham scaling and squaring)
        let a = [
            -2.1, 0.4, 0.05, 3.0, //
            1.5, -0.9, 0.0, 0.0, //
            0.6, 0.0, -0.05, 0.0, //
            0.0, 0.0, 0.0, 0.0,
        ];
        for h in [0.01, 1.0, 24.0] {
            let scaled: Vec<f64> = a.iter().map(|x| x * h).collect();
            let ours = exp(&scaled, 4);
            let theirs = nalgebra::DMatrix::from_row_slice(4, 4, &scaled).exp();
            for i in 0..4 {
                for j in 0..4 {
                    let (x, y) = (ours[i * 4 + j], theirs[(i, j)]);
                    assert!(
                        (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                        "h {h} ({i}, {j}): {x} vs {y}"
                    );
                }
            }
        }
    }
}
