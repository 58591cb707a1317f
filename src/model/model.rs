//! [`Model`]: a model file parsed, checked and compiled.
//!
//! Parameter defaults (docs/model-language.md): the transform is `log` when the typical
//! value is > 0 and the lower bound is ≥ 0 (or absent), else `identity`; bounds default
//! to (0, ∞) for `log`, (−∞, ∞) for `identity` and (0, 1) for `logit`; `residual`
//! parameters default to `log` and have no between-subject variability.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use super::ast::{ErrorKind, Located as At, Stmt, TransformKw};
use super::compile::{Code, Gen, Routine};
use super::derive::{size, Differentiator, Var};
use super::error::{did_you_mean, Located, ModelError, Pos};
use super::library;
use super::parser::parse;
use super::resolve::{Decls, Sym};
use super::sensitivity::SensitivityCode;
use super::spec::{ErrorModel, Output, Parameter, Role, Transform};
use super::vm::Slot;
use super::workspace::Workspace;
use crate::data::{Analyte, TimeUnit};
use crate::solve::{Method, SolveStats, SolverOptions};

/// A compiled model: parameters, outputs, and the programs that predict them.
/// Implements [`super::Predict`].
#[derive(Debug)]
pub struct Model {
    pub(crate) name: String,
    description: String,
    references: Vec<String>,
    source: String,
    origin: String,
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) outputs: Vec<Output>,
    pub(crate) states: Vec<String>,
    pub(crate) code: Arc<Code>,
    pub(crate) solver: SolverOptions,
    /// Full Ω blocks declared with `block` (parameter names).
    pub(crate) omega_blocks: Vec<Vec<String>>,
    pub(crate) pool: Mutex<Vec<Workspace>>,
    /// The solver's work counters summed over every ODE prediction of this value.
    pub(crate) solver_totals: Mutex<SolveStats>,
    /// The unit of `t` (the `time_unit` statement, default days).
    pub(crate) time_unit: TimeUnit,
    /// The data compartment (`cmt N`) of each output, in output order.
    pub(crate) output_cmts: Vec<Option<i64>>,
    /// Each declared covariate with the model line that first uses it (`None` when no
    /// expression uses it).
    pub(crate) covariate_uses: Vec<(String, Option<usize>)>,
    /// The derivative programs ([`super::sensitivity`]), compiled at first use and
    /// shared by clones.
    pub(crate) sensitivity: Arc<OnceLock<Result<SensitivityCode, String>>>,
}

impl Clone for Model {
    fn clone(&self) -> Self {
        Model {
            name: self.name.clone(),
            description: self.description.clone(),
            references: self.references.clone(),
            source: self.source.clone(),
            origin: self.origin.clone(),
            parameters: self.parameters.clone(),
            outputs: self.outputs.clone(),
            states: self.states.clone(),
            code: Arc::clone(&self.code),
            solver: self.solver.clone(),
            omega_blocks: self.omega_blocks.clone(),
            pool: Mutex::new(Vec::new()),
            solver_totals: Mutex::new(SolveStats::default()),
            time_unit: self.time_unit,
            output_cmts: self.output_cmts.clone(),
            covariate_uses: self.covariate_uses.clone(),
            sensitivity: Arc::clone(&self.sensitivity),
        }
    }
}

impl Model {
    /// Parse and compile a model text; `file` names it in error messages.
    pub fn parse(source: &str, file: &Path) -> Result<Model, ModelError> {
        let label = file.display().to_string();
        let mut m = build(source).map_err(|e| e.in_file(&label))?;
        m.origin = label;
        Ok(m)
    }

