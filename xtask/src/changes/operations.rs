//! Comparing the document's surface: operations (matched by path and method,
//! or moved when the overlay's client name follows them), their parameters,
//! request bodies and success responses, and the list of component schemas.
//! Also where each component is used: walking from every operation through
//! `$ref`s tells requests from responses.
//!
//! Schemas themselves are compared in `schema.rs`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{Group, Rule, Usage, Verdict};
use super::names::{field_name, type_name};
use super::schema::{Ctx, Differ, Outcome, Position, Subject};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation of a document.
struct Op<'a> {
    method: String,
    path: &'a str,
    item: &'a Value,
    op: &'a Value,
}

impl Op<'_> {
    fn name(&self) -> Option<String> {
        self.op
            .get("x-linkt-name")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    fn vendor_id(&self) -> Option<&str> {
        self.op.get("operationId").and_then(Value::as_str)
    }

    fn group(&self) -> Group {
        Group::Operation {
            method: self.method.clone(),
            path: self.path.to_owned(),
            name: self.name(),
        }
    }
}

fn operations(doc: &Value) -> BTreeMap<(String, String), Op<'_>> {
    let mut ops = BTreeMap::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return ops;
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method).filter(|op| op.is_object()) {
                let method = method.to_uppercase();
                ops.insert(
                    (path.clone(), method.clone()),
                    Op {
                        method,
                        path,
                        item,
                        op,
                    },
                );
            }
        }
    }
    ops
}

/// Compares every operation and every component schema.
pub(super) fn compare(differ: &mut Differ<'_>) {
    let (old_doc, new_doc) = (differ.old_doc(), differ.new_doc());
    let (old, new) = (operations(old_doc), operations(new_doc));
    let usage = usage(old_doc, new_doc);

    // Operations that vanished from one place and appeared in another under
    // the same client name have moved.
    let removed: Vec<&(String, String)> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let added: Vec<&(String, String)> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let mut moved = BTreeSet::new();
    for old_key in &removed {
        let Some(name) = old[*old_key].name() else {
            continue;
        };
        let target = added
            .iter()
            .find(|k| !moved.contains(**k) && new[**k].name().as_deref() == Some(&name));
        if let Some(new_key) = target {
            moved.insert(*new_key);
            moved.insert(*old_key);
            operation(differ, &old[*old_key], &new[*new_key]);
        }
    }
    for key in removed.iter().filter(|k| !moved.contains(**k)) {
        let op = &old[*key];
        let ctx = op_ctx(op.group(), "", None);
        let note = op.name().map(|n| format!("`Client::{n}` disappears"));
        differ.emit(&ctx, "", |_| {
            Some(
                Outcome::new(
                    Rule::OperationRemoved,
                    Verdict::Breaking,
                    Verdict::Breaking,
                    "removed",
                )
                .note(note.clone()),
            )
        });
    }
    for key in added.iter().filter(|k| !moved.contains(**k)) {
        let op = &new[*key];
        let ctx = op_ctx(op.group(), "", None);
        let message = match op.name() {
            Some(name) => format!("added as `Client::{name}`"),
            None => "added (the overlay gives it no client name)".to_owned(),
        };
        differ.emit(&ctx, "", |_| {
            Some(Outcome::new(
                Rule::OperationAdded,
                Verdict::NotBreaking,
                Verdict::NotBreaking,
                message.clone(),
            ))
        });
    }
    for (key, o) in &old {
        if let Some(n) = new.get(key) {
            operation(differ, o, n);
        }
    }

    components(differ, &usage);
}

fn op_ctx(group: Group, prefix: &str, rust_root: Option<String>) -> Ctx {
    Ctx {
        group,
        usage: Usage::REQUEST,
        subject: Subject::Parameter,
        prefix: prefix.to_owned(),
        rust_root,
    }
}

