//! Comparing two schemas: types and formats, enums, constraints, defaults,
//! object properties, `additionalProperties`, array items and unions, each
//! judged for the directions the schema travels in.
//!
//! A `$ref` to the same component on both sides ends the walk: that component
//! is compared once, on its own, with the usage of every operation that
//! reaches it. A `$ref` that now names another component (or an inline
//! schema) is a type change for Rust, and the two targets are compared
//! structurally in place; a stack of the pairs being compared keeps recursive
//! schemas from looping.
//!
//! What does not belong here: operations, parameters, bodies and component
//! lists (`operations.rs`), and presentation (`render.rs`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::model::{Change, Direction, Group, Location, Rule, Usage, Verdict};
use super::names::{field_name, type_name};

const REF_PREFIX: &str = "#/components/schemas/";

/// What a dangling `$ref` resolves to.
static NULL: Value = Value::Null;

/// What kind of thing the compared schema describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Subject {
    /// A parameter's schema.
    Parameter,
    /// A request body's schema.
    RequestBody,
    /// A success response body's schema.
    ResponseBody,
    /// A component schema.
    Component,
}

/// Where a comparison happens and how its findings are attributed.
#[derive(Clone, Debug)]
pub(super) struct Ctx {
    /// The operation or component the findings belong to.
    pub(super) group: Group,
    /// The directions the schema travels in.
    pub(super) usage: Usage,
    /// What the root schema is.
    pub(super) subject: Subject,
    /// For operations: the part of the operation (`request body`, `query parameter page`).
    pub(super) prefix: String,
    /// The Rust item holding the root schema (`Client::icp_list().page()`), for notes.
    pub(super) rust_root: Option<String>,
}

/// Where in its parent a compared schema sits; the parent handles some
/// keywords itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Position {
    /// A value of its own (body root, component root, array item, map value,
    /// union variant): nullability and defaults are compared here.
    Value,
    /// An object property: the property comparison handles nullability and
    /// defaults, together with requiredness.
    Property,
    /// A parameter's schema: nullability means nothing for a query value.
    Parameter,
}

/// One finding before the usage picks its direction.
pub(super) struct Outcome {
    pub(super) rule: Rule,
    pub(super) wire: Verdict,
    pub(super) rust: Verdict,
    pub(super) message: String,
    pub(super) rust_note: Option<String>,
}

impl Outcome {
    pub(super) fn new(
        rule: Rule,
        wire: Verdict,
        rust: Verdict,
        message: impl Into<String>,
    ) -> Self {
        Outcome {
            rule,
            wire,
            rust,
            message: message.into(),
            rust_note: None,
        }
    }

    pub(super) fn note(mut self, note: Option<String>) -> Self {
        self.rust_note = note;
        self
    }

    fn key(&self) -> (Verdict, Verdict, Verdict) {
        (self.wire.max(self.rust), self.wire, self.rust)
    }
}

/// Compares schemas of two documents and collects the findings.
pub(super) struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    /// The pairs of differently named components being compared, outermost first.
    stack: Vec<(String, String)>,
    pub(super) changes: Vec<Change>,
}

/// A schema with its `$ref` and single-member `allOf` wrapper looked through.
struct View<'a> {
    schema: Cow<'a, Value>,
    /// The component the schema referred to.
    name: Option<String>,
    nullable: bool,
    default: Option<&'a Value>,
}

impl<'a> Differ<'a> {
    pub(super) fn new(old: &'a Value, new: &'a Value) -> Self {
        Differ {
            old,
            new,
            stack: Vec::new(),
            changes: Vec::new(),
        }
    }