    /// Read, parse and compile a model file.
    pub fn from_file(path: &Path) -> Result<Model, ModelError> {
        let source = std::fs::read_to_string(path).map_err(|e| ModelError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Model::parse(&source, path)
    }

    /// A built-in model by name (see [`super::builtin_names`]), else a model file by path.
    pub fn load(name_or_path: &str) -> Result<Model, ModelError> {
        if let Some(src) = library::builtin_source(name_or_path) {
            let label = format!("<built-in {name_or_path}>");
            let mut m = build(src).map_err(|e| e.in_file(&label))?;
            m.origin = format!("built-in {name_or_path}");
            return Ok(m);
        }
        let path = Path::new(name_or_path);
        if path.exists() {
            return Model::from_file(path);
        }
        Err(ModelError::Unknown {
            name: name_or_path.to_string(),
            available: library::builtin_names().join(", "),
            hint: did_you_mean(name_or_path, library::builtin_names().iter().copied()),
        })
    }

    /// Model name (the `model` statement).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One-line description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Literature references.
    pub fn references(&self) -> &[String] {
        &self.references
    }

    /// The model text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where the model came from: `built-in NAME` or the file path.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// ODE state names, in declaration order (empty for a closed-form model).
    pub fn states(&self) -> &[String] {
        &self.states
    }

    /// Whether the model has no ODE states (outputs are evaluated directly).
    pub fn is_closed_form(&self) -> bool {
        self.states.is_empty()
    }

    /// The ODE solver settings (from the `solver` statement, else the defaults).
    pub fn solver_options(&self) -> &SolverOptions {
        &self.solver
    }

    /// The ODE solver's work counters (steps, rejections, switches, evaluations of the
    /// right-hand side and the Jacobian) summed over every prediction made with this
    /// model value since it was built, cloned or [`Model::reset_solver_totals`] — sums of
    /// counts, so the same whatever the number of threads that shared the model.
    pub fn solver_totals(&self) -> SolveStats {
        self.solver_totals.lock().map(|s| *s).unwrap_or_default()
    }

    /// Zero the counters of [`Model::solver_totals`].
    pub fn reset_solver_totals(&self) {
        if let Ok(mut s) = self.solver_totals.lock() {
            *s = SolveStats::default();
        }
    }

    /// Replace the ODE solver settings.
    pub fn set_solver_options(&mut self, options: SolverOptions) {
        self.solver = options;
        self.pool = Mutex::new(Vec::new());
    }

    /// The unit of time of the model's `t`, parameters and outputs (`time_unit`).
    pub fn time_unit(&self) -> TimeUnit {
        self.time_unit
    }

    /// The data compartment number (`output NAME ... cmt N`) of each output, in output
    /// order; `None` when the output does not declare one.
    pub fn output_cmts(&self) -> &[Option<i64>] {
        &self.output_cmts
    }

    /// The declared covariates, each with the model-file line that first uses it
    /// (`None` when no expression uses it).
    pub fn covariate_uses(&self) -> &[(String, Option<usize>)] {
        &self.covariate_uses
    }

    /// Typical values of all parameters, in parameter order.
    pub fn typical(&self) -> Vec<f64> {
        self.parameters.iter().map(|p| p.typical).collect()
    }
}

fn build(source: &str) -> Result<Model, Located> {
    let stmts = parse(source)?;
    let decls = Decls::collect(&stmts)?;
    let parameters = decls
        .params
        .iter()
        .map(parameter)
        .collect::<Result<Vec<_>, _>>()?;
    // the Jacobian ∂f/∂y: derivative lets of the states (all dynamic, so the programs
    // of the model itself are the same as compiled from `decls`)
    let states = (0..decls.states.len()).map(Var::State).collect();
    let diff = Differentiator::new(&decls, states);
    let mut gen = Gen::new(diff.decls());
    let mut name: Option<String> = None;
    let mut description: Option<String> = None;
    let mut references = Vec::new();
    // Without a `solver` statement: automatic stiffness switching.
    let mut solver = SolverOptions {
        method: Method::Auto,
        ..SolverOptions::default()
    };
    let mut solver_seen = false;
    let mut doses: Vec<(usize, Slot, Pos)> = Vec::new();
    let mut dose_cmts: Vec<(i64, usize)> = Vec::new();
    let mut time_unit: Option<TimeUnit> = None;
    let mut stops = Vec::new();
    let mut outputs: Vec<(At<Stmt>, Analyte)> = Vec::new();
    let mut errors: Vec<(Analyte, ErrorModel, Pos)> = Vec::new();
    let mut omega_blocks: Vec<Vec<String>> = Vec::new();
    for s in &stmts {
        match &s.node {
            Stmt::Block(names) => {
                omega_blocks.push(omega_block(names, &parameters, &omega_blocks)?)
            }
            Stmt::Model(n) => {
                if name.is_some() {
                    return Err(Located::new(
                        s.pos,
                        "a second `model` statement: expected one per file",
                    ));
                }
                name = Some(n.text.clone());
            }
            Stmt::Description(d) => {
                if description.is_some() {
                    return Err(Located::new(s.pos, "a second `description`: expected one per file (use `reference` for more text)"));
                }
                description = Some(d.clone());
            }
            Stmt::Reference(r) => references.push(r.clone()),
            Stmt::TimeUnit(unit) => {
                if time_unit.is_some() {
                    return Err(Located::new(
                        s.pos,
                        "a second `time_unit` statement: expected one per file",
                    ));
                }
                time_unit = Some(TimeUnit::parse(&unit.text).map_err(|_| {
                    Located::new(
                        unit.pos,
                        format!(
                            "unknown time unit `{}`: expected `hours` or `days`",
                            unit.text
                        ),
                    )
                })?);
            }
            Stmt::Dose { state, scale, cmt } => {
                let i = match decls.symbols.get(&state.text) {
                    Some((Sym::State(i), _)) => *i,
                    _ => {
                        let states = decls.states.iter().map(|s| s.0.text.as_str());
                        return Err(Located::new(
                            state.pos,
                            format!(
                                "`dose {}`: `{}` is not an ODE state{}: expected the name of a declared state",
                                state.text, state.text, did_you_mean(&state.text, states)
                            ),
                        ));
                    }
                };
                if let Some((_, _, p)) = doses.iter().find(|d| d.0 == i) {
                    return Err(Located::new(
                        state.pos,
                        format!(
                            "duplicate `dose {}`: already declared on line {}",
                            state.text, p.line
                        ),
                    ));
                }
                let what = format!("the dose scale of `{}`", state.text);
                let slot = match scale {
                    Some(e) => gen.individual_value(e, &what)?,
                    None => gen.individual_value(&one(state.pos), &what)?,
                };
                doses.push((i, slot, state.pos));
                if let Some((c, pos)) = cmt {
                    let c = compartment(*c, *pos)?;
                    if let Some((_, j)) = dose_cmts.iter().find(|d| d.0 == c) {
                        return Err(Located::new(
                            *pos,
                            format!(
                                "`cmt {c}` is already the compartment of state `{}`: expected one state per compartment",
                                decls.states[*j].0.text
                            ),
                        ));
                    }
                    dose_cmts.push((c, i));
                }
            }
            Stmt::Stop(e) => stops.push(gen.individual_value(e, "a stop time")?),
            Stmt::Output { analyte, .. } => {
                let a = Analyte::new(&analyte.text);
                if let Some((prev, _)) = outputs.iter().find(|o| o.1 == a) {
                    return Err(Located::new(
                        analyte.pos,
                        format!(
                            "duplicate output `{}`: already declared on line {}",
                            analyte.text, prev.pos.line
                        ),
                    ));
                }
                outputs.push((s.clone(), a));
            }
            Stmt::Error {
                analyte,
                kind,
                params,
            } => {
                errors.push((
                    Analyte::new(&analyte.text),
                    error_model(&decls, *kind, params)?,
                    analyte.pos,
                ));
            }
            Stmt::Solver { method, rtol, atol } => {
                if solver_seen {
                    return Err(Located::new(
                        s.pos,
                        "a second `solver` statement: expected one per file",
                    ));
                }
                solver_seen = true;
                solver.method = match method.text.as_str() {
                    "auto" => Method::Auto,
                    "dopri5" => Method::Dopri5,
                    "rodas4" => Method::Rodas4,
                    other => {
                        return Err(Located::new(method.pos, format!(
                            "unknown solver `{other}`{}: expected `auto` (switches by stiffness, the default), `dopri5` (explicit) or `rodas4` (stiff)",
                            did_you_mean(other, ["auto", "dopri5", "rodas4"])
                        )))
                    }
                };
                for (v, what) in [(rtol, "rtol"), (atol, "atol")] {
                    if let Some(x) = v {
                        if x.is_nan() || *x <= 0.0 {
                            return Err(Located::new(
                                s.pos,
                                format!("{what} {x}: expected a positive tolerance"),
                            ));
                        }
                    }
                }
                solver.rtol = rtol.unwrap_or(solver.rtol);
                solver.atol = atol.unwrap_or(solver.atol);
            }
            _ => {}
        }
    }
    let Some(name) = name else {
        return Err(Located::new(
            Pos { line: 1, column: 1 },
            "no `model NAME` statement: expected one naming the model",
        ));
    };
    // pair outputs with their error models
    for (a, _, pos) in &errors {
        if !outputs.iter().any(|o| &o.1 == a) {
            return Err(Located::new(
                *pos,
                format!(
                    "`error {a}` names no output{}: expected the analyte of an `output` statement",
                    did_you_mean(a.name(), outputs.iter().map(|o| o.1.name()))
                ),
            ));
        }
        if let Some(first) = errors.iter().find(|e| &e.0 == a) {
            if first.2 != *pos {
                return Err(Located::new(
                    *pos,
                    format!(
                        "a second `error {a}`: already given on line {}",
                        first.2.line
                    ),
                ));
            }
        }
    }
    let mut outs = Vec::new();
    let mut out_roots = Vec::new();
    let mut output_cmts = Vec::new();
    for (stmt, analyte) in &outputs {
        let Stmt::Output {
            analyte: an,
            expr,
            unit,
            lloq,
            cmt,
        } = &stmt.node
        else {
            unreachable!()
        };
        let c = cmt.map(|(c, pos)| compartment(c, pos)).transpose()?;
        if let Some(c) = c {
            if let Some(k) = output_cmts.iter().position(|o| *o == Some(c)) {
                return Err(Located::new(
                    an.pos,
                    format!(
                        "`cmt {c}` is already the compartment of output `{}`: expected one output per compartment",
                        outs.get(k).map_or("?", |o: &Output| o.analyte.name())
                    ),
                ));
            }
        }
        output_cmts.push(c);
        decls.level(expr, None)?;
        let Some((_, error, _)) = errors.iter().find(|e| &e.0 == analyte) else {
            return Err(Located::new(an.pos, format!(
                "output `{}` has no residual error model: expected a line `error {} add(P)`, `prop(P)`, `combined(PA, PB)` or `logadd(P)`",
                an.text, an.text
            )));
        };
        outs.push(Output {
            analyte: analyte.clone(),
            unit: unit.clone(),
            error: *error,
            lloq: *lloq,
        });
        out_roots.push((expr, format!("output `{}`", an.text)));
    }
    for (_, init) in &decls.states {
        decls.level(init, None)?;
    }
    for ((n, _), e) in decls.states.iter().zip(&decls.ddts) {
        decls.level(e, None)?;
        if let Some((pos, sym)) = decls.dose_symbol_use(e) {
            return Err(Located::new(
                pos,
                format!(
                    "`ddt({})` uses `{sym}`: expected `tad` and `last_dose` only in outputs and \
                     closed forms (an ODE receives its doses through `dose` statements)",
                    n.text
                ),
            ));
        }
    }
    let init_slots = decls
        .states
        .iter()
        .map(|(n, e)| gen.individual_value(e, &format!("the initial value of `{}`", n.text)))
        .collect::<Result<Vec<_>, _>>()?;
    let ddt_roots: Vec<(&super::ast::Expr, String)> = decls
        .states
        .iter()
        .zip(&decls.ddts)
        .map(|((n, _), e)| (e, format!("ddt({})", n.text)))
        .collect();
    let (rhs_code, deriv_slots) = gen.dynamic_program(&ddt_roots);
    let mut out_progs = Vec::new();
    for root in &out_roots {
        let (code, slots) = gen.dynamic_program(std::slice::from_ref(root));
        out_progs.push((code, slots[0]));
    }
    let (jacobian, jacobian_slots) = match jacobian_program(&mut gen, &diff, &ddt_roots) {
        Some((code, slots)) => (Some(Routine::new(gen.program(code)?)), slots),
        None => (None, Vec::new()),
    };
    let unit_slot = gen.individual_value(&one(Pos { line: 1, column: 1 }), "1")?;
    let individual_code = std::mem::take(&mut gen.individual);
    let mut code = Code {
        unit_slot,
        linear: decls.ddts_are_linear(),
        individual: Routine::new(gen.program(individual_code)?),
        rhs: Routine::new(gen.program(rhs_code)?),
        jacobian,
        jacobian_slots,
        outputs: out_progs
            .into_iter()
            .map(|(c, s)| Ok((Routine::new(gen.program(c)?), s)))
            .collect::<Result<Vec<_>, Located>>()?,
        template: gen.template(),
        param_slots: gen.param_slots.clone(),
        covariates: gen.covariates(),
        state_slots: gen.state_slots.clone(),
        init_slots,
        deriv_slots,
        stop_slots: stops,
        doses: doses.iter().map(|(i, s, _)| (*i, *s)).collect(),
        dose_cmts,
        names: gen.names.clone(),
    };
    code.compile_native();
    Ok(Model {
        name,
        description: description.unwrap_or_default(),
        references,
        source: source.to_string(),
        origin: String::new(),
        parameters,
        outputs: outs,
        states: decls.states.iter().map(|s| s.0.text.clone()).collect(),
        code: Arc::new(code),
        solver,
        omega_blocks,
        pool: Mutex::new(Vec::new()),
        solver_totals: Mutex::new(SolveStats::default()),
        time_unit: time_unit.unwrap_or_default(),
        output_cmts,
        covariate_uses: covariate_uses(&stmts, &decls),
        sensitivity: Arc::new(OnceLock::new()),
    })
}

/// Largest Jacobian (expression nodes over all entries) compiled; a larger one is left
/// to the solver's finite differences, so that no model fails to compile because of its
/// derivatives (the program size limits of `Gen::program`).
const MAX_JACOBIAN_NODES: usize = 20_000;

/// The program computing ∂f_i/∂y_j of every `ddt` (row-major), with the slot of each;
/// `None` for a closed form or a Jacobian above [`MAX_JACOBIAN_NODES`].
fn jacobian_program(
    gen: &mut Gen<'_>,
    diff: &Differentiator,
    ddts: &[(&super::ast::Expr, String)],
) -> Option<(super::vm::Block, Vec<Slot>)> {
    if ddts.is_empty() {
        return None;
    }
    let zero = super::ast::Expr {
        kind: super::ast::ExprKind::Num(0.0),
        pos: Pos { line: 1, column: 1 },
    };
    let mut entries = Vec::with_capacity(ddts.len() * ddts.len());
    for (f, what) in ddts {
        for j in 0..ddts.len() {
            let d = diff.derivative(f, j).unwrap_or_else(|| zero.clone());
            entries.push((d, format!("∂{what}/∂{}", diff.decls().states[j].0.text)));
        }
    }
    let lets: usize = diff.decls().lets[diff.base_lets()..]
        .iter()
        .map(|(_, e)| size(e))
        .sum();
    if lets + entries.iter().map(|(e, _)| size(e)).sum::<usize>() > MAX_JACOBIAN_NODES {
        return None;
    }
    let roots: Vec<(&super::ast::Expr, String)> =
        entries.iter().map(|(e, w)| (e, w.clone())).collect();
    Some(gen.dynamic_program(&roots))
}

/// Check a `block` statement: every name a parameter with `iiv`, none repeated or in an
/// earlier block.
fn omega_block(
    names: &[super::ast::Name],
    parameters: &[Parameter],
    earlier: &[Vec<String>],
) -> Result<Vec<String>, Located> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let with_iiv: Vec<&str> = parameters
            .iter()
            .filter(|p| p.omega2.is_some())
            .map(|p| p.name.as_str())
            .collect();
        if !with_iiv.contains(&n.text.as_str()) {
            return Err(Located::new(
                n.pos,
                format!(
                    "`block {}`: `{}` is not a parameter with `iiv`{}: expected parameters with between-subject variability ({})",
                    names.iter().map(|x| x.text.as_str()).collect::<Vec<_>>().join(" "),
                    n.text,
                    did_you_mean(&n.text, with_iiv.iter().copied()),
                    with_iiv.join(", ")
                ),
            ));
        }
        if out.contains(&n.text) || earlier.iter().flatten().any(|x| *x == n.text) {
            return Err(Located::new(
                n.pos,
                format!(
                    "`{}` is already in a `block`: expected each parameter in at most one",
                    n.text
                ),
            ));
        }
        out.push(n.text.clone());
    }
    Ok(out)
}

