//! Lowering of a checked model into programs over one slot array.
//!
//! Slot layout: `0` = t, `1` = t as seen by comparisons (clamped into the open segment
//! during a solve, see `model.rs`), `2` = `tad`, `3` = `last_dose`, then the parameters, covariates and states, then
//! literals and every intermediate result. Four kinds of program:
//! - `individual`: run once per prediction, after the parameters and covariates are
//!   written: all lets and sub-expressions that depend on nothing else (hoisted out of
//!   the right-hand side), initial states, stop times and dose scales;
//! - `rhs`: the derivatives (and the dynamic lets they need);
//! - one program per output (and the dynamic lets it needs).
//!
//! Constant sub-expressions are folded at compile time with the same `f64` operations
//! the programs would use.
//!
//! The compiler's product is a [`Code`]: the programs, each a [`Routine`] (the validated
//! [`Program`] with, beside it, its native code when the JIT compiled it), and the slot
//! layout prediction needs.

use std::collections::HashMap;

use super::ast::{BinOp, Expr, ExprKind, Func};
use super::error::{Located, Pos};
use super::jit::{self, Native};
use super::resolve::{Decls, Level, Sym};
use super::select::{emit, fold, Node, Op};
use super::vm::{pair_up, resolve_jumps, Block, Program, Slot};

/// Slot of `t`.
pub(crate) const T_SLOT: usize = 0;
/// Slot of `t` as seen by comparisons.
pub(crate) const TC_SLOT: usize = 1;
/// Slot of `tad`, the time after the most recent dose.
pub(crate) const TAD_SLOT: usize = 2;
/// Slot of `last_dose`, the amount of the most recent dose.
pub(crate) const LAST_DOSE_SLOT: usize = 3;

/// A value of a lowered expression, with its level.
enum Low {
    Const(f64),
    Ind(Node),
    Dyn(Node),
}

/// The code generator: slot allocation, literal pool, the individual program.
pub(crate) struct Gen<'a> {
    pub decls: &'a Decls,
    pub next: usize,
    pub template: Vec<(Slot, f64)>,
    literals: HashMap<u64, Slot>,
    pub individual: Block,
    /// A slot holding 1.
    pub one: Slot,
    pub param_slots: Vec<Slot>,
    pub cov_slots: Vec<Slot>,
    pub state_slots: Vec<Slot>,
    /// Individual-level lets: their slot, or their constant value.
    ind_lets: Vec<Option<Result<Slot, f64>>>,
    /// Names of slots, for error messages.
    pub names: Vec<(Slot, String)>,
}

impl<'a> Gen<'a> {
    /// The covariates: name, default value and slot.
    pub fn covariates(&self) -> Vec<(String, f64, Slot)> {
        self.decls
            .covariates
            .iter()
            .zip(&self.cov_slots)
            .map(|((name, default, _), s)| (name.text.clone(), *default, *s))
            .collect()
    }