    pub(super) fn old_doc(&self) -> &'a Value {
        self.old
    }

    pub(super) fn new_doc(&self) -> &'a Value {
        self.new
    }

    /// Records a finding, judged for every direction of the context's usage;
    /// when there are two, the stricter one is kept.
    pub(super) fn emit<F>(&mut self, ctx: &Ctx, path: &str, judge: F)
    where
        F: Fn(Direction) -> Option<Outcome>,
    {
        let mut best: Option<Outcome> = None;
        let (mut wire, mut rust) = (Verdict::NotBreaking, Verdict::NotBreaking);
        for direction in ctx.usage.directions() {
            let Some(outcome) = judge(direction) else {
                continue;
            };
            wire = wire.max(outcome.wire);
            rust = rust.max(outcome.rust);
            if best.as_ref().is_none_or(|b| outcome.key() > b.key()) {
                best = Some(outcome);
            }
        }
        if let Some(best) = best {
            self.changes.push(Change {
                rule: best.rule,
                location: location(ctx, path),
                message: best.message,
                wire,
                rust,
                rust_note: best.rust_note,
            });
        }
    }

    /// Compares two schemas found at `path`.
    pub(super) fn value(
        &mut self,
        ctx: &Ctx,
        path: &str,
        old: &Value,
        new: &Value,
        position: Position,
    ) {
        let (o, n) = (view(self.old, old), view(self.new, new));
        if position == Position::Value && o.nullable != n.nullable {
            let rust_note =
                rust_item(ctx, path).map(|item| format!("{item}: {}", option_change(o.nullable)));
            let became = n.nullable;
            self.emit(ctx, path, |d| {
                let (rule, wire) = match (d, became) {
                    (Direction::Request, true) => (Rule::RequestPropertyBecameNullable, false),
                    (Direction::Request, false) => (Rule::RequestPropertyBecameNotNullable, true),
                    (Direction::Response, true) => (Rule::ResponsePropertyBecameNullable, true),
                    (Direction::Response, false) => {
                        (Rule::ResponsePropertyBecameNotNullable, false)
                    }
                };
                let message = if became {
                    "may now be null"
                } else {
                    "may no longer be null"
                };
                Some(
                    Outcome::new(rule, Verdict::when(wire), Verdict::Breaking, message)
                        .note(rust_note.clone()),
                )
            });
        }
        if position != Position::Property {
            self.default(ctx, path, o.default, n.default, false);
        }
        match (&o.name, &n.name) {
            (Some(a), Some(b)) if a == b => return,
            (None, None) => {}
            (a, b) => {
                let describe = |name: &Option<String>| match name {
                    Some(name) => format!("`{name}`"),
                    None => "an inline schema".to_owned(),
                };
                let message = format!("{} → {}", describe(a), describe(b));
                let rust_note = match (a, b) {
                    (Some(a), Some(b)) if type_name(a) == *a && type_name(b) == *b => None,
                    (Some(a), Some(b)) => Some(format!("`{}` → `{}`", type_name(a), type_name(b))),
                    _ => Some("another Rust type".to_owned()),
                };
                self.emit(ctx, path, |d| {
                    Some(
                        Outcome::new(
                            type_rule(ctx, path, d),
                            Verdict::NotBreaking,
                            Verdict::Breaking,
                            message.clone(),
                        )
                        .note(rust_note.clone()),
                    )
                });
                let pair = (a.clone().unwrap_or_default(), b.clone().unwrap_or_default());
                if self.stack.contains(&pair) {
                    return;
                }
                self.stack.push(pair);
                self.structure(ctx, path, &o.schema, &n.schema);
                self.stack.pop();
                return;
            }
        }
        self.structure(ctx, path, &o.schema, &n.schema);
    }

    /// Compares two schemas that are not references.
    fn structure(&mut self, ctx: &Ctx, path: &str, old: &Value, new: &Value) {
        match (union(old), union(new)) {
            (None, None) => {}
            (Some(o), Some(n)) => return self.union(ctx, path, &o, &n),
            (o, n) => {
                let describe = |u: &Option<Union<'_>>, s: &Value| match u {
                    Some(u) => format!("a union of {}", u.variants.len()),
                    None => format!("`{}`", type_label(s)),
                };
                let message = format!("{} → {}", describe(&o, old), describe(&n, new));
                self.emit(ctx, path, |d| {
                    Some(Outcome::new(
                        type_rule(ctx, path, d),
                        Verdict::Breaking,
                        Verdict::Breaking,
                        message.clone(),
                    ))
                });
                return;
            }
        }
        let old = merge_all_of(self.old, old);
        let new = merge_all_of(self.new, new);
        if !self.type_and_format(ctx, path, &old, &new) {
            return;
        }
        self.enumeration(ctx, path, &old, &new);
        self.constraints(ctx, path, &old, &new);
        if is_object(&old) || is_object(&new) {
            self.properties(ctx, path, &old, &new);
            self.additional_properties(ctx, path, &old, &new);
        }
        if let (Some(o), Some(n)) = (old.get("items"), new.get("items")) {
            self.value(ctx, &format!("{path}[]"), o, n, Position::Value);
        }
    }

    /// Returns whether the base types agree (so that the rest is comparable).
    fn type_and_format(&mut self, ctx: &Ctx, path: &str, old: &Value, new: &Value) -> bool {
        let (ot, nt) = (base_type(old), base_type(new));
        let (of, nf) = (format(old), format(new));
        if ot == nt && of == nf {
            return true;
        }
        let (or, nr) = (rust_base(old), rust_base(new));
        let rust = Verdict::when(or != nr);
        let rust_note = (or != nr).then(|| format!("`{or}` → `{nr}`"));
        let message = format!("`{}` → `{}`", type_label(old), type_label(new));
        let same_type = ot == nt;
        self.emit(ctx, path, |d| {
            let wire = if same_type {
                // Only the format changed.
                match d {
                    Direction::Request => nf.is_some(),
                    Direction::Response => {
                        of.is_some() && rust_base(old) != rust_base(&json!({"type": ot}))
                    }
                }
            } else {
                // Widening is fine where the client sends, narrowing where it receives.
                !matches!(
                    (d, ot, nt),
                    (Direction::Request, Some("integer"), Some("number"))
                        | (Direction::Response, Some("number"), Some("integer"))
                )
            };
            Some(
                Outcome::new(
                    type_rule(ctx, path, d),
                    Verdict::when(wire),
                    rust,
                    message.clone(),
                )
                .note(rust_note.clone()),
            )
        });
        same_type
    }

    fn enumeration(&mut self, ctx: &Ctx, path: &str, old: &Value, new: &Value) {
        let item = rust_item(ctx, path);
        match (enum_values(old), enum_values(new)) {
            (None, None) => {}
            (None, Some(values)) => {
                let message = format!("now one of {}", list(&values));
                let note = item.map(|i| format!("{i} becomes an enum"));
                self.emit(ctx, path, |d| {
                    Some(
                        Outcome::new(
                            Rule::EnumConstraintAdded,
                            Verdict::when(d == Direction::Request),
                            Verdict::Breaking,
                            message.clone(),
                        )
                        .note(note.clone()),
                    )
                });
            }
            (Some(values), None) => {
                let message = format!("no longer restricted to {}", list(&values));
                let note = item.map(|i| format!("{i} is no longer an enum"));
                self.emit(ctx, path, |_| {
                    Some(
                        Outcome::new(
                            Rule::EnumConstraintRemoved,
                            Verdict::NotBreaking,
                            Verdict::Breaking,
                            message.clone(),
                        )
                        .note(note.clone()),
                    )
                });
            }
            (Some(o), Some(n)) => {
                for value in n.difference(&o) {
                    let message = format!("value {value} added");
                    self.emit(ctx, path, |_| {
                        Some(Outcome::new(
                            Rule::EnumValueAdded,
                            Verdict::NotBreaking,
                            Verdict::NotBreaking,
                            message.clone(),
                        ))
                    });
                }
                for value in o.difference(&n) {
                    let message = format!("value {value} removed");
                    let note = Some(format!("the variant for {value} disappears"));
                    self.emit(ctx, path, |d| {
                        Some(
                            Outcome::new(
                                Rule::EnumValueRemoved,
                                Verdict::when(d == Direction::Request),
                                Verdict::Breaking,
                                message.clone(),
                            )
                            .note(note.clone()),
                        )
                    });
                }
            }
        }
    }

    fn constraints(&mut self, ctx: &Ctx, path: &str, old: &Value, new: &Value) {
        let (or, nr) = (rust_type(old), rust_type(new));
        let rust = Verdict::when(or != nr);
        let rust_note = (or != nr).then(|| format!("`{or}` → `{nr}`"));
        let old_validates = validates(&or);
        for &(key, bound) in CONSTRAINTS {
            let (o, n) = (old.get(key), new.get(key));
            if o == n {
                continue;
            }
            let tightened = match (o, n, bound) {
                (None, Some(_), _) => true,
                (Some(_), None, _) => false,
                (Some(o), Some(n), Bound::Lower) => as_f64(n) > as_f64(o),
                (Some(o), Some(n), Bound::Upper) => as_f64(n) < as_f64(o),
                // A changed pattern or flag may refuse what the old one accepted.
                (Some(_), Some(n), Bound::Other) => n != &Value::Bool(false),
                (None, None, _) => continue,
            };
            let show =
                |v: Option<&Value>| v.map_or_else(|| "none".to_owned(), |v| format!("`{v}`"));
            let message = format!("`{key}` {} → {}", show(o), show(n));
            let string_key = matches!(key, "pattern" | "minLength" | "maxLength");
            self.emit(ctx, path, |d| {
                let wire = match d {
                    Direction::Request => tightened,
                    // The old client validates strings it decodes into a newtype,
                    // and decodes integers into unsigned types.
                    Direction::Response => !tightened && old_validates && (string_key || or != nr),
                };
                let rule = if tightened {
                    Rule::ConstraintTightened
                } else {
                    Rule::ConstraintRelaxed
                };
                Some(
                    Outcome::new(rule, Verdict::when(wire), rust, message.clone())
                        .note(rust_note.clone()),
                )
            });
        }
    }

    /// Compares defaults; `option_sensitive` says whether a default appearing
    /// or disappearing moves the Rust field between `T` and `Option<T>`.
    fn default(
        &mut self,
        ctx: &Ctx,
        path: &str,
        old: Option<&Value>,
        new: Option<&Value>,
        option_sensitive: bool,
    ) {
        if old == new {
            return;
        }
        let message = match (old, new) {
            (None, Some(n)) => format!("default `{n}` added"),
            (Some(o), None) => format!("default `{o}` removed"),
            (Some(o), Some(n)) => format!("default `{o}` → `{n}`"),
            (None, None) => return,
        };
        let toggled = old.is_some() != new.is_some();
        let rust = Verdict::when(option_sensitive && toggled);
        let note = (rust == Verdict::Breaking)
            .then(|| rust_item(ctx, path).map(|i| format!("{i}: {}", option_change(old.is_none()))))
            .flatten();
        self.emit(ctx, path, |_| {
            Some(
                Outcome::new(
                    Rule::DefaultChanged,
                    Verdict::NotBreaking,
                    rust,
                    message.clone(),
                )
                .note(note.clone()),
            )
        });
    }

    fn properties(&mut self, ctx: &Ctx, path: &str, old: &Value, new: &Value) {
        let empty = Map::new();
        let op = old
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let np = new
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let (oreq, nreq) = (required(old), required(new));
        let names: BTreeSet<&String> = op.keys().chain(np.keys()).collect();
        for name in names {
            let sub = format!("{path}.{name}");
            match (op.get(name), np.get(name)) {
                (None, Some(schema)) => {
                    let p = Prop::of(self.new, schema, nreq.contains(name.as_str()));
                    let label = type_label(&view(self.new, schema).schema);
                    let note = rust_item(ctx, &sub).map(|i| format!("new field {i}"));
                    self.emit(ctx, &sub, |d| {
                        let (rule, breaking) = match d {
                            Direction::Request if p.required && !p.has_default => {
                                (Rule::RequestPropertyAddedRequired, true)
                            }
                            Direction::Request => (Rule::RequestPropertyAddedOptional, false),
                            Direction::Response => (Rule::ResponsePropertyAdded, false),
                        };
                        let message = format!("added ({} `{label}`)", p.describe());
                        let note = if breaking {
                            Some(
                                "builders that do not set it fail in `build()`/`send()`".to_owned(),
                            )
                        } else {
                            note.clone()
                        };
                        Some(
                            Outcome::new(
                                rule,
                                Verdict::when(breaking),
                                Verdict::when(breaking),
                                message,
                            )
                            .note(note),
                        )
                    });
                }
                (Some(schema), None) => {
                    let p = Prop::of(self.old, schema, oreq.contains(name.as_str()));
                    let label = type_label(&view(self.old, schema).schema);
                    let note = rust_item(ctx, &sub).map(|i| format!("field {i} removed"));
                    self.emit(ctx, &sub, |d| {
                        let (rule, wire) = match d {
                            Direction::Request => (Rule::RequestPropertyRemoved, false),
                            Direction::Response => {
                                (Rule::ResponsePropertyRemoved, !p.tolerates_absence())
                            }
                        };
                        let message = format!("removed (was {} `{label}`)", p.describe());
                        Some(
                            Outcome::new(rule, Verdict::when(wire), Verdict::Breaking, message)
                                .note(note.clone()),
                        )
                    });
                }
                (Some(os), Some(ns)) => {
                    let o = Prop::of(self.old, os, oreq.contains(name.as_str()));
                    let n = Prop::of(self.new, ns, nreq.contains(name.as_str()));
                    self.property(ctx, &sub, &o, &n);
                    self.value(ctx, &sub, os, ns, Position::Property);
                }
                (None, None) => {}
            }
        }
    }

    /// Requiredness, nullability and defaults of one property, applied in that
    /// order so that each Rust verdict reflects its own step.
    fn property(&mut self, ctx: &Ctx, path: &str, o: &Prop<'_>, n: &Prop<'_>) {
        let item = rust_item(ctx, path);
        let step1 = Prop {
            required: n.required,
            ..*o
        };
        if o.required != n.required {
            let rust = Verdict::when(o.is_option() != step1.is_option());
            let note = (rust == Verdict::Breaking)
                .then(|| {
                    item.as_ref()
                        .map(|i| format!("{i}: {}", option_change(o.is_option())))
                })
                .flatten();
            let became = n.required;
            let tolerates = o.tolerates_absence();
            self.emit(ctx, path, |d| {
                let (rule, wire) = match (d, became) {
                    (Direction::Request, true) => (Rule::RequestPropertyBecameRequired, true),
                    (Direction::Request, false) => (Rule::RequestPropertyBecameOptional, false),
                    (Direction::Response, true) => (Rule::ResponsePropertyBecameRequired, false),
                    (Direction::Response, false) => {
                        (Rule::ResponsePropertyBecameOptional, !tolerates)
                    }
                };
                let message = if became {
                    "became required"
                } else {
                    "became optional"
                };
                Some(Outcome::new(rule, Verdict::when(wire), rust, message).note(note.clone()))
            });
        }
        let step2 = Prop {
            nullable: n.nullable,
            ..step1
        };
        if o.nullable != n.nullable {
            let rust = Verdict::when(step1.is_option() != step2.is_option());
            let note = (rust == Verdict::Breaking)
                .then(|| {
                    item.as_ref()
                        .map(|i| format!("{i}: {}", option_change(step1.is_option())))
                })
                .flatten();
            let became = n.nullable;
            let tolerates_null = step1.is_option();
            self.emit(ctx, path, |d| {
                let (rule, wire) = match (d, became) {
                    (Direction::Request, true) => (Rule::RequestPropertyBecameNullable, false),
                    (Direction::Request, false) => (Rule::RequestPropertyBecameNotNullable, true),
                    (Direction::Response, true) => {
                        (Rule::ResponsePropertyBecameNullable, !tolerates_null)
                    }
                    (Direction::Response, false) => {
                        (Rule::ResponsePropertyBecameNotNullable, false)
                    }
                };
                let message = if became {
                    "may now be null"
                } else {
                    "may no longer be null"
                };
                Some(Outcome::new(rule, Verdict::when(wire), rust, message).note(note.clone()))
            });
        }
        let sensitive = !step2.required && !step2.nullable && !step2.container;
        self.default(ctx, path, o.default, n.default, sensitive);
    }

    fn additional_properties(&mut self, ctx: &Ctx, path: &str, old: &Value, new: &Value) {
        let (o, n) = (
            old.get("additionalProperties"),
            new.get("additionalProperties"),
        );
        let (ok, nk) = (extra_kind(o), extra_kind(n));
        if let (Extra::Schema, Extra::Schema) = (ok, nk) {
            if let (Some(o), Some(n)) = (o, n) {
                self.value(ctx, &format!("{path}{{}}"), o, n, Position::Value);
            }
            return;
        }
        if ok == nk {
            return;
        }
        let has_properties = old.get("properties").is_some() || new.get("properties").is_some();
        let rust = Verdict::when(!(has_properties && ok != Extra::Schema && nk != Extra::Schema));
        let message = format!(
            "`additionalProperties` {} → {}",
            ok.describe(),
            nk.describe()
        );
        let note = (rust == Verdict::Breaking)
            .then(|| "the Rust type changes between a struct and a map".to_owned());
        self.emit(ctx, path, |d| {
            let wire = match d {
                // Stricter: keys or values old clients send may be refused.
                Direction::Request => {
                    nk == Extra::Closed || (ok == Extra::Open && nk == Extra::Schema)
                }
                // Looser: old clients refuse unknown keys or decode values strictly.
                Direction::Response => {
                    ok == Extra::Closed || (ok == Extra::Schema && nk == Extra::Open)
                }
            };
            Some(
                Outcome::new(
                    Rule::AdditionalPropertiesChanged,
                    Verdict::when(wire),
                    rust,
                    message.clone(),
                )
                .note(note.clone()),
            )
        });
    }

    fn union(&mut self, ctx: &Ctx, path: &str, old: &Union<'_>, new: &Union<'_>) {
        if old.discriminator != new.discriminator {
            let show = |d: &Option<&str>| d.map_or_else(|| "none".to_owned(), |d| format!("`{d}`"));
            let message = format!(
                "discriminator {} → {}",
                show(&old.discriminator),
                show(&new.discriminator)
            );
            self.emit(ctx, path, |_| {
                Some(Outcome::new(
                    Rule::DiscriminatorChanged,
                    Verdict::Breaking,
                    Verdict::Breaking,
                    message.clone(),
                ))
            });
        }
        let tagged = new.discriminator.is_some();
        let (ov, nv) = (old.keyed(), new.keyed());
        for (key, variant) in &nv {
            if ov.contains_key(key) {
                continue;
            }
            let message = format!("variant {} added", variant.describe(key));
            self.emit(ctx, path, |d| {
                let (wire, rust) = match (tagged, d) {
                    (true, _) => (false, false),
                    (false, Direction::Request) => (false, true),
                    (false, Direction::Response) => (true, true),
                };
                let note =
                    rust.then(|| "a new variant of an exhaustive (untagged) enum".to_owned());
                Some(
                    Outcome::new(
                        Rule::UnionVariantAdded,
                        Verdict::when(wire),
                        Verdict::when(rust),
                        message.clone(),
                    )
                    .note(note),
                )
            });
        }
        for (key, variant) in &ov {
            let Some(other) = nv.get(key) else {
                let message = format!("variant {} removed", variant.describe(key));
                self.emit(ctx, path, |d| {
                    Some(
                        Outcome::new(
                            Rule::UnionVariantRemoved,
                            Verdict::when(d == Direction::Request),
                            Verdict::Breaking,
                            message.clone(),
                        )
                        .note(Some("its Rust variant disappears".to_owned())),
                    )
                });
                continue;
            };
            let sub = format!("{path}<{key}>");
            match (&variant.name, &other.name) {
                (Some(a), Some(b)) if a == b => {}
                (Some(a), Some(b)) => {
                    let message = format!("variant `{key}`: `{a}` → `{b}`");
                    let note = Some(format!(
                        "the variant holds `{}` instead of `{}`",
                        type_name(b),
                        type_name(a)
                    ));
                    self.emit(ctx, path, |_| {
                        Some(
                            Outcome::new(
                                Rule::UnionVariantTypeChanged,
                                Verdict::NotBreaking,
                                Verdict::Breaking,
                                message.clone(),
                            )
                            .note(note.clone()),
                        )
                    });
                    let pair = (a.clone(), b.clone());
                    if !self.stack.contains(&pair) {
                        self.stack.push(pair);
                        let (o, n) = (view(self.old, variant.schema), view(self.new, other.schema));
                        self.structure(ctx, &sub, &o.schema, &n.schema);
                        self.stack.pop();
                    }
                }
                _ => self.value(ctx, &sub, variant.schema, other.schema, Position::Value),
            }
        }
    }
}

