//! The compiled form of model expressions and the loop that runs it.
//!
//! A program is a flat array of fixed-width instructions ([`Ins`], 12 bytes) over a
//! single `f64` slot array that holds everything: `t`, literals, parameters,
//! covariates, per-individual values, states, and every intermediate result (one slot
//! per result, so no register allocation is needed and no value is ever overwritten
//! within one evaluation). There is no name lookup, map or allocation at run time.
//!
//! Speed comes from
//! - hoisting: everything that depends only on parameters and covariates is computed
//!   once per individual (see `compile.rs`), so a right-hand side only contains the
//!   operations that involve `t` or the states;
//! - superinstructions for the common shapes of kinetic equations (`a*b + c`,
//!   `c − a*b`, `a*b − c*d`, `a*b*c`, `a/(b + c)`, ...), cutting dispatches by half;
//! - bounds-check-free execution: every slot index is checked against the slot count
//!   when a [`Program`] is built, and [`Program::run`] checks the slot array's length once.
//!
//! Fused instructions round exactly like the expression they replace (`a*b + c` is
//! two roundings, never an FMA), so results are bit-identical to evaluating the
//! expression tree with Rust's own `f64` operators.

/// A slot index.
pub(crate) type Slot = u16;

/// One instruction: `d` is the destination slot, the others are operand slots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Ins {
    /// d = −a
    Neg { d: Slot, a: Slot },
    /// d = a + b
    Add { d: Slot, a: Slot, b: Slot },
    /// d = a − b
    Sub { d: Slot, a: Slot, b: Slot },
    /// d = a · b
    Mul { d: Slot, a: Slot, b: Slot },
    /// d = a / b
    Div { d: Slot, a: Slot, b: Slot },
    /// d = a^b
    Pow { d: Slot, a: Slot, b: Slot },
    /// d = exp a
    Exp { d: Slot, a: Slot },
    /// d = ln a
    Ln { d: Slot, a: Slot },
    /// d = log10 a
    Log10 { d: Slot, a: Slot },
    /// d = √a
    Sqrt { d: Slot, a: Slot },
    /// d = |a|
    Abs { d: Slot, a: Slot },
    /// d = min(a, b)
    Min { d: Slot, a: Slot, b: Slot },
    /// d = max(a, b)
    Max { d: Slot, a: Slot, b: Slot },
    /// d = (a < b) as 1/0
    Lt { d: Slot, a: Slot, b: Slot },
    /// d = (a ≤ b)
    Le { d: Slot, a: Slot, b: Slot },
    /// d = (a == b)
    Eq { d: Slot, a: Slot, b: Slot },
    /// d = (a != b)
    Ne { d: Slot, a: Slot, b: Slot },
    /// d = (a ≠ 0 and b ≠ 0)
    And { d: Slot, a: Slot, b: Slot },
    /// d = (a ≠ 0 or b ≠ 0)
    Or { d: Slot, a: Slot, b: Slot },
    /// d = if c ≠ 0 { a } else { b }
    Select { d: Slot, c: Slot, a: Slot, b: Slot },
    /// d = a·b + c
    MulAdd { d: Slot, a: Slot, b: Slot, c: Slot },
    /// d = a·b − c
    MulSub { d: Slot, a: Slot, b: Slot, c: Slot },
    /// d = c − a·b
    NegMulAdd { d: Slot, a: Slot, b: Slot, c: Slot },
    /// d = (a·b)·c
    Mul3 { d: Slot, a: Slot, b: Slot, c: Slot },
    /// d = a·b + c·e
    Dot2 {
        d: Slot,
        a: Slot,
        b: Slot,
        c: Slot,
        e: Slot,
    },
    /// d = a·b − c·e
    Cross2 {
        d: Slot,
        a: Slot,
        b: Slot,
        c: Slot,
        e: Slot,
    },
    /// d = (a + b)·c
    AddMul { d: Slot, a: Slot, b: Slot, c: Slot },
    /// d = (a − b)·c
    SubMul { d: Slot, a: Slot, b: Slot, c: Slot },
    /// d = (a·b)/c
    MulDiv { d: Slot, a: Slot, b: Slot, c: Slot },
    /// d = a/(b + c)
    DivAdd { d: Slot, a: Slot, b: Slot, c: Slot },
    /// d = (a/b)·c
    DivMul { d: Slot, a: Slot, b: Slot, c: Slot },
    /// d = (a·b)/(c + e)
    MulDivAdd {
        d: Slot,
        a: Slot,
        b: Slot,
        c: Slot,
        e: Slot,
    },
    /// d = k·(a·b + c·e) − f·g (production from a mixture minus first-order loss)
    MixOut {
        d: Slot,
        k: Slot,
        a: Slot,
        b: Slot,
        c: Slot,
        e: Slot,
        f: Slot,
        g: Slot,
    },
    /// d = a / b and then x = y / z (two independent quotients)
    Div2 {
        d: Slot,
        a: Slot,
        b: Slot,
        x: Slot,
        y: Slot,
        z: Slot,
    },
    /// d = max(a, b) and then x = max(y, z)
    Max2 {
        d: Slot,
        a: Slot,
        b: Slot,
        x: Slot,
        y: Slot,
        z: Slot,
    },
    /// d = t₀ ± t₁ ± … over the `n` terms from `start` of the program's term table,
    /// each a product of three slots, accumulated left to right.
    Sum { d: Slot, start: u16, n: u16 },
    /// Continue at instruction `to` when c = 0 (the not-taken branch of an `if`).
    JumpZ { c: Slot, to: u16 },
    /// Continue at instruction `to` (over the other branch of an `if`).
    Jump { to: u16 },
    /// A jump target while a block is built; replaced by instruction indices in
    /// [`resolve_jumps`], never part of a [`Program`].
    Label { id: u16 },
}

