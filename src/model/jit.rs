//! Native code for model programs (a JIT with Cranelift).
//!
//! Each [`Program`] of a model (individual values, right-hand side, each output) is
//! compiled to a function `extern "C" fn(slots: *mut f64)` that does exactly what the
//! interpreter in `vm.rs` does, instruction by instruction: it reads the operand slots,
//! computes with the same IEEE operations in the same order (`a*b + c` as two roundings:
//! Cranelift never contracts to FMA unless asked) and writes every result to its slot.
//! `exp`, `ln`, `log10`, `pow`, `min` and `max` call the same Rust functions the
//! interpreter uses (`f64::exp`, …) through registered `extern "C"` wrappers, `√`, `|x|`
//! and negation are the exactly rounded machine instructions, so results are
//! bit-identical to the interpreter (a test checks every built-in model).
//!
//! Within a straight-line run of instructions a value read or computed once stays in a
//! register; at a jump target (the branches of a lazy `if`) values are read again from
//! their slots. When the JIT cannot be created (unsupported host, `CARTKIN_NO_JIT` set)
//! the interpreter runs instead.
//!
//! This is the only module with `unsafe` code besides the interpreter's unchecked slot
//! access; the compiled code lives as long as any clone of the model (`Arc`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, AbiParam, FuncRef, InstBuilder, MemFlags, Value};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};

use super::vm::{Ins, Program, Slot};

#[cfg_attr(all(target_os = "linux", target_env = "gnu"), allow(dead_code))]
extern "C" fn m_exp(x: f64) -> f64 {
    x.exp()
}
#[cfg_attr(all(target_os = "linux", target_env = "gnu"), allow(dead_code))]
extern "C" fn m_ln(x: f64) -> f64 {
    x.ln()
}
#[cfg_attr(all(target_os = "linux", target_env = "gnu"), allow(dead_code))]
extern "C" fn m_log10(x: f64) -> f64 {
    x.log10()
}
#[cfg_attr(all(target_os = "linux", target_env = "gnu"), allow(dead_code))]
extern "C" fn m_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}
extern "C" fn m_min(x: f64, y: f64) -> f64 {
    x.min(y)
}
extern "C" fn m_max(x: f64, y: f64) -> f64 {
    x.max(y)
}

/// The functions behind `f64::exp`, `ln`, `log10`, `powf`: on Linux with glibc, the C
/// library's `exp`, `log`, `log10`, `pow` themselves (what Rust's standard library calls
/// there; one call level less), elsewhere `extern "C"` wrappers around the Rust methods.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod libm {
    extern "C" {
        fn exp(x: f64) -> f64;
        fn log(x: f64) -> f64;
        fn log10(x: f64) -> f64;
        fn pow(x: f64, y: f64) -> f64;
    }
    pub const EXP: *const u8 = exp as *const u8;
    pub const LN: *const u8 = log as *const u8;
    pub const LOG10: *const u8 = log10 as *const u8;
    pub const POW: *const u8 = pow as *const u8;
}
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod libm {
    pub const EXP: *const u8 = super::m_exp as *const u8;
    pub const LN: *const u8 = super::m_ln as *const u8;
    pub const LOG10: *const u8 = super::m_log10 as *const u8;
    pub const POW: *const u8 = super::m_pow as *const u8;
}

/// The compiled code of one model; its memory is freed when the last program using it
/// is dropped.
struct Code {
    module: Option<JITModule>,
}

// SAFETY: after `finalize_definitions` the module is never used again except to free
// its memory in `drop`, which has exclusive access; the machine code it owns is
// immutable and may be executed from any thread.
unsafe impl Send for Code {}
// SAFETY: as above: no method is called through a shared reference.
unsafe impl Sync for Code {}

impl Drop for Code {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: every `Native` holding a function pointer into this memory also
            // holds an `Arc` to this `Code`, so none remains when it is dropped.
            unsafe { m.free_memory() }
        }
    }
}

/// A program compiled to native code.
#[derive(Clone)]
pub(crate) struct Native {
    f: unsafe extern "C" fn(*mut f64),
    nslots: usize,
    _code: Arc<Code>,
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Native")
    }
}

impl Native {
    /// Run the native program over `s`.
    ///
    /// # Panics
    /// When `s` is shorter than the program's slot count (a bug in the caller).
    #[inline]
    pub fn call(&self, s: &mut [f64]) {
        assert!(
            s.len() >= self.nslots,
            "slot array too short for the program"
        );
        // SAFETY: the function was compiled from a `Program` validated by
        // `Program::new` (every slot index < `nslots`, every jump inside the code), it
        // only reads and writes `slots[0..nslots]`, and `s` holds at least `nslots`
        // values; the code memory is alive while `self._code` is.
        unsafe { (self.f)(s.as_mut_ptr()) }
    }
}