/// The rule for a type change of the value at `path`.
fn type_rule(ctx: &Ctx, path: &str, direction: Direction) -> Rule {
    match (ctx.subject, path.is_empty()) {
        (Subject::Parameter, _) => Rule::ParameterTypeChanged,
        (Subject::RequestBody, true) => Rule::RequestBodyTypeChanged,
        (Subject::ResponseBody, true) => Rule::ResponseBodyTypeChanged,
        _ => Rule::directed(
            Rule::RequestPropertyTypeChanged,
            Rule::ResponsePropertyTypeChanged,
            direction,
        ),
    }
}

/// The location of `path` (`.a[].b`) in the context's group.
pub(super) fn location(ctx: &Ctx, path: &str) -> Location {
    let path = path.strip_prefix('.').unwrap_or(path);
    let detail = match (ctx.prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => ctx.prefix.clone(),
        (false, false) => format!("{}: {path}", ctx.prefix),
    };
    Location {
        group: ctx.group.clone(),
        detail,
    }
}

/// The Rust item at `path`, where it is easy to name: the root item, or a
/// field directly under a component.
fn rust_item(ctx: &Ctx, path: &str) -> Option<String> {
    if path.is_empty() {
        return ctx.rust_root.clone();
    }
    let field = path.strip_prefix('.')?;
    if field.contains(['.', '[', '{', '<']) {
        return None;
    }
    match &ctx.group {
        Group::Component { name, .. } => {
            Some(format!("`{}::{}`", type_name(name), field_name(field)))
        }
        Group::Operation { .. } => None,
    }
}