/// Compares one operation; `old` and `new` are at the same place unless it moved.
fn operation(differ: &mut Differ<'_>, old: &Op<'_>, new: &Op<'_>) {
    let group = new.group();
    let ctx = op_ctx(group.clone(), "", None);
    if old.path != new.path {
        let message = format!("moved from `{}`", old.path);
        differ.emit(&ctx, "", |_| {
            Some(Outcome::new(
                Rule::OperationPathChanged,
                Verdict::Breaking,
                Verdict::NotBreaking,
                message.clone(),
            ))
        });
    }
    if old.method != new.method {
        let message = format!("method `{}` → `{}`", old.method, new.method);
        differ.emit(&ctx, "", |_| {
            Some(Outcome::new(
                Rule::OperationMethodChanged,
                Verdict::Breaking,
                Verdict::NotBreaking,
                message.clone(),
            ))
        });
    }
    if old.name() != new.name() {
        let show = |n: Option<String>| n.map_or_else(|| "none".to_owned(), |n| format!("`{n}`"));
        let message = format!("client method {} → {}", show(old.name()), show(new.name()));
        differ.emit(&ctx, "", |_| {
            Some(Outcome::new(
                Rule::OperationRenamed,
                Verdict::NotBreaking,
                Verdict::Breaking,
                message.clone(),
            ))
        });
    }
    if old.vendor_id() != new.vendor_id() {
        let show = |n: Option<&str>| n.map_or_else(|| "none".to_owned(), |n| format!("`{n}`"));
        let message = format!(
            "operationId {} → {}",
            show(old.vendor_id()),
            show(new.vendor_id())
        );
        differ.emit(&ctx, "", |_| {
            Some(Outcome::new(
                Rule::OperationIdChanged,
                Verdict::NotBreaking,
                Verdict::NotBreaking,
                message.clone(),
            ))
        });
    }
    parameters(differ, &group, old, new);
    request_body(differ, &group, old, new);
    responses(differ, &group, old, new);
}