/// One term of a [`Ins::Sum`]: `sign · ((f₀ · f₁) · f₂)`, with unused factors pointing
/// at a slot holding 1 (exact), and sign ±1 (exact; the first term's sign is +1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Term {
    pub sign: f64,
    pub f: [Slot; 3],
}

impl Ins {
    /// The slots the instruction reads (terms of a `Sum` excluded).
    fn reads(&self) -> Vec<Slot> {
        use Ins::*;
        match *self {
            Neg { a, .. }
            | Exp { a, .. }
            | Ln { a, .. }
            | Log10 { a, .. }
            | Sqrt { a, .. }
            | Abs { a, .. } => vec![a],
            Add { a, b, .. }
            | Sub { a, b, .. }
            | Mul { a, b, .. }
            | Div { a, b, .. }
            | Pow { a, b, .. }
            | Min { a, b, .. }
            | Max { a, b, .. }
            | Lt { a, b, .. }
            | Le { a, b, .. }
            | Eq { a, b, .. }
            | Ne { a, b, .. }
            | And { a, b, .. }
            | Or { a, b, .. } => vec![a, b],
            _ => vec![Slot::MAX],
        }
    }

    /// Destination slot (the first one of a pair).
    pub fn dst(&self) -> Slot {
        use Ins::*;
        match *self {
            Neg { d, .. }
            | Add { d, .. }
            | Sub { d, .. }
            | Mul { d, .. }
            | Div { d, .. }
            | Pow { d, .. }
            | Exp { d, .. }
            | Ln { d, .. }
            | Log10 { d, .. }
            | Sqrt { d, .. }
            | Abs { d, .. }
            | Min { d, .. }
            | Max { d, .. }
            | Lt { d, .. }
            | Le { d, .. }
            | Eq { d, .. }
            | Ne { d, .. }
            | And { d, .. }
            | Or { d, .. }
            | Select { d, .. }
            | MulAdd { d, .. }
            | MulSub { d, .. }
            | NegMulAdd { d, .. }
            | Mul3 { d, .. }
            | Dot2 { d, .. }
            | Cross2 { d, .. }
            | AddMul { d, .. }
            | SubMul { d, .. }
            | MulDiv { d, .. }
            | DivAdd { d, .. }
            | DivMul { d, .. }
            | MulDivAdd { d, .. }
            | MixOut { d, .. }
            | Div2 { d, .. }
            | Max2 { d, .. }
            | Sum { d, .. } => d,
            JumpZ { c, .. } => c,
            Jump { .. } | Label { .. } => 0,
        }
    }