/// A `cmt N` number: a whole number ≥ 1.
fn compartment(c: f64, pos: Pos) -> Result<i64, Located> {
    if c.fract() == 0.0 && (1.0..=1e9).contains(&c) {
        Ok(c as i64)
    } else {
        Err(Located::new(
            pos,
            format!("compartment {c}: expected a whole number ≥ 1 (the data's CMT)"),
        ))
    }
}

/// Each covariate with the line of the first statement whose expression names it.
fn covariate_uses(stmts: &[At<Stmt>], decls: &Decls) -> Vec<(String, Option<usize>)> {
    fn names(e: &super::ast::Expr, name: &str) -> bool {
        use super::ast::ExprKind as K;
        match &e.kind {
            K::Num(_) => false,
            K::Name(n) => n == name,
            K::Neg(a) => names(a, name),
            K::Binary(_, a, b) => names(a, name) || names(b, name),
            K::Call(_, args) => args.iter().any(|a| names(a, name)),
        }
    }
    fn exprs(s: &Stmt) -> Vec<&super::ast::Expr> {
        match s {
            Stmt::Let { expr, .. } | Stmt::Ddt { expr, .. } | Stmt::Output { expr, .. } => {
                vec![expr]
            }
            Stmt::State { init, .. } => vec![init],
            Stmt::Stop(e) => vec![e],
            Stmt::Dose { scale, .. } => scale.iter().collect(),
            _ => Vec::new(),
        }
    }
    decls
        .covariates
        .iter()
        .map(|(n, _, _)| {
            let line = stmts
                .iter()
                .find(|s| exprs(&s.node).iter().any(|e| names(e, &n.text)))
                .map(|s| s.pos.line);
            (n.text.clone(), line)
        })
        .collect()
}