    /// Lay out the fixed slots and compile the individual-level lets.
    pub fn new(decls: &'a Decls) -> Gen<'a> {
        let mut g = Gen {
            decls,
            next: 4,
            template: Vec::new(),
            literals: HashMap::new(),
            individual: Block::default(),
            one: 0,
            param_slots: Vec::new(),
            cov_slots: Vec::new(),
            state_slots: Vec::new(),
            ind_lets: vec![None; decls.lets.len()],
            names: Vec::new(),
        };
        for p in &decls.params {
            let s = g.fresh();
            g.param_slots.push(s);
            g.names.push((s, format!("parameter `{}`", p.name.text)));
        }
        for c in &decls.covariates {
            let s = g.fresh();
            g.cov_slots.push(s);
            g.names.push((s, format!("covariate `{}`", c.0.text)));
        }
        for st in &decls.states {
            let s = g.fresh();
            g.state_slots.push(s);
            g.names.push((s, format!("state `{}`", st.0.text)));
        }
        g.one = g.literal(1.0);
        for (i, (name, expr)) in decls.lets.iter().enumerate() {
            if decls.let_levels[i] == Level::Dynamic {
                continue;
            }
            let v = match g.lower(expr, &[], false) {
                Low::Const(x) => Err(x),
                Low::Ind(n) => {
                    let s = emit(&n, &mut g.individual, &mut g.next, g.one);
                    g.names.push((s, format!("`{}`", name.text)));
                    Ok(s)
                }
                Low::Dyn(_) => unreachable!("level checked by resolve"),
            };
            g.ind_lets[i] = Some(v);
        }
        g
    }

    fn fresh(&mut self) -> Slot {
        let s = self.next as Slot;
        self.next += 1;
        s
    }

    /// The slot of a literal (one per distinct value).
    fn literal(&mut self, x: f64) -> Slot {
        if let Some(s) = self.literals.get(&x.to_bits()) {
            return *s;
        }
        let s = self.fresh();
        self.template.push((s, x));
        self.literals.insert(x.to_bits(), s);
        s
    }

    /// Compile an individual-level (or constant) expression into the individual program
    /// and return its slot. `what` names it for error messages.
    pub fn individual_value(&mut self, e: &Expr, what: &str) -> Result<Slot, Located> {
        if self.decls.level(e, None)? == Level::Dynamic {
            return Err(Located::new(
                e.pos,
                format!("{what} must not depend on `t` or the states: expected an expression of parameters, covariates and lets of those"),
            ));
        }
        let s = match self.lower(e, &[], false) {
            Low::Const(x) => self.literal(x),
            Low::Ind(n) => emit(&n, &mut self.individual, &mut self.next, self.one),
            Low::Dyn(_) => unreachable!("level checked above"),
        };
        self.names.push((s, what.to_string()));
        Ok(s)
    }

    /// Compile a program computing each of `roots` (with the dynamic lets they need);
    /// returns the program's code and the slot of each root.
    pub fn dynamic_program(&mut self, roots: &[(&Expr, String)]) -> (Block, Vec<Slot>) {
        let exprs: Vec<&Expr> = roots.iter().map(|r| r.0).collect();
        let need = self.decls.needed_dynamic_lets(&exprs);
        let mut let_slots: Vec<Option<Slot>> = vec![None; self.decls.lets.len()];
        let mut code = Block::default();
        for (i, needed) in need.iter().enumerate() {
            if !needed {
                continue;
            }
            let (name, expr) = &self.decls.lets[i];
            let s = self.slot_of(expr, &let_slots, &mut code);
            self.names.push((s, format!("`{}`", name.text)));
            let_slots[i] = Some(s);
        }
        let mut out = Vec::new();
        for (e, what) in roots {
            let s = self.slot_of(e, &let_slots, &mut code);
            self.names.push((s, what.clone()));
            out.push(s);
        }
        (code, out)
    }

    fn slot_of(&mut self, e: &Expr, let_slots: &[Option<Slot>], code: &mut Block) -> Slot {
        match self.lower(e, let_slots, false) {
            Low::Const(x) => self.literal(x),
            Low::Ind(n) => emit(&n, &mut self.individual, &mut self.next, self.one),
            Low::Dyn(n) => emit(&n, code, &mut self.next, self.one),
        }
    }

    /// Turn a lowered child into a node for a parent of level `parent`: literals get a
    /// slot, individual sub-trees under a dynamic parent are hoisted.
    fn node(&mut self, v: Low, parent: Level) -> Node {
        match v {
            Low::Const(x) => Node::Leaf(self.literal(x)),
            Low::Ind(n) if parent == Level::Dynamic => {
                Node::Leaf(emit(&n, &mut self.individual, &mut self.next, self.one))
            }
            Low::Ind(n) | Low::Dyn(n) => n,
        }
    }

    fn combine(&mut self, op: Op, args: Vec<Low>) -> Low {
        if args.iter().all(|a| matches!(a, Low::Const(_))) {
            let xs: Vec<f64> = args
                .iter()
                .map(|a| match a {
                    Low::Const(x) => *x,
                    _ => unreachable!(),
                })
                .collect();
            return Low::Const(fold(op, &xs));
        }
        let dynamic = args.iter().any(|a| matches!(a, Low::Dyn(_)));
        let level = if dynamic {
            Level::Dynamic
        } else {
            Level::Individual
        };
        let nodes = args.into_iter().map(|a| self.node(a, level)).collect();
        if dynamic {
            Low::Dyn(Node::Op(op, nodes))
        } else {
            Low::Ind(Node::Op(op, nodes))
        }
    }

    /// Lower an expression whose names were checked by `Decls::level`.
    fn lower(&mut self, e: &Expr, let_slots: &[Option<Slot>], in_cond: bool) -> Low {
        match &e.kind {
            ExprKind::Num(x) => Low::Const(*x),
            ExprKind::Name(n) => {
                let sym = self.decls.lookup(n, e.pos).unwrap_or(Sym::T);
                match sym {
                    Sym::T => Low::Dyn(Node::Leaf(if in_cond { TC_SLOT } else { T_SLOT } as Slot)),
                    Sym::Tad => Low::Dyn(Node::Leaf(TAD_SLOT as Slot)),
                    Sym::LastDose => Low::Dyn(Node::Leaf(LAST_DOSE_SLOT as Slot)),
                    Sym::Param(i) => Low::Ind(Node::Leaf(self.param_slots[i])),
                    Sym::Cov(i) => Low::Ind(Node::Leaf(self.cov_slots[i])),
                    Sym::State(i) => Low::Dyn(Node::Leaf(self.state_slots[i])),
                    Sym::Let(j) => match self.ind_lets[j] {
                        Some(Ok(s)) => Low::Ind(Node::Leaf(s)),
                        Some(Err(x)) => Low::Const(x),
                        None => match let_slots.get(j).copied().flatten() {
                            Some(s) => Low::Dyn(Node::Leaf(s)),
                            None => unreachable!("dynamic lets are emitted before their use"),
                        },
                    },
                }
            }
            ExprKind::Neg(a) => {
                let a = self.lower(a, let_slots, in_cond);
                self.combine(Op::Neg, vec![a])
            }
            ExprKind::Binary(op, a, b) => {
                let cmp = matches!(
                    op,
                    BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
                );
                let x = self.lower(a, let_slots, in_cond || cmp);
                let y = self.lower(b, let_slots, in_cond || cmp);
                let (op, args) = match op {
                    BinOp::Add => (Op::Add, vec![x, y]),
                    BinOp::Sub => (Op::Sub, vec![x, y]),
                    BinOp::Mul => (Op::Mul, vec![x, y]),
                    BinOp::Div => (Op::Div, vec![x, y]),
                    BinOp::Pow => (Op::Pow, vec![x, y]),
                    BinOp::Lt => (Op::Lt, vec![x, y]),
                    BinOp::Le => (Op::Le, vec![x, y]),
                    BinOp::Gt => (Op::Lt, vec![y, x]),
                    BinOp::Ge => (Op::Le, vec![y, x]),
                    BinOp::Eq => (Op::Eq, vec![x, y]),
                    BinOp::Ne => (Op::Ne, vec![x, y]),
                    BinOp::And => (Op::And, vec![x, y]),
                    BinOp::Or => (Op::Or, vec![x, y]),
                };
                self.combine(op, args)
            }
            ExprKind::Call(f, args) => {
                let op = match f {
                    Func::Exp => Op::Exp,
                    Func::Log => Op::Ln,
                    Func::Log10 => Op::Log10,
                    Func::Sqrt => Op::Sqrt,
                    Func::Pow => Op::Pow,
                    Func::Abs => Op::Abs,
                    Func::Min => Op::Min,
                    Func::Max => Op::Max,
                    Func::If => Op::Select,
                };
                let args = args
                    .iter()
                    .map(|a| self.lower(a, let_slots, in_cond))
                    .collect::<Vec<_>>();
                if op == Op::Select {
                    // a constant condition picks its branch at compile time
                    if let Low::Const(c) = args[0] {
                        let mut it = args.into_iter().skip(1);
                        let (a, b) = (it.next(), it.next());
                        return if c != 0.0 { a } else { b }.unwrap_or(Low::Const(f64::NAN));
                    }
                }
                self.combine(op, args)
            }
        }
    }

    /// The slot template: literal values in place, zeros elsewhere.
    pub fn template(&self) -> Vec<f64> {
        let mut t = vec![0.0; self.next];
        for (s, x) in &self.template {
            t[*s as usize] = *x;
        }
        t
    }

    /// Validate `code` into a program over all slots.
    pub fn program(&self, mut code: Block) -> Result<Program, Located> {
        // Jump targets, term offsets and labels are 16-bit: refuse a program too large
        // for them rather than wrap around.
        let limit = u16::MAX as usize - 1;
        if code.code.len() > limit || code.terms.len() > limit || code.labels as usize > limit {
            return Err(Located::new(
                Pos { line: 1, column: 1 },
                format!(
                    "the model compiles to {} instructions, {} sum terms and {} branches: \
                     expected at most {limit} of each",
                    code.code.len(),
                    code.terms.len(),
                    code.labels / 2
                ),
            ));
        }
        pair_up(&mut code.code);
        resolve_jumps(&mut code.code);
        if self.next > Slot::MAX as usize {
            return Err(Located::new(
                Pos { line: 1, column: 1 },
                format!(
                    "the model needs {} value slots: expected at most {}",
                    self.next,
                    Slot::MAX
                ),
            ));
        }
        Program::new(code, self.next).ok_or_else(|| {
            Located::new(
                Pos { line: 1, column: 1 },
                "internal error: a slot out of range",
            )
        })
    }
}

/// The compiled programs and slot layout of a model.
#[derive(Debug, Clone)]
pub(crate) struct Code {
    pub individual: Routine,
    pub rhs: Routine,
    /// The Jacobian ∂f/∂y of the right-hand side (without infusion rates, which do not
    /// depend on the states), `None` for a closed form; row-major slots in
    /// `jacobian_slots` (`derive` differentiates the `ddt` expressions).
    pub jacobian: Option<Routine>,
    pub jacobian_slots: Vec<Slot>,
    pub outputs: Vec<(Routine, Slot)>,
    pub template: Vec<f64>,
    pub param_slots: Vec<Slot>,
    pub covariates: Vec<(String, f64, Slot)>,
    pub state_slots: Vec<Slot>,
    pub init_slots: Vec<Slot>,
    pub deriv_slots: Vec<Slot>,
    pub stop_slots: Vec<Slot>,
    /// Dose lines: target state and the slot of its scale; the first is the default.
    pub doses: Vec<(usize, Slot)>,
    /// Data compartments (`dose STATE cmt N`): N and the state it doses.
    pub dose_cmts: Vec<(i64, usize)>,
    pub names: Vec<(Slot, String)>,
    /// A slot holding 1 (the scale of a dose into a state without a `dose` line).
    pub unit_slot: Slot,
    /// The `ddt`s are linear with constant coefficients (`super::linear`).
    pub linear: bool,
}

impl Code {
    /// Every routine: individual, right-hand side, Jacobian, outputs.
    fn routines_mut(&mut self) -> impl Iterator<Item = &mut Routine> {
        [&mut self.individual, &mut self.rhs]
            .into_iter()
            .chain(self.jacobian.as_mut())
            .chain(self.outputs.iter_mut().map(|(r, _)| r))
    }