    /// Whether the instruction computes a value (not a jump or label).
    pub fn computes(&self) -> bool {
        !matches!(
            self,
            Ins::JumpZ { .. } | Ins::Jump { .. } | Ins::Label { .. }
        )
    }

    /// The largest slot index the instruction touches.
    fn max_slot(&self) -> Slot {
        use Ins::*;
        match *self {
            Neg { d, a }
            | Exp { d, a }
            | Ln { d, a }
            | Log10 { d, a }
            | Sqrt { d, a }
            | Abs { d, a } => d.max(a),
            Add { d, a, b }
            | Sub { d, a, b }
            | Mul { d, a, b }
            | Div { d, a, b }
            | Pow { d, a, b }
            | Min { d, a, b }
            | Max { d, a, b }
            | Lt { d, a, b }
            | Le { d, a, b }
            | Eq { d, a, b }
            | Ne { d, a, b }
            | And { d, a, b }
            | Or { d, a, b } => d.max(a).max(b),
            Select { d, c, a, b } => d.max(a).max(b).max(c),
            MulAdd { d, a, b, c }
            | MulSub { d, a, b, c }
            | NegMulAdd { d, a, b, c }
            | Mul3 { d, a, b, c }
            | AddMul { d, a, b, c }
            | SubMul { d, a, b, c }
            | MulDiv { d, a, b, c }
            | DivAdd { d, a, b, c }
            | DivMul { d, a, b, c } => d.max(a).max(b).max(c),
            Dot2 { d, a, b, c, e } | Cross2 { d, a, b, c, e } | MulDivAdd { d, a, b, c, e } => {
                d.max(a).max(b).max(c).max(e)
            }
            MixOut {
                d,
                k,
                a,
                b,
                c,
                e,
                f,
                g,
            } => d.max(k).max(a).max(b).max(c).max(e).max(f).max(g),
            Div2 { d, a, b, x, y, z } | Max2 { d, a, b, x, y, z } => {
                d.max(a).max(b).max(x).max(y).max(z)
            }
            Sum { d, .. } => d,
            JumpZ { c, .. } => c,
            Jump { .. } | Label { .. } => 0,
        }
    }
}

/// Replace the labels of a block by the indices of the instructions that follow them.
pub(crate) fn resolve_jumps(code: &mut Vec<Ins>) {
    let mut at: Vec<u16> = Vec::new();
    let mut k = 0u16;
    for ins in code.iter() {
        if let Ins::Label { id } = *ins {
            if at.len() <= id as usize {
                at.resize(id as usize + 1, u16::MAX);
            }
            at[id as usize] = k;
        } else {
            k = k.saturating_add(1);
        }
    }
    code.retain(|i| !matches!(i, Ins::Label { .. }));
    for ins in code.iter_mut() {
        if let Ins::JumpZ { to, .. } | Ins::Jump { to } = ins {
            *to = at.get(*to as usize).copied().unwrap_or(u16::MAX);
        }
    }
}

/// Peephole pass: two consecutive independent quotients (or maxima) become one pair
/// instruction, halving their dispatches.
pub(crate) fn pair_up(code: &mut Vec<Ins>) {
    let mut out: Vec<Ins> = Vec::with_capacity(code.len());
    for ins in code.drain(..) {
        let merged = match (out.last(), ins) {
            (Some(&Ins::Div { d, a, b }), Ins::Div { d: x, a: y, b: z })
                if !ins.reads().contains(&d) =>
            {
                Some(Ins::Div2 { d, a, b, x, y, z })
            }
            (Some(&Ins::Max { d, a, b }), Ins::Max { d: x, a: y, b: z })
                if !ins.reads().contains(&d) =>
            {
                Some(Ins::Max2 { d, a, b, x, y, z })
            }
            _ => None,
        };
        match merged {
            Some(m) => *out.last_mut().expect("matched a last instruction") = m,
            None => out.push(ins),
        }
    }
    *code = out;
}

/// Instructions and the term table of their [`Ins::Sum`]s, before validation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    /// Instructions in execution order.
    pub code: Vec<Ins>,
    /// Terms of the `Sum` instructions.
    pub terms: Vec<Term>,
    /// Labels handed out so far (for the jumps of lazy `if`s).
    pub labels: u16,
}

