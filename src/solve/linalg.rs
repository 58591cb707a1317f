//! Dense LU factorisation with partial pivoting (Golub & Van Loan, *Matrix
//! Computations*, 4th ed., 2013, Algorithm 3.4.1 "Gaussian elimination with partial
//! pivoting"), in place on a row-major n×n buffer, for the Rosenbrock iteration matrix
//! `E = I/(γh) − J` of [`super::rodas4`]:
//!
//! ```text
//! P E = L U,   E x = b  ⇔  L z = P b,  U x = z
//! ```
//!
//! No allocation: the caller owns the matrix and the pivot vector.

/// Factor the row-major n×n matrix `a` in place into L (unit lower, below the diagonal)
/// and U; `piv[k]` is the row swapped with row k at step k. Returns `Err(k)` when the
/// pivot of column k is zero or not finite (the matrix is singular to working precision).
pub(crate) fn lu_factor(a: &mut [f64], n: usize, piv: &mut [usize]) -> Result<(), usize> {
    for k in 0..n {
        let mut p = k;
        let mut best = a[k * n + k].abs();
        for i in k + 1..n {
            let v = a[i * n + k].abs();
            if v > best {
                best = v;
                p = i;
            }
        }
        piv[k] = p;
        if best == 0.0 || !best.is_finite() {
            return Err(k);
        }
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
        }
        let pivot = a[k * n + k];
        for i in k + 1..n {
            let (top, bottom) = a.split_at_mut(i * n);
            let row_k = &top[k * n + k + 1..(k + 1) * n];
            let row_i = &mut bottom[k..n];
            let factor = row_i[0] / pivot;
            row_i[0] = factor;
            if factor != 0.0 {
                for (x, u) in row_i[1..].iter_mut().zip(row_k) {
                    *x -= factor * u;
                }
            }
        }
    }
    Ok(())
}

/// Solve `E x = b` in place (`b` becomes `x`) with the factors from [`lu_factor`].
pub(crate) fn lu_solve(a: &[f64], n: usize, piv: &[usize], b: &mut [f64]) {
    for (k, &p) in piv.iter().enumerate().take(n) {
        b.swap(k, p);
    }
    for i in 0..n {
        let (done, rest) = b.split_at_mut(i);
        let row = &a[i * n..i * n + i];
        rest[0] -= row.iter().zip(done.iter()).map(|(l, x)| l * x).sum::<f64>();
    }
    for i in (0..n).rev() {
        let (head, tail) = b.split_at_mut(i + 1);
        let row = &a[i * n + i + 1..(i + 1) * n];
        let s = head[i] - row.iter().zip(tail.iter()).map(|(u, x)| u * x).sum::<f64>();
        head[i] = s / a[i * n + i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_system_that_needs_pivoting() {
        // [[0, 2, 1], [1, 1, 1], [2, 1, 0]] x = b with x = (1, -2, 3) (hand computation:
        // b = (0·1 + 2·(-2) + 3, 1 - 2 + 3, 2 - 2 + 0) = (-1, 2, 0)).
        let mut a = [0.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 0.0];
        let mut piv = [0; 3];
        lu_factor(&mut a, 3, &mut piv).unwrap();
        let mut b = [-1.0, 2.0, 0.0];
        lu_solve(&a, 3, &piv, &mut b);
        for (x, e) in b.iter().zip([1.0, -2.0, 3.0]) {
            assert!((x - e).abs() < 1e-14, "{b:?}");
        }
    }

    #[test]
    fn reports_a_singular_matrix() {
        let mut a = [1.0, 2.0, 2.0, 4.0];
        let mut piv = [0; 2];
        assert_eq!(lu_factor(&mut a, 2, &mut piv), Err(1));
    }
}