    /// Compile every program to native code (one JIT module for the model); on any
    /// failure all stay with the interpreter.
    pub fn compile_native(&mut self) {
        compile_native(self.routines_mut().collect());
    }

    /// The same code with every native routine dropped (the interpreter runs all).
    pub fn interpreted(&self) -> Code {
        let mut code = self.clone();
        code.routines_mut().for_each(|r| r.native = None);
        code
    }

    /// Whether the right-hand side and the outputs run as native code.
    pub fn is_native(&self) -> bool {
        self.rhs.native.is_some() && self.outputs.iter().all(|(r, _)| r.native.is_some())
    }
}

/// Compile `routines` to native code (one JIT module); on any failure all stay with the
/// interpreter.
pub(crate) fn compile_native(mut routines: Vec<&mut Routine>) {
    let natives = {
        let progs: Vec<&Program> = routines.iter().map(|r| &r.program).collect();
        jit::compile(&progs)
    };
    if let Some(natives) = natives {
        for (r, n) in routines.iter_mut().zip(natives) {
            r.native = Some(n);
        }
    }
}

/// A program and, beside it, the same program compiled to native code when available.
#[derive(Debug, Clone)]
pub(crate) struct Routine {
    program: Program,
    native: Option<Native>,
}

impl Routine {
    /// A routine run by the interpreter until native code is compiled for it.
    pub fn new(program: Program) -> Routine {
        Routine {
            program,
            native: None,
        }
    }

    /// The program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Run once over `s`: the native code when there is, else the interpreter (both
    /// give bit-identical results).
    ///
    /// # Panics
    /// When `s` is shorter than the program's slot count (a bug in the caller).
    #[inline]
    pub fn run(&self, s: &mut [f64]) {
        match &self.native {
            Some(n) => n.call(s),
            None => self.program.interpret(s),
        }
    }
}