fn option_change(was_option: bool) -> &'static str {
    if was_option {
        "`Option<T>` → `T`"
    } else {
        "`T` → `Option<T>`"
    }
}

/// A property as the generated struct sees it.
#[derive(Clone, Copy)]
struct Prop<'a> {
    required: bool,
    nullable: bool,
    default: Option<&'a Value>,
    has_default: bool,
    /// A list or map: typify gives an optional one a `serde(default)` instead of an `Option`.
    container: bool,
}

impl<'a> Prop<'a> {
    fn of(doc: &'a Value, schema: &'a Value, required: bool) -> Self {
        let v = view(doc, schema);
        let container = v.name.is_none()
            && match base_type(&v.schema) {
                Some("array") => true,
                Some("object") => v.schema.get("properties").is_none(),
                _ => false,
            };
        Prop {
            required,
            nullable: v.nullable,
            default: v.default,
            has_default: v.default.is_some(),
            container,
        }
    }

    /// Whether the Rust field is an `Option`.
    fn is_option(&self) -> bool {
        self.nullable || (!self.required && !self.has_default && !self.container)
    }

    /// Whether the generated struct decodes an object without this property.
    fn tolerates_absence(&self) -> bool {
        self.is_option() || !self.required
    }

    fn describe(&self) -> &'static str {
        match (self.required, self.nullable) {
            (true, false) => "required",
            (true, true) => "required, nullable",
            (false, false) => "optional",
            (false, true) => "optional, nullable",
        }
    }
}