/// Resolves `#/components/<kind>/<name>` references (parameters, request bodies, responses).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..16 {
        let Some(target) = current.get("$ref").and_then(Value::as_str) else {
            break;
        };
        match target.strip_prefix('#').and_then(|p| doc.pointer(p)) {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

/// Path-level and operation-level parameters by (location, name); the
/// operation's win.
fn parameter_map<'a>(doc: &'a Value, op: &Op<'a>) -> BTreeMap<(String, String), &'a Value> {
    let mut map = BTreeMap::new();
    for list in [op.item.get("parameters"), op.op.get("parameters")] {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            let p = resolve(doc, p);
            let field = |k: &str| {
                p.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            map.insert((field("in"), field("name")), p);
        }
    }
    map
}

fn parameters(differ: &mut Differ<'_>, group: &Group, old: &Op<'_>, new: &Op<'_>) {
    let (op, np) = (
        parameter_map(differ.old_doc(), old),
        parameter_map(differ.new_doc(), new),
    );
    let client = match group {
        Group::Operation { name: Some(n), .. } => format!("Client::{n}()"),
        _ => "the builder".to_owned(),
    };
    let keys: BTreeSet<&(String, String)> = op.keys().chain(np.keys()).collect();
    for key @ (location, name) in keys {
        let prefix = format!("{location} parameter `{name}`");
        let method = format!("`{client}.{}()`", field_name(name));
        let ctx = op_ctx(group.clone(), &prefix, Some(method.clone()));
        let is_required =
            |p: &Value| p.get("required") == Some(&Value::Bool(true)) || location == "path";
        match (op.get(key), np.get(key)) {
            (None, Some(p)) => {
                let required = is_required(p);
                let (rule, message) = if required {
                    (Rule::ParameterAddedRequired, "added (required)")
                } else {
                    (Rule::ParameterAddedOptional, "added (optional)")
                };
                let note = if required {
                    format!("builders that do not call {method} fail in `send()`")
                } else {
                    format!("new builder method {method}")
                };
                differ.emit(&ctx, "", |_| {
                    Some(
                        Outcome::new(
                            rule,
                            Verdict::when(required),
                            Verdict::when(required),
                            message,
                        )
                        .note(Some(note.clone())),
                    )
                });
            }
            (Some(_), None) => {
                let wire = location == "path";
                let note = format!("builder method {method} disappears");
                differ.emit(&ctx, "", |_| {
                    Some(
                        Outcome::new(
                            Rule::ParameterRemoved,
                            Verdict::when(wire),
                            Verdict::Breaking,
                            "removed",
                        )
                        .note(Some(note.clone())),
                    )
                });
            }
            (Some(o), Some(n)) => {
                let (or, nr) = (is_required(o), is_required(n));
                if or != nr {
                    let (rule, message) = if nr {
                        (Rule::ParameterBecameRequired, "became required")
                    } else {
                        (Rule::ParameterBecameOptional, "became optional")
                    };
                    differ.emit(&ctx, "", |_| {
                        Some(Outcome::new(
                            rule,
                            Verdict::when(nr),
                            Verdict::when(nr),
                            message,
                        ))
                    });
                }
                let null = Value::Null;
                let (os, ns) = (
                    o.get("schema").unwrap_or(&null),
                    n.get("schema").unwrap_or(&null),
                );
                differ.value(&ctx, "", os, ns, Position::Parameter);
            }
            (None, None) => {}
        }
    }
}

fn request_body(differ: &mut Differ<'_>, group: &Group, old: &Op<'_>, new: &Op<'_>) {
    let client = match group {
        Group::Operation { name: Some(n), .. } => format!("`Client::{n}().body()`"),
        _ => "the builder's `body()`".to_owned(),
    };
    let ctx = Ctx {
        group: group.clone(),
        usage: Usage::REQUEST,
        subject: Subject::RequestBody,
        prefix: "request body".to_owned(),
        rust_root: Some(client.clone()),
    };
    let body = |doc, op: &Op<'_>| op.op.get("requestBody").map(|b| resolve(doc, b)).cloned();
    let (ob, nb) = (body(differ.old_doc(), old), body(differ.new_doc(), new));
    let required = |b: &Value| b.get("required") == Some(&Value::Bool(true));
    match (ob, nb) {
        (None, None) => {}
        (None, Some(b)) => {
            let r = required(&b);
            let message = if r {
                "added (required)"
            } else {
                "added (optional)"
            };
            let note = r.then(|| format!("builders that do not call {client} fail in `send()`"));
            differ.emit(&ctx, "", |_| {
                Some(
                    Outcome::new(
                        Rule::RequestBodyAdded,
                        Verdict::when(r),
                        Verdict::when(r),
                        message,
                    )
                    .note(note.clone()),
                )
            });
        }
        (Some(_), None) => {
            let note = Some(format!("{client} disappears"));
            differ.emit(&ctx, "", |_| {
                Some(
                    Outcome::new(
                        Rule::RequestBodyRemoved,
                        Verdict::NotBreaking,
                        Verdict::Breaking,
                        "removed",
                    )
                    .note(note.clone()),
                )
            });
        }
        (Some(o), Some(n)) => {
            let (or, nr) = (required(&o), required(&n));
            if or != nr {
                let (rule, message) = if nr {
                    (Rule::RequestBodyBecameRequired, "became required")
                } else {
                    (Rule::RequestBodyBecameOptional, "became optional")
                };
                differ.emit(&ctx, "", |_| {
                    Some(Outcome::new(
                        rule,
                        Verdict::when(nr),
                        Verdict::when(nr),
                        message,
                    ))
                });
            }
            content(differ, &ctx, &o, &n);
        }
    }
}

/// Compares the media types of a request body or response and their schemas.
fn content(differ: &mut Differ<'_>, ctx: &Ctx, old: &Value, new: &Value) {
    let empty = serde_json::Map::new();
    let oc = old
        .get("content")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let nc = new
        .get("content")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let request = ctx.subject == Subject::RequestBody;
    let (added, removed) = if request {
        (Rule::RequestMediaTypeAdded, Rule::RequestMediaTypeRemoved)
    } else {
        (Rule::ResponseMediaTypeAdded, Rule::ResponseMediaTypeRemoved)
    };
    for media in nc.keys().filter(|m| !oc.contains_key(*m)) {
        let message = format!("`{media}` added");
        differ.emit(ctx, "", |_| {
            Some(Outcome::new(
                added,
                Verdict::NotBreaking,
                Verdict::NotBreaking,
                message.clone(),
            ))
        });
    }
    for media in oc.keys().filter(|m| !nc.contains_key(*m)) {
        let message = format!("`{media}` removed");
        differ.emit(ctx, "", |_| {
            Some(
                Outcome::new(
                    removed,
                    Verdict::Breaking,
                    Verdict::Breaking,
                    message.clone(),
                )
                .note(Some(
                    "the generated code is built for the old media type".to_owned(),
                )),
            )
        });
    }
    let several = oc.len() > 1 || nc.len() > 1;
    for (media, o) in oc {
        let Some(n) = nc.get(media) else {
            continue;
        };
        let mut ctx = ctx.clone();
        if several {
            ctx.prefix = format!("{} ({media})", ctx.prefix);
        }
        let null = Value::Null;
        let (os, ns) = (
            o.get("schema").unwrap_or(&null),
            n.get("schema").unwrap_or(&null),
        );
        differ.value(&ctx, "", os, ns, Position::Value);
    }
}

fn success_codes(doc: &Value, op: &Op<'_>) -> BTreeMap<String, Value> {
    op.op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(code, _)| code.starts_with('2'))
        .map(|(code, r)| (code.clone(), resolve(doc, r).clone()))
        .collect()
}

