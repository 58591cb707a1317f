//! Stand-in for the native-code compiler when cartkin is built without the `jit`
//! feature: no program is ever compiled, so every model runs on the interpreter of
//! `vm.rs` (which gives bit-identical results, only slower).

use super::vm::Program;

/// Native code never exists without the `jit` feature: a type with no values.
#[derive(Debug, Clone)]
pub(crate) enum Native {}

impl Native {
    /// Unreachable: no `Native` value can be made.
    #[inline]
    pub fn call(&self, _s: &mut [f64]) {
        match *self {}
    }
}

/// Leave every program to the interpreter.
pub(crate) fn compile(_progs: &[&Program]) -> Option<Vec<Native>> {
    None
}
