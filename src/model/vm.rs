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
}

impl Ins {
    /// Destination slot.
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
            | DivMul { d, .. } => d,
        }
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
            Dot2 { d, a, b, c, e } | Cross2 { d, a, b, c, e } => d.max(a).max(b).max(c).max(e),
        }
    }
}

/// A validated instruction sequence: every slot it touches is below `nslots`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Program {
    code: Vec<Ins>,
    nslots: usize,
}

fn flag(x: bool) -> f64 {
    if x {
        1.0
    } else {
        0.0
    }
}

impl Program {
    /// A program over `nslots` slots; `None` when an instruction touches a slot beyond.
    pub fn new(code: Vec<Ins>, nslots: usize) -> Option<Program> {
        if code.iter().all(|i| (i.max_slot() as usize) < nslots) {
            Some(Program { code, nslots })
        } else {
            None
        }
    }

    /// The instructions.
    pub fn code(&self) -> &[Ins] {
        &self.code
    }

    /// Run every instruction once over `s`.
    ///
    /// # Panics
    /// When `s` is shorter than the slot count the program was validated for (a bug in
    /// the caller, never caused by user input).
    #[inline]
    pub fn run(&self, s: &mut [f64]) {
        assert!(
            s.len() >= self.nslots,
            "slot array too short for the program"
        );
        for ins in &self.code {
            // SAFETY: `Program::new` checked that every slot index of every instruction
            // is < `self.nslots`, and the assert above that `s.len() >= self.nslots`;
            // `code` is private and never changed after construction.
            unsafe { step(ins, s) }
        }
    }
}

/// Execute one instruction.
///
/// # Safety
/// Every slot index of `ins` must be < `s.len()`.
#[inline(always)]
unsafe fn step(ins: &Ins, s: &mut [f64]) {
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
    }
}

/// An operation of the lowered expression tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Exp,
    Ln,
    Log10,
    Sqrt,
    Abs,
    Min,
    Max,
    Lt,
    Le,
    Eq,
    Ne,
    And,
    Or,
    Select,
}

/// A lowered expression: names resolved to slots, ready for instruction selection.
/// (`a > b` is lowered as `b < a`, `a >= b` as `b <= a`.)
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A value already in a slot.
    Leaf(Slot),
    /// An operation on sub-expressions.
    Op(Op, Vec<Node>),
}

/// Apply `op` to numbers (used for constant folding; the same operations as [`step`]).
pub(crate) fn fold(op: Op, x: &[f64]) -> f64 {
    match op {
        Op::Neg => -x[0],
        Op::Add => x[0] + x[1],
        Op::Sub => x[0] - x[1],
        Op::Mul => x[0] * x[1],
        Op::Div => x[0] / x[1],
        Op::Pow => x[0].powf(x[1]),
        Op::Exp => x[0].exp(),
        Op::Ln => x[0].ln(),
        Op::Log10 => x[0].log10(),
        Op::Sqrt => x[0].sqrt(),
        Op::Abs => x[0].abs(),
        Op::Min => x[0].min(x[1]),
        Op::Max => x[0].max(x[1]),
        Op::Lt => flag(x[0] < x[1]),
        Op::Le => flag(x[0] <= x[1]),
        Op::Eq => flag(x[0] == x[1]),
        Op::Ne => flag(x[0] != x[1]),
        Op::And => flag(x[0] != 0.0 && x[1] != 0.0),
        Op::Or => flag(x[0] != 0.0 || x[1] != 0.0),
        Op::Select => {
            if x[0] != 0.0 {
                x[1]
            } else {
                x[2]
            }
        }
    }
}

