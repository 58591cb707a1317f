//! Instruction selection: from a lowered expression tree to [`Ins`] instructions.
//!
//! Shapes of kinetic equations become single fused instructions: `a*b + c`, `c − a*b`,
//! `a*b ± c*e`, `a*b*c`, `(a ± b)*c`, `a*b/c`, `a/(b + c)`, `a*b/(c + e)`, `(a/b)*c`,
//! and a left-to-right chain of three or more sums and differences of products of up to
//! three factors (`ksyn − k·Bn − a·kk·Bn`) becomes one [`Ins::Sum`]. Only `+` and `*`
//! are commuted, which is exact in IEEE arithmetic, so results are bit-identical to the
//! expression evaluated as written.

use super::vm::{flag, Block, Ins, Slot, Term};

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

/// The terms of a chain of sums and differences (left-associative), first term first,
/// with their signs.
fn sum_terms(node: &Node) -> Vec<(f64, &Node)> {
    let mut terms = Vec::new();
    let mut n = node;
    while let Node::Op(op @ (Op::Add | Op::Sub), a) = n {
        terms.push((if *op == Op::Add { 1.0 } else { -1.0 }, &a[1]));
        n = &a[0];
    }
    terms.push((1.0, n));
    terms.reverse();
    terms
}

/// The factors of a product of up to three factors, in an order whose left-to-right
/// product equals the node exactly (`None` stands for 1).
fn factors(node: &Node) -> [Option<&Node>; 3] {
    match node {
        Node::Op(Op::Mul, a) => match (&a[0], &a[1]) {
            (Node::Op(Op::Mul, l), r) => [Some(&l[0]), Some(&l[1]), Some(r)],
            (l, Node::Op(Op::Mul, r)) => [Some(&r[0]), Some(&r[1]), Some(l)],
            (l, r) => [Some(l), Some(r), None],
        },
        n => [Some(n), None, None],
    }
}

/// `a·b + c·e`: `[a, b, c, e]`.
fn products(n: &Node) -> Option<[&Node; 4]> {
    match n {
        Node::Op(Op::Add, s) => match (&s[0], &s[1]) {
            (Node::Op(Op::Mul, p), Node::Op(Op::Mul, q)) => Some([&p[0], &p[1], &q[0], &q[1]]),
            _ => None,
        },
        _ => None,
    }
}

/// `k·(a·b + c·e)` (or `(a·b + c·e)·k`, the same product): `k` and `[a, b, c, e]`.
fn mix(node: &Node) -> Option<(&Node, [&Node; 4])> {
    let Node::Op(Op::Mul, m) = node else {
        return None;
    };
    match (products(&m[1]), products(&m[0])) {
        (Some(f), _) => Some((&m[0], f)),
        (None, Some(f)) => Some((&m[1], f)),
        _ => None,
    }
}

