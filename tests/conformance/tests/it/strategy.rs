//! proptest strategies built from the normalized schemas themselves, and
//! the ways a valid value can be broken.
//!
//! [`for_schema`] turns a schema into a strategy of JSON values that satisfy
//! it: types, `required`, `nullable`, enums, formats (`date-time` in any
//! offset and precision, `uuid`), constraints (`minimum`, `maximum`,
//! `minLength`, `minItems`, `maxItems`, the ObjectId pattern), `$ref`s,
//! single-element `allOf` wrappers, discriminated unions (`oneOf` +
//! `discriminator`: every member, with its tag set), other unions, typed
//! maps and free-form objects.
//!
//! [`violation_sites`] lists where a valid value can be made invalid (a
//! wrong type, a missing required field, a value no union member takes, a
//! broken pattern, `minLength` or `minimum`) and the
//! paths the decode error may then name; [`violate`] applies one.
//!
//! [`growth_sites`] lists where a newer server could send more than the
//! spec lists (a field, an enum value, a union member); [`grow`] applies
//! one. Those must decode: the client is built to take them.

use std::fmt::Write as _;

use linkt_conformance::spec::{self, is_object_id_pattern};
use linkt_spec::schema::{self, Discriminator};
use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::{Map, Value, json};

use crate::equivalence::discriminated_member;

/// Deepest schema nesting a strategy follows; deeper values are the
/// spec-derived example.
const MAX_DEPTH: usize = 12;

/// Strategy of JSON values valid for `schema`.
pub(crate) fn for_schema(document: &Value, schema: &Value) -> BoxedStrategy<Value> {
    build(document, schema, 0)
}

fn build(document: &Value, schema: &Value, depth: usize) -> BoxedStrategy<Value> {
    let (inner, nullable) = spec::unwrap(document, schema);
    let strategy = if depth > MAX_DEPTH {
        Just(spec::example_value(document, inner, "value")).boxed()
    } else {
        build_inner(document, inner, depth)
    };
    if nullable {
        prop_oneof![1 => Just(Value::Null), 3 => strategy].boxed()
    } else {
        strategy
    }
}

fn build_inner(document: &Value, schema: &Value, depth: usize) -> BoxedStrategy<Value> {
    if let Some(union) = Discriminator::of(schema) {
        let members: Vec<BoxedStrategy<Value>> = union
            .members(document)
            .map(|(tag, member)| object(document, member, Some((union.property, tag)), depth))
            .collect();
        return Union::new(members).boxed();
    }
    if let Some(alternatives) = schema::alternatives(schema) {
        let members: Vec<BoxedStrategy<Value>> = alternatives
            .iter()
            .map(|alt| build(document, alt, depth + 1))
            .collect();
        return Union::new(members).boxed();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
        return proptest::sample::select(values).boxed();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => string(schema),
        Some("integer") => {
            let min = bound(schema, "minimum").unwrap_or(i64::MIN);
            let max = bound(schema, "maximum").unwrap_or(i64::MAX);
            (min..=max).prop_map(Value::from).boxed()
        }
        Some("number") => number().boxed(),
        Some("boolean") => any::<bool>().prop_map(Value::Bool).boxed(),
        Some("array") => {
            let items = build(
                document,
                schema.get("items").unwrap_or(&json!({})),
                depth + 1,
            );
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = schema
                .get("maxItems")
                .and_then(Value::as_u64)
                .map_or(min + 3, |max| (max as usize).min(min + 3));
            proptest::collection::vec(items, min..=max)
                .prop_map(Value::Array)
                .boxed()
        }
        Some("object") | None if schema.get("properties").is_some() => {
            object(document, schema, None, depth)
        }
        Some("object") => match schema.get("additionalProperties") {
            Some(values @ Value::Object(map)) if !map.is_empty() => {
                let values = build(document, values, depth + 1);
                proptest::collection::btree_map("[a-z_]{1,8}", values, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect()))
                    .boxed()
            }
            _ => free_form_object().boxed(),
        },
        _ => any_json().boxed(),
    }
}