fn one(pos: Pos) -> super::ast::Expr {
    super::ast::Expr {
        kind: super::ast::ExprKind::Num(1.0),
        pos,
    }
}

fn error_model(
    decls: &Decls,
    kind: ErrorKind,
    params: &[super::ast::Name],
) -> Result<ErrorModel, Located> {
    let mut idx = Vec::new();
    for p in params {
        match decls.symbols.get(&p.text) {
            Some((Sym::Param(i), _)) if decls.params[*i].residual => idx.push(*i),
            Some((Sym::Param(_), _)) => {
                return Err(Located::new(
                    p.pos,
                    format!(
                    "`{}` is a structural parameter: expected a parameter declared with `residual`",
                    p.text
                ),
                ))
            }
            _ => {
                let residuals = decls
                    .params
                    .iter()
                    .filter(|q| q.residual)
                    .map(|q| q.name.text.as_str());
                return Err(Located::new(
                    p.pos,
                    format!(
                        "unknown residual parameter `{}`{}: expected a `param ... residual`",
                        p.text,
                        did_you_mean(&p.text, residuals)
                    ),
                ));
            }
        }
    }
    Ok(match kind {
        ErrorKind::Add => ErrorModel::Additive { a: idx[0] },
        ErrorKind::Prop => ErrorModel::Proportional { b: idx[0] },
        ErrorKind::Combined => ErrorModel::Combined {
            a: idx[0],
            b: idx[1],
        },
        ErrorKind::LogAdd => ErrorModel::LogAdditive { a: idx[0] },
    })
}