/// A validated instruction sequence: every slot it touches is below `nslots`, every
/// `Sum` refers to terms that exist.
#[derive(Debug, Clone, Default)]
pub(crate) struct Program {
    code: Vec<Ins>,
    terms: Vec<Term>,
    nslots: usize,
    /// Whether the program has jumps (lazy `if`s); without, a plain loop runs it.
    jumps: bool,
}

pub(crate) fn flag(x: bool) -> f64 {
    if x {
        1.0
    } else {
        0.0
    }
}

impl Program {
    /// A program over `nslots` slots; `None` when an instruction touches a slot beyond,
    /// or a `Sum` refers to terms beyond the table or has no term.
    pub fn new(block: Block, nslots: usize) -> Option<Program> {
        let Block { code, terms, .. } = block;
        let slots_ok = code.iter().all(|i| (i.max_slot() as usize) < nslots)
            && terms
                .iter()
                .all(|t| t.f.iter().all(|f| (*f as usize) < nslots));
        let sums_ok = code.iter().all(|i| match *i {
            Ins::Sum { start, n, .. } => n >= 1 && start as usize + n as usize <= terms.len(),
            Ins::JumpZ { to, .. } | Ins::Jump { to } => to as usize <= code.len(),
            Ins::Label { .. } => false,
            _ => true,
        });
        let jumps = code.iter().any(|i| !i.computes());
        (slots_ok && sums_ok).then_some(Program {
            jumps,
            code,
            terms,
            nslots,
        })
    }

    /// The result slots in evaluation order (both results of a pair).
    pub fn results(&self) -> Vec<Slot> {
        let mut out = Vec::with_capacity(self.code.len());
        for i in self.code.iter().filter(|i| i.computes()) {
            out.push(i.dst());
            if let Ins::Div2 { x, .. } | Ins::Max2 { x, .. } = *i {
                out.push(x);
            }
        }
        out
    }

    /// The instructions.
    pub fn code(&self) -> &[Ins] {
        &self.code
    }

    /// The term table of the `Sum` instructions.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The slot count the program was validated for.
    #[cfg_attr(not(feature = "jit"), allow(dead_code))]
    pub fn nslots(&self) -> usize {
        self.nslots
    }

    /// Run the program once over `s` with the interpreter (native code, when there is,
    /// sits beside the program: `compile::Routine`).
    ///
    /// # Panics
    /// When `s` is shorter than the slot count the program was validated for (a bug in
    /// the caller, never caused by user input).
    pub fn interpret(&self, s: &mut [f64]) {
        assert!(
            s.len() >= self.nslots,
            "slot array too short for the program"
        );
        let terms = self.terms.as_slice();
        let code = self.code.as_slice();
        if !self.jumps {
            for ins in code {
                // SAFETY: as below (no jumps: every instruction runs once, in order).
                unsafe { step(ins, s, terms) }
            }
            return;
        }
        let mut pc = 0;
        while pc < code.len() {
            // SAFETY: `pc < code.len()` by the loop condition. `Program::new` checked
            // that every slot index of every instruction and term is < `self.nslots`,
            // every `Sum`'s term range is inside `terms` and every jump target is
            // ≤ `code.len()`, and the assert above that `s.len() >= self.nslots`;
            // `code` and `terms` are private and never changed after construction.
            unsafe {
                let ins = code.get_unchecked(pc);
                pc += 1;
                match *ins {
                    Ins::JumpZ { c, to } => {
                        if *s.get_unchecked(c as usize) == 0.0 {
                            pc = to as usize;
                        }
                    }
                    Ins::Jump { to } => pc = to as usize,
                    _ => step(ins, s, terms),
                }
            }
        }
    }
}