/// An object with `schema`'s properties: every required one, each optional
/// one present or absent; `tag` fixes a discriminator property.
fn object(
    document: &Value,
    schema: &Value,
    tag: Option<(&str, &str)>,
    depth: usize,
) -> BoxedStrategy<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let key = name.clone();
        if let Some((tag_property, tag_value)) = tag
            && tag_property == name
        {
            fields.push(Just(Some((key, Value::String(tag_value.to_owned())))).boxed());
            continue;
        }
        let values = build(document, property, depth + 1);
        if required.contains(&name.as_str()) {
            fields.push(values.prop_map(move |v| Some((key.clone(), v))).boxed());
        } else {
            fields.push(
                proptest::option::of(values)
                    .prop_map(move |v| v.map(|v| (key.clone(), v)))
                    .boxed(),
            );
        }
    }
    fields
        .prop_map(|entries| Value::Object(entries.into_iter().flatten().collect::<Map<_, _>>()))
        .boxed()
}

fn bound(schema: &Value, keyword: &str) -> Option<i64> {
    schema
        .get(keyword)
        .and_then(Value::as_f64)
        .map(|bound| bound as i64)
}

fn string(schema: &Value) -> BoxedStrategy<Value> {
    match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => return date_time().prop_map(Value::String).boxed(),
        Some("uuid") => {
            return any::<[u8; 16]>()
                .prop_map(|bytes| {
                    let hex: String = bytes.iter().fold(String::new(), |mut out, b| {
                        let _ = write!(out, "{b:02x}");
                        out
                    });
                    Value::String(format!(
                        "{}-{}-{}-{}-{}",
                        &hex[0..8],
                        &hex[8..12],
                        &hex[12..16],
                        &hex[16..20],
                        &hex[20..32]
                    ))
                })
                .boxed();
        }
        _ => {}
    }
    if is_object_id_pattern(schema) {
        return "[0-9a-fA-F]{24}".prop_map(Value::String).boxed();
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        return proptest::string::string_regex(pattern)
            .expect("a pattern proptest understands")
            .prop_map(Value::String)
            .boxed();
    }
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .map_or(min + 12, |max| max as usize);
    proptest::collection::vec(any::<char>(), min..=max)
        .prop_map(|chars| Value::String(chars.into_iter().collect()))
        .boxed()
}

/// RFC 3339 date-times in any offset, with 0 to 9 fraction digits.
fn date_time() -> impl Strategy<Value = String> {
    (
        (1970i32..2100, 1u32..=12, 1u32..=28),
        (0u32..24, 0u32..60, 0u32..60),
        prop_oneof![Just(0usize), Just(3), Just(6), Just(9), 1usize..=9],
        0u64..1_000_000_000,
        prop_oneof![
            3 => Just("Z".to_owned()),
            1 => (any::<bool>(), 0u32..14, prop_oneof![Just(0u32), Just(30), Just(45)])
                .prop_map(|(east, h, m)| format!("{}{h:02}:{m:02}", if east { '+' } else { '-' })),
        ],
    )
        .prop_map(|((y, mo, d), (h, mi, s), digits, fraction, offset)| {
            let fraction = if digits == 0 {
                String::new()
            } else {
                let all = format!("{fraction:09}");
                format!(".{}", &all[..digits])
            };
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{offset}")
        })
}

/// Finite numbers with short decimal forms (which JSON parsers read back
/// exactly), integral ones among them.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-1_000_000i64..1_000_000).prop_map(Value::from),
        (-(1i64 << 40)..(1i64 << 40), 0u32..8).prop_map(|(mantissa, scale)| {
            Value::from(mantissa as f64 / 10f64.powi(scale as i32))
        }),
    ]
}

/// Any JSON value, small.
pub(crate) fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        number(),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,6}", inner, 0..3)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn free_form_object() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map("[a-z_]{1,8}", any_json(), 0..4)
        .prop_map(|map| Value::Object(map.into_iter().collect()))
}

/// How a valid value is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breakage {
    /// A value of another JSON type.
    WrongType,
    /// A required field removed.
    MissingRequired,
    /// A value no member of a union accepts.
    UnionMismatch,
    /// A value of the right type that breaks a constraint: the ObjectId
    /// pattern, `minLength` or `minimum`.
    Constraint,
}