fn has_body(response: &Value) -> bool {
    response
        .get("content")
        .and_then(Value::as_object)
        .is_some_and(|c| !c.is_empty())
}

fn responses(differ: &mut Differ<'_>, group: &Group, old: &Op<'_>, new: &Op<'_>) {
    let (oc, nc) = (
        success_codes(differ.old_doc(), old),
        success_codes(differ.new_doc(), new),
    );
    let method = match group {
        Group::Operation { name: Some(n), .. } => format!("`Client::{n}()`"),
        _ => "the client method".to_owned(),
    };
    let ctx = Ctx {
        group: group.clone(),
        usage: Usage::RESPONSE,
        subject: Subject::ResponseBody,
        prefix: "response body".to_owned(),
        rust_root: Some(format!("the value {method} returns")),
    };
    let status_ctx = Ctx {
        prefix: "responses".to_owned(),
        ..ctx.clone()
    };
    for code in nc.keys().filter(|c| !oc.contains_key(*c)) {
        let message = format!("`{code}` added");
        differ.emit(&status_ctx, "", |_| {
            Some(Outcome::new(
                Rule::ResponseSuccessStatusAdded,
                Verdict::NotBreaking,
                Verdict::NotBreaking,
                message.clone(),
            ))
        });
    }
    for code in oc.keys().filter(|c| !nc.contains_key(*c)) {
        let message = format!("`{code}` removed");
        differ.emit(&status_ctx, "", |_| {
            Some(Outcome::new(
                Rule::ResponseSuccessStatusRemoved,
                Verdict::NotBreaking,
                Verdict::NotBreaking,
                message.clone(),
            ))
        });
    }
    // The generated method decodes the first success response.
    let none = Value::Null;
    let o = oc.values().next().unwrap_or(&none);
    let n = nc.values().next().unwrap_or(&none);
    match (has_body(o), has_body(n)) {
        (false, false) => {}
        (false, true) => {
            let note = Some(format!("{method} returns a typed value instead of `()`"));
            differ.emit(&ctx, "", |_| {
                Some(
                    Outcome::new(
                        Rule::ResponseBodyAdded,
                        Verdict::NotBreaking,
                        Verdict::Breaking,
                        "added",
                    )
                    .note(note.clone()),
                )
            });
        }
        (true, false) => {
            let note = Some(format!("{method} returns `()`"));
            differ.emit(&ctx, "", |_| {
                Some(
                    Outcome::new(
                        Rule::ResponseBodyRemoved,
                        Verdict::Breaking,
                        Verdict::Breaking,
                        "removed",
                    )
                    .note(note.clone()),
                )
            });
        }
        (true, true) => content(differ, &ctx, o, n),
    }
}

