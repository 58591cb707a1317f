//! The solver allocates only when created or when the dimension changes: a counting
//! global allocator shows zero allocations in repeated `integrate` calls. Only the test's
//! own thread is counted: the test harness's threads allocate when they like.

use crate::common::solve as solve_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use cartkin::solve::{Method, Solver, SolverOptions};
use solve_common::FnSystem;

struct Counting;

thread_local! {
    /// Allocations made by this thread (const-initialised: reading it never allocates).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the allocator may run while the thread's locals are being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn integrate_does_not_allocate_after_the_first_call() {
    let outputs: Vec<f64> = (0..=100).map(|i| i as f64 * 0.5).collect();
    for method in [Method::Dopri5, Method::Rodas4] {
        let mut sys = FnSystem::new(3, |t: f64, y: &[f64], dy: &mut [f64]| {
            dy[0] = -0.5 * y[0] + 0.1 * t.sin();
            dy[1] = 0.5 * y[0] - 2.0 * y[1] / (1.0 + y[1]);
            dy[2] = 2.0 * y[1] / (1.0 + y[1]) - 0.05 * y[2];
        });
        let at_start = allocations();
        let mut solver = Solver::new(
            3,
            SolverOptions {
                method,
                ..SolverOptions::default()
            },
        );
        // The counter works: creating the solver allocates its workspace.
        assert!(
            allocations() > at_start,
            "the counting allocator saw nothing"
        );
        let mut y = [10.0, 0.0, 0.0];
        let mut last = 0.0;
        let mut sink = |_: usize, v: &[f64]| last = v[2];
        solver
            .integrate(&mut sys, 0.0, 50.0, &mut y, &outputs, &mut sink)
            .unwrap();
        let before = allocations();
        for _ in 0..3 {
            y = [10.0, 0.0, 0.0];
            solver
                .integrate(&mut sys, 0.0, 25.0, &mut y, &outputs[..51], &mut sink)
                .unwrap();
            solver
                .integrate(&mut sys, 25.0, 50.0, &mut y, &outputs[50..], &mut sink)
                .unwrap();
        }
        let after = allocations();
        assert_eq!(after - before, 0, "{method:?} allocated in integrate");
        assert!(solver.stats().accepted > 20, "{:?}", solver.stats());
        assert!(last > 0.0);
    }
}