fn view<'a>(doc: &'a Value, schema: &'a Value) -> View<'a> {
    let mut current = schema;
    let mut nullable = is_nullable(current);
    let mut default = current.get("default");
    if let Some([inner]) = current
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        && current.get("properties").is_none()
        && current.get("type").is_none()
    {
        current = inner;
        nullable |= is_nullable(current);
        default = default.or(current.get("default"));
    }
    let mut name = None;
    for _ in 0..16 {
        let Some(target) = current.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let component = target.strip_prefix(REF_PREFIX).unwrap_or(target);
        name.get_or_insert_with(|| component.to_owned());
        current = doc
            .pointer(&format!(
                "/components/schemas/{}",
                component.replace('~', "~0").replace('/', "~1")
            ))
            .unwrap_or(&NULL);
        nullable |= is_nullable(current);
        default = default.or(current.get("default"));
    }
    View {
        schema: Cow::Borrowed(current),
        name,
        nullable,
        default,
    }
}

fn is_nullable(schema: &Value) -> bool {
    schema.get("nullable") == Some(&Value::Bool(true))
        || schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|values| values.contains(&Value::Null))
}

/// An `allOf` with several members, merged into one object schema.
fn merge_all_of<'s>(doc: &Value, schema: &'s Value) -> Cow<'s, Value> {
    let Some(members) = schema.get("allOf").and_then(Value::as_array) else {
        return Cow::Borrowed(schema);
    };
    let mut merged = schema.as_object().cloned().unwrap_or_default();
    merged.remove("allOf");
    let mut properties = merged
        .remove("properties")
        .and_then(|p| p.as_object().cloned())
        .unwrap_or_default();
    let mut required: BTreeSet<String> = schema_required(schema);
    for member in members {
        let member = view(doc, member);
        let member = merge_all_of(doc, &member.schema).into_owned();
        if let Some(p) = member.get("properties").and_then(Value::as_object) {
            properties.extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        required.extend(schema_required(&member));
        for key in ["type", "additionalProperties"] {
            if let (false, Some(v)) = (merged.contains_key(key), member.get(key)) {
                merged.insert(key.into(), v.clone());
            }
        }
    }
    merged.insert("properties".into(), Value::Object(properties));
    merged.insert("required".into(), json!(required));
    Cow::Owned(Value::Object(merged))
}