/// Compile `progs` to native code, one [`Native`] per program in order; `None` on any
/// failure or when the environment variable `CARTKIN_NO_JIT` is set (the programs then
/// stay with the interpreter).
pub(crate) fn compile(progs: &[&Program]) -> Option<Vec<Native>> {
    if std::env::var_os("CARTKIN_NO_JIT").is_some() {
        return None;
    }
    build(progs)
}

/// The imported math functions, by instruction kind.
struct Imports {
    exp: FuncRef,
    ln: FuncRef,
    log10: FuncRef,
    pow: FuncRef,
    min: FuncRef,
    max: FuncRef,
}

fn build(progs: &[&Program]) -> Option<Vec<Native>> {
    let mut jb = JITBuilder::with_flags(&[("opt_level", "speed")], default_libcall_names()).ok()?;
    let syms: [(&str, *const u8); 6] = [
        ("cartkin_exp", libm::EXP),
        ("cartkin_ln", libm::LN),
        ("cartkin_log10", libm::LOG10),
        ("cartkin_pow", libm::POW),
        ("cartkin_min", m_min as *const u8),
        ("cartkin_max", m_max as *const u8),
    ];
    for (name, ptr) in syms {
        jb.symbol(name, ptr);
    }
    let mut module = JITModule::new(jb);
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(ptr));
    let mut sig1 = module.make_signature();
    sig1.params.push(AbiParam::new(types::F64));
    sig1.returns.push(AbiParam::new(types::F64));
    let mut sig2 = sig1.clone();
    sig2.params.push(AbiParam::new(types::F64));
    let mut import = |name: &str, s| module.declare_function(name, Linkage::Import, s).ok();
    let fns = [
        import("cartkin_exp", &sig1)?,
        import("cartkin_ln", &sig1)?,
        import("cartkin_log10", &sig1)?,
        import("cartkin_pow", &sig2)?,
        import("cartkin_min", &sig2)?,
        import("cartkin_max", &sig2)?,
    ];
    let mut ctx = module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut ids = Vec::with_capacity(progs.len());
    for (i, prog) in progs.iter().enumerate() {
        let id = module
            .declare_function(&format!("program{i}"), Linkage::Local, &sig)
            .ok()?;
        ctx.func.signature = sig.clone();
        {
            let mut fb = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let mut r = fns.iter().map(|f| module.declare_func_in_func(*f, fb.func));
            let imports = Imports {
                exp: r.next()?,
                ln: r.next()?,
                log10: r.next()?,
                pow: r.next()?,
                min: r.next()?,
                max: r.next()?,
            };
            body(&mut fb, prog, &imports, ptr);
            fb.finalize();
        }
        module.define_function(id, &mut ctx).ok()?;
        module.clear_context(&mut ctx);
        ids.push(id);
    }
    module.finalize_definitions().ok()?;
    let fptrs: Vec<*const u8> = ids
        .iter()
        .map(|id| module.get_finalized_function(*id))
        .collect();
    let code = Arc::new(Code {
        module: Some(module),
    });
    Some(
        fptrs
            .into_iter()
            .zip(progs)
            .map(|(f, p)| Native {
                // SAFETY: `f` points to a finalized function compiled with signature
                // `sig`: one pointer argument, no result, the platform's C convention.
                f: unsafe { std::mem::transmute::<*const u8, unsafe extern "C" fn(*mut f64)>(f) },
                nslots: p.nslots(),
                _code: Arc::clone(&code),
            })
            .collect(),
    )
}