/// One segment of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// Renders a path the way `linkt::Error::decode_path` does: `.` for the
/// root, `.icps[0].created_at` otherwise.
pub(crate) fn render_path(path: &[Segment]) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) => {
                let _ = write!(out, ".{key}");
            }
            Segment::Index(index) => {
                let _ = write!(out, "[{index}]");
            }
        }
    }
    out
}

/// A place where a valid value can be broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Site {
    /// Where the broken value is (for a missing field, the object lacking it).
    pub(crate) path: Vec<Segment>,
    pub(crate) breakage: Breakage,
    /// The missing field, for [`Breakage::MissingRequired`].
    pub(crate) field: Option<String>,
    /// The length of the path to the outermost value around (or at) the
    /// site whose failure serde reports only after reading it whole: an
    /// untagged union (buffered, then each member tried) or a validated
    /// string or integer (read, then checked). `linkt::Error::decode_path`
    /// then names a path within that value's container.
    pub(crate) late_at: Option<usize>,
    /// A value of the wrong JSON type for this site.
    pub(crate) replacement: Value,
}

impl Site {
    /// The path the decode error must name, as a prefix: the site itself;
    /// for a failure reported late, the container of the value it is
    /// reported for (see [`Site::late_at`]).
    pub(crate) fn expected_prefix(&self) -> Vec<Segment> {
        match self.late_at {
            None => self.path.clone(),
            Some(at) => self.path[..at.saturating_sub(1)].to_vec(),
        }
    }

    /// Whether the error names the site itself.
    pub(crate) fn is_precise(&self) -> bool {
        self.late_at.is_none()
    }
}

/// Every site of `value` (valid for `schema`) where it can be broken.
pub(crate) fn violation_sites(document: &Value, schema: &Value, value: &Value) -> Vec<Site> {
    let mut sites = Vec::new();
    walk(
        document,
        schema,
        value,
        &mut Vec::new(),
        None,
        &mut sites,
        0,
    );
    sites
}