/// Execute one instruction.
///
/// # Safety
/// Every slot index of `ins` and of the terms it refers to must be < `s.len()`, and a
/// `Sum`'s term range must lie inside `terms`.
#[inline(always)]
unsafe fn step(ins: &Ins, s: &mut [f64], terms: &[Term]) {
    macro_rules! g {
        ($i:expr) => {
            *s.get_unchecked($i as usize)
        };
    }
    macro_rules! set {
        ($d:expr, $v:expr) => {{
            let v = $v;
            *s.get_unchecked_mut($d as usize) = v;
        }};
    }
    match *ins {
        Ins::Neg { d, a } => set!(d, -g!(a)),
        Ins::Add { d, a, b } => set!(d, g!(a) + g!(b)),
        Ins::Sub { d, a, b } => set!(d, g!(a) - g!(b)),
        Ins::Mul { d, a, b } => set!(d, g!(a) * g!(b)),
        Ins::Div { d, a, b } => set!(d, g!(a) / g!(b)),
        Ins::Pow { d, a, b } => set!(d, g!(a).powf(g!(b))),
        Ins::Exp { d, a } => set!(d, g!(a).exp()),
        Ins::Ln { d, a } => set!(d, g!(a).ln()),
        Ins::Log10 { d, a } => set!(d, g!(a).log10()),
        Ins::Sqrt { d, a } => set!(d, g!(a).sqrt()),
        Ins::Abs { d, a } => set!(d, g!(a).abs()),
        Ins::Min { d, a, b } => set!(d, g!(a).min(g!(b))),
        Ins::Max { d, a, b } => set!(d, g!(a).max(g!(b))),
        Ins::Lt { d, a, b } => set!(d, flag(g!(a) < g!(b))),
        Ins::Le { d, a, b } => set!(d, flag(g!(a) <= g!(b))),
        Ins::Eq { d, a, b } => set!(d, flag(g!(a) == g!(b))),
        Ins::Ne { d, a, b } => set!(d, flag(g!(a) != g!(b))),
        Ins::And { d, a, b } => set!(d, flag(g!(a) != 0.0 && g!(b) != 0.0)),
        Ins::Or { d, a, b } => set!(d, flag(g!(a) != 0.0 || g!(b) != 0.0)),
        Ins::Select { d, c, a, b } => set!(d, if g!(c) != 0.0 { g!(a) } else { g!(b) }),
        Ins::MulAdd { d, a, b, c } => set!(d, g!(a) * g!(b) + g!(c)),
        Ins::MulSub { d, a, b, c } => set!(d, g!(a) * g!(b) - g!(c)),
        Ins::NegMulAdd { d, a, b, c } => set!(d, g!(c) - g!(a) * g!(b)),
        Ins::Mul3 { d, a, b, c } => set!(d, g!(a) * g!(b) * g!(c)),
        Ins::Dot2 { d, a, b, c, e } => set!(d, g!(a) * g!(b) + g!(c) * g!(e)),
        Ins::Cross2 { d, a, b, c, e } => set!(d, g!(a) * g!(b) - g!(c) * g!(e)),
        Ins::AddMul { d, a, b, c } => set!(d, (g!(a) + g!(b)) * g!(c)),
        Ins::SubMul { d, a, b, c } => set!(d, (g!(a) - g!(b)) * g!(c)),
        Ins::MulDiv { d, a, b, c } => set!(d, g!(a) * g!(b) / g!(c)),
        Ins::DivAdd { d, a, b, c } => set!(d, g!(a) / (g!(b) + g!(c))),
        Ins::DivMul { d, a, b, c } => set!(d, g!(a) / g!(b) * g!(c)),
        Ins::MulDivAdd { d, a, b, c, e } => set!(d, g!(a) * g!(b) / (g!(c) + g!(e))),
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
            set!(d, g!(k) * (g!(a) * g!(b) + g!(c) * g!(e)) - g!(f) * g!(g))
        }
        Ins::Div2 { d, a, b, x, y, z } => {
            set!(d, g!(a) / g!(b));
            set!(x, g!(y) / g!(z));
        }
        Ins::Max2 { d, a, b, x, y, z } => {
            set!(d, g!(a).max(g!(b)));
            set!(x, g!(y).max(g!(z)));
        }
        Ins::Sum { d, start, n } => {
            let ts = terms.get_unchecked(start as usize..start as usize + n as usize);
            let t0 = ts.get_unchecked(0);
            let mut acc = g!(t0.f[0]) * g!(t0.f[1]) * g!(t0.f[2]);
            for t in ts.get_unchecked(1..) {
                acc += t.sign * (g!(t.f[0]) * g!(t.f[1]) * g!(t.f[2]));
            }
            set!(d, acc)
        }
        Ins::JumpZ { .. } | Ins::Jump { .. } | Ins::Label { .. } => {}
    }
}