/// Emit the body of one program.
fn body(fb: &mut FunctionBuilder<'_>, prog: &Program, im: &Imports, ptr: types::Type) {
    let _ = ptr;
    let code = prog.code();
    let terms = prog.terms();
    let entry = fb.create_block();
    fb.append_block_params_for_function_params(entry);
    fb.switch_to_block(entry);
    let base = fb.block_params(entry)[0];
    let mut targets = BTreeMap::new();
    for ins in code {
        if let Ins::JumpZ { to, .. } | Ins::Jump { to } = *ins {
            targets
                .entry(to as usize)
                .or_insert_with(|| fb.create_block());
        }
    }
    let flags = MemFlags::trusted();
    let mut cache: HashMap<Slot, Value> = HashMap::new();
    let mut open = true;
    let zero = |fb: &mut FunctionBuilder<'_>| fb.ins().f64const(0.0);
    for (pc, ins) in code.iter().enumerate() {
        if let Some(&blk) = targets.get(&pc) {
            if open {
                fb.ins().jump(blk, &[]);
            }
            fb.switch_to_block(blk);
            cache.clear();
            open = true;
        } else if !open {
            // Unreachable code after a jump (not produced by the compiler).
            let blk = fb.create_block();
            fb.switch_to_block(blk);
            cache.clear();
            open = true;
        }
        macro_rules! g {
            ($s:expr) => {{
                let s: Slot = $s;
                match cache.get(&s) {
                    Some(v) => *v,
                    None => {
                        let v = fb.ins().load(types::F64, flags, base, 8 * s as i32);
                        cache.insert(s, v);
                        v
                    }
                }
            }};
        }
        macro_rules! set {
            ($d:expr, $v:expr) => {{
                let d: Slot = $d;
                let v: Value = $v;
                fb.ins().store(flags, v, base, 8 * d as i32);
                cache.insert(d, v);
            }};
        }
        macro_rules! call {
            ($f:expr, $($a:expr),+) => {{
                let args = [$($a),+];
                let c = fb.ins().call($f, &args);
                fb.inst_results(c)[0]
            }};
        }
        macro_rules! flag {
            ($c:expr) => {{
                let c = $c;
                let one = fb.ins().f64const(1.0);
                let z = zero(fb);
                fb.ins().select(c, one, z)
            }};
        }
        macro_rules! bin {
            ($op:ident, $a:expr, $b:expr) => {{
                let (x, y) = ($a, $b);
                fb.ins().$op(x, y)
            }};
        }
        match *ins {
            Ins::Neg { d, a } => set!(d, {
                let x = g!(a);
                fb.ins().fneg(x)
            }),
            Ins::Add { d, a, b } => set!(d, bin!(fadd, g!(a), g!(b))),
            Ins::Sub { d, a, b } => set!(d, bin!(fsub, g!(a), g!(b))),
            Ins::Mul { d, a, b } => set!(d, bin!(fmul, g!(a), g!(b))),
            Ins::Div { d, a, b } => set!(d, bin!(fdiv, g!(a), g!(b))),
            Ins::Pow { d, a, b } => set!(d, call!(im.pow, g!(a), g!(b))),
            Ins::Exp { d, a } => set!(d, call!(im.exp, g!(a))),
            Ins::Ln { d, a } => set!(d, call!(im.ln, g!(a))),
            Ins::Log10 { d, a } => set!(d, call!(im.log10, g!(a))),
            Ins::Sqrt { d, a } => set!(d, {
                let x = g!(a);
                fb.ins().sqrt(x)
            }),
            Ins::Abs { d, a } => set!(d, {
                let x = g!(a);
                fb.ins().fabs(x)
            }),
            Ins::Min { d, a, b } => set!(d, call!(im.min, g!(a), g!(b))),
            Ins::Max { d, a, b } => set!(d, call!(im.max, g!(a), g!(b))),
            Ins::Lt { d, a, b } => {
                set!(d, {
                    let (x, y) = (g!(a), g!(b));
                    let c = fb.ins().fcmp(FloatCC::LessThan, x, y);
                    flag!(c)
                })
            }
            Ins::Le { d, a, b } => {
                set!(d, {
                    let (x, y) = (g!(a), g!(b));
                    let c = fb.ins().fcmp(FloatCC::LessThanOrEqual, x, y);
                    flag!(c)
                })
            }
            Ins::Eq { d, a, b } => set!(d, {
                let (x, y) = (g!(a), g!(b));
                let c = fb.ins().fcmp(FloatCC::Equal, x, y);
                flag!(c)
            }),
            Ins::Ne { d, a, b } => set!(d, {
                let (x, y) = (g!(a), g!(b));
                let c = fb.ins().fcmp(FloatCC::NotEqual, x, y);
                flag!(c)
            }),
            Ins::And { d, a, b } | Ins::Or { d, a, b } => {
                let (x, y) = (g!(a), g!(b));
                let z = zero(fb);
                let p = fb.ins().fcmp(FloatCC::NotEqual, x, z);
                let q = fb.ins().fcmp(FloatCC::NotEqual, y, z);
                let r = if matches!(ins, Ins::And { .. }) {
                    fb.ins().band(p, q)
                } else {
                    fb.ins().bor(p, q)
                };
                set!(d, flag!(r))
            }
            Ins::Select { d, c, a, b } => {
                let cv = g!(c);
                let z = zero(fb);
                let p = fb.ins().fcmp(FloatCC::NotEqual, cv, z);
                let (x, y) = (g!(a), g!(b));
                set!(d, fb.ins().select(p, x, y))
            }
            Ins::MulAdd { d, a, b, c } => {
                let p = bin!(fmul, g!(a), g!(b));
                set!(d, bin!(fadd, p, g!(c)))
            }
            Ins::MulSub { d, a, b, c } => {
                let p = bin!(fmul, g!(a), g!(b));
                set!(d, bin!(fsub, p, g!(c)))
            }
            Ins::NegMulAdd { d, a, b, c } => {
                let p = bin!(fmul, g!(a), g!(b));
                set!(d, bin!(fsub, g!(c), p))
            }
            Ins::Mul3 { d, a, b, c } => {
                let p = bin!(fmul, g!(a), g!(b));
                set!(d, bin!(fmul, p, g!(c)))
            }
            Ins::Dot2 { d, a, b, c, e } | Ins::Cross2 { d, a, b, c, e } => {
                let p = bin!(fmul, g!(a), g!(b));
                let q = bin!(fmul, g!(c), g!(e));
                let r = if matches!(ins, Ins::Dot2 { .. }) {
                    fb.ins().fadd(p, q)
                } else {
                    fb.ins().fsub(p, q)
                };
                set!(d, r)
            }
            Ins::AddMul { d, a, b, c } => {
                let p = bin!(fadd, g!(a), g!(b));
                set!(d, bin!(fmul, p, g!(c)))
            }
            Ins::SubMul { d, a, b, c } => {
                let p = bin!(fsub, g!(a), g!(b));
                set!(d, bin!(fmul, p, g!(c)))
            }
            Ins::MulDiv { d, a, b, c } => {
                let p = bin!(fmul, g!(a), g!(b));
                set!(d, bin!(fdiv, p, g!(c)))
            }
            Ins::DivAdd { d, a, b, c } => {
                let q = bin!(fadd, g!(b), g!(c));
                set!(d, bin!(fdiv, g!(a), q))
            }
            Ins::DivMul { d, a, b, c } => {
                let p = bin!(fdiv, g!(a), g!(b));
                set!(d, bin!(fmul, p, g!(c)))
            }
            Ins::MulDivAdd { d, a, b, c, e } => {
                let p = bin!(fmul, g!(a), g!(b));
                let q = bin!(fadd, g!(c), g!(e));
                set!(d, bin!(fdiv, p, q))
            }
            Ins::MixOut {
                d,
                k,
                a,
                b,
                c,
                e,
                f,
                g,
            } => {
                let p = bin!(fmul, g!(a), g!(b));
                let q = bin!(fmul, g!(c), g!(e));
                let s = bin!(fadd, p, q);
                let m = bin!(fmul, g!(k), s);
                let l = bin!(fmul, g!(f), g!(g));
                set!(d, bin!(fsub, m, l))
            }
            Ins::Div2 { d, a, b, x, y, z } => {
                let (va, vb, vy, vz) = (g!(a), g!(b), g!(y), g!(z));
                let p = fb.ins().fdiv(va, vb);
                let q = fb.ins().fdiv(vy, vz);
                set!(d, p);
                set!(x, q);
            }
            Ins::Max2 { d, a, b, x, y, z } => {
                let (va, vb, vy, vz) = (g!(a), g!(b), g!(y), g!(z));
                let p = call!(im.max, va, vb);
                let q = call!(im.max, vy, vz);
                set!(d, p);
                set!(x, q);
            }
            Ins::Sum { d, start, n } => {
                let ts = &terms[start as usize..start as usize + n as usize];
                let mut acc = None;
                for t in ts {
                    let p = bin!(fmul, g!(t.f[0]), g!(t.f[1]));
                    let p = bin!(fmul, p, g!(t.f[2]));
                    acc = Some(match acc {
                        None => p,
                        // sign · p is exact (±1), and x + (−p) = x − p exactly.
                        Some(x) if t.sign < 0.0 => fb.ins().fsub(x, p),
                        Some(x) => fb.ins().fadd(x, p),
                    });
                }
                if let Some(v) = acc {
                    set!(d, v)
                }
            }
            Ins::JumpZ { c, to } => {
                let cv = g!(c);
                let z = zero(fb);
                let p = fb.ins().fcmp(FloatCC::Equal, cv, z);
                let next = fb.create_block();
                fb.ins().brif(p, targets[&(to as usize)], &[], next, &[]);
                fb.switch_to_block(next);
            }
            Ins::Jump { to } => {
                fb.ins().jump(targets[&(to as usize)], &[]);
                open = false;
            }
            Ins::Label { .. } => {}
        }
    }
    if let Some(&blk) = targets.get(&code.len()) {
        if open {
            fb.ins().jump(blk, &[]);
        }
        fb.switch_to_block(blk);
    } else if !open {
        let blk = fb.create_block();
        fb.switch_to_block(blk);
    }
    fb.ins().return_(&[]);
    fb.seal_all_blocks();
}
