//! Dense LU factorisation with partial pivoting (Golub & Van Loan, *Matrix
//! Computations*, 4th ed., Algorithm 3.4.1), in place on a row-major n×n buffer, for the
//! Rosenbrock iteration matrix (I/(γh) − J) of [`super::rodas4`].