fn schema_required(schema: &Value) -> BTreeSet<String> {
    required(schema).into_iter().map(str::to_owned).collect()
}

fn required(schema: &Value) -> BTreeSet<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn is_object(schema: &Value) -> bool {
    base_type(schema) == Some("object")
}

/// The JSON type, inferred from the keywords when `type` is absent.
fn base_type(schema: &Value) -> Option<&str> {
    match schema.get("type").and_then(Value::as_str) {
        Some(t) => Some(t),
        None if schema.get("properties").is_some()
            || schema.get("additionalProperties").is_some() =>
        {
            Some("object")
        }
        None if schema.get("items").is_some() => Some("array"),
        None => None,
    }
}

fn format(schema: &Value) -> Option<&str> {
    schema.get("format").and_then(Value::as_str)
}

/// `string`, `string(date-time)`, `array`, `any`.
fn type_label(schema: &Value) -> String {
    match (base_type(schema), format(schema)) {
        (Some(t), Some(f)) => format!("{t}({f})"),
        (Some(t), None) => t.to_owned(),
        (None, _) if union(schema).is_some() => "union".to_owned(),
        (None, _) => "any".to_owned(),
    }
}

/// The Rust type typify picks for a type and format, ignoring constraints.
fn rust_base(schema: &Value) -> String {
    let t = match (base_type(schema), format(schema)) {
        (Some("string"), Some("date-time")) => "chrono::DateTime<Utc>",
        (Some("string"), Some("date")) => "chrono::NaiveDate",
        (Some("string"), Some("uuid")) => "uuid::Uuid",
        (Some("string"), _) => "String",
        (
            Some("integer"),
            Some(f @ ("int8" | "int16" | "int32" | "uint8" | "uint16" | "uint32" | "uint64")),
        ) => {
            return f.replace("int", "i").replace("ui", "u");
        }
        (Some("integer"), _) => "i64",
        (Some("number"), Some("float")) => "f32",
        (Some("number"), _) => "f64",
        (Some("boolean"), _) => "bool",
        (Some("array"), _) => "Vec",
        (Some("object"), _) => "object",
        _ => "serde_json::Value",
    };
    t.to_owned()
}