/// A declared parameter with the defaults applied and its values checked.
fn parameter(p: &super::ast::ParamDecl) -> Result<Parameter, Located> {
    let err = |m: String| {
        Err(Located::new(
            p.name.pos,
            format!("parameter `{}`: {m}", p.name.text),
        ))
    };
    let transform = match p.transform {
        Some(TransformKw::Log) => Transform::Log,
        Some(TransformKw::Logit) => Transform::Logit,
        Some(TransformKw::Identity) => Transform::Identity,
        None if p.residual => Transform::Log,
        None if p.value > 0.0 && p.bounds.is_none_or(|b| b.0 >= 0.0) => Transform::Log,
        None => Transform::Identity,
    };
    let (lower, upper) = p.bounds.unwrap_or(match transform {
        Transform::Log => (0.0, f64::INFINITY),
        Transform::Identity => (f64::NEG_INFINITY, f64::INFINITY),
        Transform::Logit => (0.0, 1.0),
    });
    if lower.is_nan() || upper.is_nan() || lower >= upper {
        return err(format!(
            "bounds {lower} {upper}: expected the lower bound below the upper"
        ));
    }
    if !(p.value >= lower && p.value <= upper) {
        return err(format!(
            "value {} is outside its bounds [{lower}, {upper}]",
            p.value
        ));
    }
    match transform {
        Transform::Log if !(p.value > 0.0 && lower >= 0.0) => {
            return err(format!("`log` needs a positive value and a lower bound ≥ 0, found value {} and lower bound {lower}", p.value));
        }
        Transform::Logit
            if !(lower.is_finite() && upper.is_finite() && p.value > lower && p.value < upper) =>
        {
            return err(format!("`logit` needs finite bounds and a value strictly inside them, found {} in [{lower}, {upper}]", p.value));
        }
        _ => {}
    }
    if let Some(w) = p.iiv {
        if p.residual {
            return err(
                "a residual parameter cannot have `iiv`: expected no between-subject variability"
                    .into(),
            );
        }
        if w.is_nan() || w < 0.0 {
            return err(format!("iiv {w}: expected a variance ≥ 0"));
        }
    }
    Ok(Parameter {
        name: p.name.text.clone(),
        typical: p.value,
        unit: p.unit.clone(),
        lower,
        upper,
        transform,
        omega2: p.iiv,
        fixed: p.fixed,
        role: if p.residual {
            Role::Residual
        } else {
            Role::Structural
        },
    })
}