/// Instruction selection: appends the instructions computing `node` to `code`,
/// taking fresh destination slots from `next`, and returns the slot of the result.
/// Products, sums and quotients nested in the shapes listed in [`Ins`] become one
/// fused instruction (commuting `+` and `*` only, which is exact in IEEE arithmetic).
pub(crate) fn emit(node: &Node, code: &mut Vec<Ins>, next: &mut usize) -> Slot {
    let (op, args) = match node {
        Node::Leaf(s) => return *s,
        Node::Op(op, args) => (*op, args.as_slice()),
    };
    let is = |n: &Node, want: Op| matches!(n, Node::Op(o, _) if *o == want);
    let kid = |n: &Node, i: usize| match n {
        Node::Op(_, a) => a[i].clone(),
        Node::Leaf(_) => n.clone(),
    };
    macro_rules! em {
        ($n:expr) => {
            emit(&$n, code, next)
        };
    }
    macro_rules! fresh {
        () => {{
            let d = *next as Slot;
            *next += 1;
            d
        }};
    }
    let ins = match (op, args) {
        (Op::Add, [l, r]) if is(l, Op::Mul) && is(r, Op::Mul) => {
            let (a, b, c, e) = (
                em!(kid(l, 0)),
                em!(kid(l, 1)),
                em!(kid(r, 0)),
                em!(kid(r, 1)),
            );
            Ins::Dot2 {
                d: fresh!(),
                a,
                b,
                c,
                e,
            }
        }
        (Op::Add, [l, r]) if is(l, Op::Mul) => {
            let (a, b, c) = (em!(kid(l, 0)), em!(kid(l, 1)), em!(*r));
            Ins::MulAdd {
                d: fresh!(),
                a,
                b,
                c,
            }
        }
        (Op::Add, [l, r]) if is(r, Op::Mul) => {
            let (c, a, b) = (em!(*l), em!(kid(r, 0)), em!(kid(r, 1)));
            Ins::MulAdd {
                d: fresh!(),
                a,
                b,
                c,
            }
        }
        (Op::Sub, [l, r]) if is(l, Op::Mul) && is(r, Op::Mul) => {
            let (a, b, c, e) = (
                em!(kid(l, 0)),
                em!(kid(l, 1)),
                em!(kid(r, 0)),
                em!(kid(r, 1)),
            );
            Ins::Cross2 {
                d: fresh!(),
                a,
                b,
                c,
                e,
            }
        }
        (Op::Sub, [l, r]) if is(l, Op::Mul) => {
            let (a, b, c) = (em!(kid(l, 0)), em!(kid(l, 1)), em!(*r));
            Ins::MulSub {
                d: fresh!(),
                a,
                b,
                c,
            }
        }
        (Op::Sub, [l, r]) if is(r, Op::Mul) => {
            let (c, a, b) = (em!(*l), em!(kid(r, 0)), em!(kid(r, 1)));
            Ins::NegMulAdd {
                d: fresh!(),
                a,
                b,
                c,
            }
        }
        (Op::Mul, [l, r]) if is(l, Op::Mul) => {
            let (a, b, c) = (em!(kid(l, 0)), em!(kid(l, 1)), em!(*r));
            Ins::Mul3 {
                d: fresh!(),
                a,
                b,
                c,
            }
        }
        (Op::Mul, [l, r]) if is(l, Op::Add) || is(l, Op::Sub) || is(l, Op::Div) => {
            let (a, b, c) = (em!(kid(l, 0)), em!(kid(l, 1)), em!(*r));
            let d = fresh!();
            match l {
                Node::Op(Op::Add, _) => Ins::AddMul { d, a, b, c },
                Node::Op(Op::Sub, _) => Ins::SubMul { d, a, b, c },
                _ => Ins::DivMul { d, a, b, c },
            }
        }
        (Op::Mul, [l, r]) if is(r, Op::Mul) || is(r, Op::Add) || is(r, Op::Sub) => {
            // l·(x∘y) = (x∘y)·l exactly
            let (c, a, b) = (em!(*l), em!(kid(r, 0)), em!(kid(r, 1)));
            let d = fresh!();
            match r {
                Node::Op(Op::Mul, _) => Ins::Mul3 { d, a, b, c },
                Node::Op(Op::Add, _) => Ins::AddMul { d, a, b, c },
                _ => Ins::SubMul { d, a, b, c },
            }
        }
        (Op::Div, [l, r]) if is(l, Op::Mul) => {
            let (a, b, c) = (em!(kid(l, 0)), em!(kid(l, 1)), em!(*r));
            Ins::MulDiv {
                d: fresh!(),
                a,
                b,
                c,
            }
        }
        (Op::Div, [l, r]) if is(r, Op::Add) => {
            let (a, b, c) = (em!(*l), em!(kid(r, 0)), em!(kid(r, 1)));
            Ins::DivAdd {
                d: fresh!(),
                a,
                b,
                c,
            }
        }
        (Op::Select, [c, a, b]) => {
            let (c, a, b) = (em!(*c), em!(*a), em!(*b));
            Ins::Select {
                d: fresh!(),
                c,
                a,
                b,
            }
        }
        (_, [x]) => {
            let a = em!(*x);
            let d = fresh!();
            match op {
                Op::Neg => Ins::Neg { d, a },
                Op::Exp => Ins::Exp { d, a },
                Op::Ln => Ins::Ln { d, a },
                Op::Log10 => Ins::Log10 { d, a },
                Op::Sqrt => Ins::Sqrt { d, a },
                _ => Ins::Abs { d, a },
            }
        }
        (_, [x, y]) => {
            let (a, b) = (em!(*x), em!(*y));
            let d = fresh!();
            match op {
                Op::Add => Ins::Add { d, a, b },
                Op::Sub => Ins::Sub { d, a, b },
                Op::Mul => Ins::Mul { d, a, b },
                Op::Div => Ins::Div { d, a, b },
                Op::Pow => Ins::Pow { d, a, b },
                Op::Min => Ins::Min { d, a, b },
                Op::Max => Ins::Max { d, a, b },
                Op::Lt => Ins::Lt { d, a, b },
                Op::Le => Ins::Le { d, a, b },
                Op::Eq => Ins::Eq { d, a, b },
                Op::Ne => Ins::Ne { d, a, b },
                Op::And => Ins::And { d, a, b },
                _ => Ins::Or { d, a, b },
            }
        }
        _ => unreachable!("operator arity is fixed by the lowering"),
    };
    code.push(ins);
    ins.dst()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(node: &Node, init: &[f64]) -> (f64, usize) {
        let mut code = Vec::new();
        let mut next = init.len();
        let r = emit(node, &mut code, &mut next);
        let mut s = init.to_vec();
        s.resize(next, 0.0);
        let n = code.len();
        Program::new(code, next).unwrap().run(&mut s);
        (s[r as usize], n)
    }

    fn op(o: Op, a: Vec<Node>) -> Node {
        Node::Op(o, a)
    }

    #[test]
    fn fused_forms_match_plain_arithmetic() {
        let (x, y, z, w) = (0.3, 1.7, -2.9, 5.1);
        let v = [x, y, z, w];
        let l = |i| Node::Leaf(i);
        // x*y + z*w: one instruction
        let (r, n) = eval(
            &op(
                Op::Add,
                vec![op(Op::Mul, vec![l(0), l(1)]), op(Op::Mul, vec![l(2), l(3)])],
            ),
            &v,
        );
        assert_eq!((r, n), (x * y + z * w, 1));
        // z - x*y
        let (r, n) = eval(&op(Op::Sub, vec![l(2), op(Op::Mul, vec![l(0), l(1)])]), &v);
        assert_eq!((r, n), (z - x * y, 1));
        // x*(y*z) = (y*z)*x
        let (r, n) = eval(&op(Op::Mul, vec![l(0), op(Op::Mul, vec![l(1), l(2)])]), &v);
        assert_eq!((r, n), (x * (y * z), 1));
        // x/(y+z)*w
        let (r, n) = eval(
            &op(
                Op::Mul,
                vec![op(Op::Div, vec![l(0), op(Op::Add, vec![l(1), l(2)])]), l(3)],
            ),
            &v,
        );
        assert_eq!((r, n), (x / (y + z) * w, 2));
    }

    #[test]
    fn out_of_range_slot_is_refused() {
        assert!(Program::new(vec![Ins::Add { d: 3, a: 0, b: 1 }], 3).is_none());
    }
}