/// [`rust_base`] refined by the constraints typify turns into types: a
/// constrained string is a validating newtype; an integer bounded below by 0
/// or 1 is `u64` or `NonZeroU64`.
fn rust_type(schema: &Value) -> String {
    let base = rust_base(schema);
    match base.as_str() {
        "String"
            if ["pattern", "minLength", "maxLength"]
                .iter()
                .any(|k| schema.get(k).is_some()) =>
        {
            "String newtype (validated)".to_owned()
        }
        "i64" => match schema.get("minimum").map(as_f64) {
            Some(m) if m >= 1.0 => "NonZeroU64".to_owned(),
            Some(m) if m >= 0.0 => "u64".to_owned(),
            _ => base,
        },
        _ => base,
    }
}

/// Whether decoding into this Rust type checks more than the JSON type.
fn validates(rust: &str) -> bool {
    matches!(rust, "String newtype (validated)" | "NonZeroU64" | "u64")
}

#[derive(Clone, Copy)]
enum Bound {
    Lower,
    Upper,
    Other,
}

const CONSTRAINTS: &[(&str, Bound)] = &[
    ("minimum", Bound::Lower),
    ("exclusiveMinimum", Bound::Other),
    ("maximum", Bound::Upper),
    ("exclusiveMaximum", Bound::Other),
    ("minLength", Bound::Lower),
    ("maxLength", Bound::Upper),
    ("pattern", Bound::Other),
    ("minItems", Bound::Lower),
    ("maxItems", Bound::Upper),
    ("minProperties", Bound::Lower),
    ("maxProperties", Bound::Upper),
    ("multipleOf", Bound::Other),
];