/// Instruction selection: appends the instructions computing `node` to `block`, taking
/// fresh destination slots from `next` (`one` is a slot holding 1), and returns the
/// slot of the result.
pub(crate) fn emit(node: &Node, block: &mut Block, next: &mut usize, one: Slot) -> Slot {
    let (op, args) = match node {
        Node::Leaf(s) => return *s,
        Node::Op(op, args) => (*op, args.as_slice()),
    };
    if matches!(op, Op::Add | Op::Sub) {
        let terms = sum_terms(node);
        let three = |t: &(f64, &Node)| factors(t.1)[2].is_some();
        if terms.len() >= 3 || (terms.len() == 2 && terms.iter().any(three)) {
            let mut table = Vec::with_capacity(terms.len());
            for (sign, t) in terms {
                let mut f = [one; 3];
                for (k, x) in factors(t).into_iter().enumerate() {
                    if let Some(x) = x {
                        f[k] = emit(x, block, next, one);
                    }
                }
                table.push(Term { sign, f });
            }
            let start = block.terms.len() as u16;
            let n = table.len() as u16;
            block.terms.extend(table);
            let d = *next as Slot;
            *next += 1;
            block.code.push(Ins::Sum { d, start, n });
            return d;
        }
    }
    let is_op = |n: &Node| matches!(n, Node::Op(..));
    let is = |n: &Node, want: Op| matches!(n, Node::Op(o, _) if *o == want);
    let kid = |n: &Node, i: usize| match n {
        Node::Op(_, a) => a[i].clone(),
        Node::Leaf(_) => n.clone(),
    };
    macro_rules! em {
        ($n:expr) => {
            emit(&$n, block, next, one)
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
        (Op::Sub, [l, r]) if is(r, Op::Mul) && mix(l).is_some() => {
            let Some((k, [a, b, c, e])) = mix(l) else {
                unreachable!("checked by the guard")
            };
            let (k, a, b, c, e) = (em!(*k), em!(*a), em!(*b), em!(*c), em!(*e));
            let (f, g) = (em!(kid(r, 0)), em!(kid(r, 1)));
            Ins::MixOut {
                d: fresh!(),
                k,
                a,
                b,
                c,
                e,
                f,
                g,
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
        (Op::Div, [l, r]) if is(l, Op::Mul) && is(r, Op::Add) => {
            let (a, b, c, e) = (
                em!(kid(l, 0)),
                em!(kid(l, 1)),
                em!(kid(r, 0)),
                em!(kid(r, 1)),
            );
            Ins::MulDivAdd {
                d: fresh!(),
                a,
                b,
                c,
                e,
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
        (Op::Select, [c, a, b]) if is_op(a) || is_op(b) => {
            // Lazy: only the taken branch runs (`JumpZ` over the first when c = 0).
            let c = em!(*c);
            // (labels saturate: a block with that many `if`s is refused when it
            // becomes a program, see `Gen::program`)
            let (other, end) = (block.labels, block.labels.saturating_add(1));
            block.labels = block.labels.saturating_add(2);
            block.code.push(Ins::JumpZ { c, to: other });
            let a = em!(*a);
            block.code.push(Ins::Jump { to: end });
            block.code.push(Ins::Label { id: other });
            let b = em!(*b);
            block.code.push(Ins::Label { id: end });
            Ins::Select {
                d: fresh!(),
                c,
                a,
                b,
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
    block.code.push(ins);
    ins.dst()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::vm::Program;

    fn eval(node: &Node, init: &[f64]) -> (f64, usize) {
        let mut block = Block::default();
        let mut s = init.to_vec();
        s.push(1.0);
        let one = (s.len() - 1) as Slot;
        let mut next = s.len();
        let r = emit(node, &mut block, &mut next, one);
        s.resize(next, 0.0);
        let n = block.code.len();
        Program::new(block, next).unwrap().interpret(&mut s);
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
    fn chains_of_products_become_one_sum() {
        let (x, y, z, w) = (0.3, 1.7, -2.9, 5.1);
        let v = [x, y, z, w];
        let l = |i| Node::Leaf(i);
        let mul = |a, b| op(Op::Mul, vec![a, b]);
        // w - x*y - (z*x)*y + x : one Sum of four terms
        let e = op(
            Op::Add,
            vec![
                op(
                    Op::Sub,
                    vec![
                        op(Op::Sub, vec![l(3), mul(l(0), l(1))]),
                        mul(mul(l(2), l(0)), l(1)),
                    ],
                ),
                l(0),
            ],
        );
        let (r, n) = eval(&e, &v);
        assert_eq!((r, n), (w - x * y - z * x * y + x, 1));
        // x*y/(z+w)
        let (r, n) = eval(
            &op(
                Op::Div,
                vec![mul(l(0), l(1)), op(Op::Add, vec![l(2), l(3)])],
            ),
            &v,
        );
        assert_eq!((r, n), (x * y / (z + w), 1));
    }

    #[test]
    fn out_of_range_slot_is_refused() {
        let code = vec![Ins::Add { d: 3, a: 0, b: 1 }];
        assert!(Program::new(
            Block {
                code,
                terms: vec![],
                labels: 0,
            },
            3
        )
        .is_none());
        let code = vec![Ins::Sum {
            d: 2,
            start: 0,
            n: 2,
        }];
        let terms = vec![Term {
            sign: 1.0,
            f: [0, 1, 1],
        }];
        assert!(Program::new(
            Block {
                code,
                terms,
                labels: 0
            },
            3
        )
        .is_none());
    }
}