fn components(differ: &mut Differ<'_>, usage: &BTreeMap<String, Usage>) {
    let empty = serde_json::Map::new();
    let schemas = |doc: &Value| {
        doc.pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (old, new) = (schemas(differ.old_doc()), schemas(differ.new_doc()));
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for name in names {
        let usage = usage.get(name.as_str()).copied().unwrap_or(Usage::UNUSED);
        let ctx = Ctx {
            group: Group::Component {
                name: name.clone(),
                usage,
            },
            usage,
            subject: Subject::Component,
            prefix: String::new(),
            rust_root: Some(format!("`types::{}`", type_name(name))),
        };
        match (old.get(name), new.get(name)) {
            (None, Some(_)) => differ.emit(&ctx, "", |_| {
                Some(Outcome::new(
                    Rule::ComponentAdded,
                    Verdict::NotBreaking,
                    Verdict::NotBreaking,
                    "added",
                ))
            }),
            (Some(_), None) => {
                let note = Some(format!("`types::{}` disappears", type_name(name)));
                differ.emit(&ctx, "", |_| {
                    Some(
                        Outcome::new(
                            Rule::ComponentRemoved,
                            Verdict::NotBreaking,
                            Verdict::Breaking,
                            "removed",
                        )
                        .note(note.clone()),
                    )
                });
            }
            (Some(o), Some(n)) => differ.value(&ctx, "", o, n, Position::Value),
            (None, None) => {}
        }
    }
}

/// Where each component is used, in either document: walked from every
/// operation's parameters and request body (requests) and every response
/// (responses) through `$ref`s and discriminator mappings.
pub(super) fn usage(old: &Value, new: &Value) -> BTreeMap<String, Usage> {
    let mut usage: BTreeMap<String, Usage> = BTreeMap::new();
    for doc in [old, new] {
        for op in operations(doc).values() {
            let mut requests = Vec::new();
            for p in parameter_map(doc, op).values() {
                requests.push(*p);
            }
            if let Some(body) = op.op.get("requestBody") {
                requests.push(resolve(doc, body));
            }
            let responses: Vec<&Value> = op
                .op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(_, r)| resolve(doc, r))
                .collect();
            for (roots, mark) in [(requests, Usage::REQUEST), (responses, Usage::RESPONSE)] {
                for name in reachable(doc, &roots) {
                    let entry = usage.entry(name).or_default();
                    entry.request |= mark.request;
                    entry.response |= mark.response;
                }
            }
        }
    }
    usage
}

/// The component schemas reachable from `roots`.
fn reachable(doc: &Value, roots: &[&Value]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: Vec<String> = Vec::new();
    for root in roots {
        refs(root, &mut queue);
    }
    while let Some(name) = queue.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = doc
            .pointer("/components/schemas")
            .and_then(|s| s.get(&name))
        {
            refs(schema, &mut queue);
        }
    }
    seen
}

/// Every component schema named in `value`: `$ref`s and discriminator mappings.
fn refs(value: &Value, out: &mut Vec<String>) {
    const PREFIX: &str = "#/components/schemas/";
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix(PREFIX) {
                            out.push(name.to_owned());
                        }
                    }
                    // Keys of `properties` are names, whatever they spell.
                    ("properties", Value::Object(props)) => {
                        props.values().for_each(|v| refs(v, out));
                    }
                    // Data, not schemas.
                    ("example" | "examples" | "default" | "enum", _) => {}
                    ("mapping", Value::Object(m)) => {
                        out.extend(
                            m.values()
                                .filter_map(Value::as_str)
                                .filter_map(|r| r.strip_prefix(PREFIX))
                                .map(str::to_owned),
                        );
                        refs(v, out);
                    }
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}