fn as_f64(value: &Value) -> f64 {
    value.as_f64().unwrap_or(0.0)
}

/// Enum values other than `null` (nullability is compared on its own), as JSON text.
fn enum_values(schema: &Value) -> Option<BTreeSet<String>> {
    schema.get("enum").and_then(Value::as_array).map(|values| {
        values
            .iter()
            .filter(|v| !v.is_null())
            .map(Value::to_string)
            .collect()
    })
}

fn list(values: &BTreeSet<String>) -> String {
    values.iter().cloned().collect::<Vec<_>>().join(", ")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extra {
    /// Absent or `true`: unknown keys are allowed.
    Open,
    /// `false`.
    Closed,
    /// A schema for the values.
    Schema,
}

impl Extra {
    fn describe(self) -> &'static str {
        match self {
            Extra::Open => "`true`/absent",
            Extra::Closed => "`false`",
            Extra::Schema => "a schema",
        }
    }
}

fn extra_kind(value: Option<&Value>) -> Extra {
    match value {
        None | Some(Value::Bool(true)) => Extra::Open,
        Some(Value::Bool(false)) => Extra::Closed,
        Some(_) => Extra::Schema,
    }
}

/// A `oneOf`/`anyOf`, with its discriminator.
struct Union<'a> {
    variants: &'a [Value],
    discriminator: Option<&'a str>,
    /// Discriminator tag → component name.
    mapping: BTreeMap<&'a str, &'a str>,
}

struct Variant<'a> {
    schema: &'a Value,
    name: Option<String>,
    tagged: bool,
}

impl Variant<'_> {
    fn describe(&self, key: &str) -> String {
        match (&self.name, self.tagged) {
            (Some(name), true) => format!("`{key}` (`{name}`)"),
            (Some(name), false) => format!("`{name}`"),
            (None, _) => format!("`{key}` (`{}`)", type_label(self.schema)),
        }
    }
}

impl<'a> Union<'a> {
    /// The variants by discriminator tag, else by component name, else by
    /// position (`#0`).
    fn keyed(&self) -> BTreeMap<String, Variant<'a>> {
        let mut keyed = BTreeMap::new();
        let by_name: BTreeMap<&str, &str> = self
            .mapping
            .iter()
            .map(|(tag, name)| (*name, *tag))
            .collect();
        for (i, schema) in self.variants.iter().enumerate() {
            let name = schema
                .get("$ref")
                .and_then(Value::as_str)
                .map(|r| r.strip_prefix(REF_PREFIX).unwrap_or(r).to_owned());
            let (key, tagged) = match &name {
                Some(n) => match by_name.get(n.as_str()) {
                    Some(tag) => ((*tag).to_owned(), true),
                    None => (n.clone(), false),
                },
                None => (format!("#{i}"), false),
            };
            keyed.insert(
                key,
                Variant {
                    schema,
                    name,
                    tagged,
                },
            );
        }
        keyed
    }
}

fn union(schema: &Value) -> Option<Union<'_>> {
    let variants = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)?;
    let discriminator = schema.get("discriminator");
    let mapping = discriminator
        .and_then(|d| d.get("mapping"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(tag, target)| {
                    let target = target.as_str()?;
                    Some((
                        tag.as_str(),
                        target.strip_prefix(REF_PREFIX).unwrap_or(target),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Union {
        variants,
        discriminator: discriminator
            .and_then(|d| d.get("propertyName"))
            .and_then(Value::as_str),
        mapping,
    })
}