fn walk(
    document: &Value,
    schema: &Value,
    value: &Value,
    path: &mut Vec<Segment>,
    late_at: Option<usize>,
    sites: &mut Vec<Site>,
    depth: usize,
) {
    if depth > 64 || value.is_null() {
        return;
    }
    let (schema, _) = spec::unwrap(document, schema);
    let push = |sites: &mut Vec<Site>,
                path: &[Segment],
                breakage: Breakage,
                field: Option<String>,
                replacement: Value| {
        sites.push(Site {
            path: path.to_vec(),
            breakage,
            field,
            late_at,
            replacement,
        });
    };

    if schema::alternatives(schema).is_some() {
        // A value no alternative accepts.
        let late_at = late_at.or(Some(path.len()));
        sites.push(Site {
            path: path.clone(),
            breakage: Breakage::UnionMismatch,
            field: None,
            late_at,
            replacement: json!([[]]),
        });
        if let Some(member) = discriminated_member(document, schema, value) {
            walk(document, member, value, path, late_at, sites, depth + 1);
        }
        return;
    }
    if schema.get("enum").is_some() {
        // A string no enum lists is not a breakage: enums are open.
        push(sites, path, Breakage::WrongType, None, json!(12345));
        return;
    }
    match (schema.get("type").and_then(Value::as_str), value) {
        (Some("string"), _) => {
            push(sites, path, Breakage::WrongType, None, json!(12345));
            let broken = if is_object_id_pattern(schema) {
                Some(json!("not-an-object-id"))
            } else if schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) > 0 {
                Some(json!(""))
            } else {
                None
            };
            if let Some(broken) = broken {
                sites.push(Site {
                    path: path.clone(),
                    breakage: Breakage::Constraint,
                    field: None,
                    late_at: late_at.or(Some(path.len())),
                    replacement: broken,
                });
            }
        }
        (Some("integer" | "number"), _) => {
            push(
                sites,
                path,
                Breakage::WrongType,
                None,
                json!("not a number"),
            );
            if let Some(minimum) = bound(schema, "minimum") {
                sites.push(Site {
                    path: path.clone(),
                    breakage: Breakage::Constraint,
                    field: None,
                    late_at: late_at.or(Some(path.len())),
                    replacement: json!(minimum - 1),
                });
            }
        }
        (Some("boolean"), _) => push(sites, path, Breakage::WrongType, None, json!("yes")),
        (Some("array"), Value::Array(items)) => {
            push(
                sites,
                path,
                Breakage::WrongType,
                None,
                json!("not an array"),
            );
            let item_schema = schema.get("items").cloned().unwrap_or_else(|| json!({}));
            for (index, item) in items.iter().enumerate() {
                path.push(Segment::Index(index));
                walk(
                    document,
                    &item_schema,
                    item,
                    path,
                    late_at,
                    sites,
                    depth + 1,
                );
                path.pop();
            }
        }
        (Some("object") | None, Value::Object(object)) if schema.get("properties").is_some() => {
            push(
                sites,
                path,
                Breakage::WrongType,
                None,
                json!("not an object"),
            );
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for field in &required {
                if object.contains_key(*field) {
                    push(
                        sites,
                        path,
                        Breakage::MissingRequired,
                        Some((*field).to_owned()),
                        Value::Null,
                    );
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, child) in object {
                if let Some(property) = properties.and_then(|p| p.get(key)) {
                    path.push(Segment::Key(key.clone()));
                    walk(document, property, child, path, late_at, sites, depth + 1);
                    path.pop();
                }
            }
        }
        (Some("object"), Value::Object(object)) => {
            push(
                sites,
                path,
                Breakage::WrongType,
                None,
                json!("not an object"),
            );
            if let Some(values @ Value::Object(map)) = schema.get("additionalProperties")
                && !map.is_empty()
            {
                for (key, child) in object {
                    path.push(Segment::Key(key.clone()));
                    walk(document, values, child, path, late_at, sites, depth + 1);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

/// `value` broken at `site`.
pub(crate) fn violate(value: &Value, site: &Site) -> Value {
    let mut broken = value.clone();
    let mut target = &mut broken;
    for segment in &site.path {
        target = match segment {
            Segment::Key(key) => target.get_mut(key.as_str()),
            Segment::Index(index) => target.get_mut(*index),
        }
        .expect("a site's path exists in its value");
    }
    match site.breakage {
        Breakage::MissingRequired => {
            let field = site.field.as_deref().expect("a missing field");
            target
                .as_object_mut()
                .expect("an object")
                .remove(field)
                .expect("the field was present");
        }
        Breakage::WrongType | Breakage::UnionMismatch | Breakage::Constraint => {
            *target = site.replacement.clone();
        }
    }
    broken
}

/// What a newer server may send that the spec does not list yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Growth {
    /// A field an object schema does not list.
    Field,
    /// A string an enum does not list.
    EnumValue,
    /// An object whose tag no member of a discriminated union has.
    UnionMember,
}

/// A place where a valid value can grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrowthSite {
    pub(crate) path: Vec<Segment>,
    pub(crate) growth: Growth,
    /// The tag property, for [`Growth::UnionMember`].
    pub(crate) tag: Option<String>,
}

/// Every site of `value` (valid for `schema`) where a newer server could
/// send more. The tag of a discriminated union's member is not an enum
/// site: a new tag is a new member, which [`Growth::UnionMember`]
/// covers.
pub(crate) fn growth_sites(document: &Value, schema: &Value, value: &Value) -> Vec<GrowthSite> {
    let mut sites = Vec::new();
    let members = union_members(document);
    let walk = GrowWalk {
        document,
        members: &members,
    };
    walk.at(schema, value, &mut Vec::new(), None, &mut sites, 0);
    sites
}

/// Component name → tag property, for every member of a discriminated
/// union: the member's tag is what tells it apart, a closed value even when
/// the member is decoded on its own.
fn union_members(document: &Value) -> std::collections::BTreeMap<String, String> {
    fn walk(value: &Value, out: &mut std::collections::BTreeMap<String, String>) {
        match value {
            Value::Object(map) => {
                if let Some(discriminator) = map.get("discriminator") {
                    let property = discriminator.get("propertyName").and_then(Value::as_str);
                    let mapping = discriminator.get("mapping").and_then(Value::as_object);
                    for target in mapping.into_iter().flat_map(|m| m.values()) {
                        let name = target
                            .as_str()
                            .and_then(|t| t.strip_prefix("#/components/schemas/"));
                        if let (Some(property), Some(name)) = (property, name) {
                            out.insert(name.to_owned(), property.to_owned());
                        }
                    }
                }
                map.values().for_each(|child| walk(child, out));
            }
            Value::Array(items) => items.iter().for_each(|child| walk(child, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(document, &mut out);
    out
}

struct GrowWalk<'a> {
    document: &'a Value,
    members: &'a std::collections::BTreeMap<String, String>,
}

impl GrowWalk<'_> {
    fn at(
        &self,
        schema: &Value,
        value: &Value,
        path: &mut Vec<Segment>,
        tag: Option<&str>,
        sites: &mut Vec<GrowthSite>,
        depth: usize,
    ) {
        let member_tag = spec::ref_name(schema).and_then(|name| self.members.get(name));
        grow_walk(
            self,
            schema,
            value,
            path,
            tag.or(member_tag.map(String::as_str)),
            sites,
            depth,
        );
    }
}

fn grow_walk(
    walk: &GrowWalk<'_>,
    schema: &Value,
    value: &Value,
    path: &mut Vec<Segment>,
    tag: Option<&str>,
    sites: &mut Vec<GrowthSite>,
    depth: usize,
) {
    let document = walk.document;
    if depth > 64 || value.is_null() {
        return;
    }
    let (schema, _) = spec::unwrap(document, schema);
    let site = |growth, tag: Option<&str>| GrowthSite {
        path: path.clone(),
        growth,
        tag: tag.map(str::to_owned),
    };
    if schema::alternatives(schema).is_some() {
        let property = Discriminator::of(schema).map(|union| union.property);
        if let (Some(property), Some(member)) =
            (property, discriminated_member(document, schema, value))
        {
            sites.push(site(Growth::UnionMember, Some(property)));
            walk.at(member, value, path, Some(property), sites, depth + 1);
        }
        return;
    }
    if schema.get("enum").is_some() {
        sites.push(site(Growth::EnumValue, None));
        return;
    }
    match value {
        Value::Array(items) => {
            let item_schema = schema.get("items").cloned().unwrap_or_else(|| json!({}));
            for (index, item) in items.iter().enumerate() {
                path.push(Segment::Index(index));
                walk.at(&item_schema, item, path, None, sites, depth + 1);
                path.pop();
            }
        }
        Value::Object(object) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            if properties.is_some() {
                sites.push(site(Growth::Field, None));
            }
            let values = schema
                .get("additionalProperties")
                .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()));
            for (key, child) in object {
                if Some(key.as_str()) == tag {
                    continue;
                }
                let child_schema = properties.and_then(|p| p.get(key)).or(values);
                if let Some(child_schema) = child_schema {
                    path.push(Segment::Key(key.clone()));
                    walk.at(child_schema, child, path, None, sites, depth + 1);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

/// The name of a field no schema of the spec has; `n` tells several apart.
pub(crate) fn unknown_field_name(n: usize) -> String {
    format!("zz_field_added_later_{n}")
}

/// `value` grown at `site`; `n` makes the added name or value unique.
/// `None` when the site's path is gone (an earlier growth replaced an
/// outer value).
pub(crate) fn grow(value: &mut Value, site: &GrowthSite, n: usize, extra: &Value) -> Option<()> {
    let mut target = value;
    for segment in &site.path {
        target = match segment {
            Segment::Key(key) => target.get_mut(key.as_str()),
            Segment::Index(index) => target.get_mut(*index),
        }?;
    }
    match site.growth {
        Growth::Field => {
            target
                .as_object_mut()?
                .insert(unknown_field_name(n), extra.clone());
        }
        Growth::EnumValue => {
            *target = Value::String(format!("value_added_later_{n}"));
        }
        Growth::UnionMember => {
            let mut member = Map::new();
            member.insert(
                site.tag.clone()?,
                Value::String(format!("kind_added_later_{n}")),
            );
            member.insert("setting".to_owned(), extra.clone());
            member.insert("nested".to_owned(), json!({ "list": [1, "two", null] }));
            *target = Value::Object(member);
        }
    }
    Some(())
}

/// `value` without the fields [`grow`] added (the client ignores unknown
/// fields, so they are not in what it re-encodes).
pub(crate) fn without_added_fields(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(key, _)| !key.starts_with("zz_field_added_later_"))
                .map(|(key, value)| (key.clone(), without_added_fields(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_added_fields).collect()),
        other => other.clone(),
    }
}
