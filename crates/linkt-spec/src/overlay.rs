//! OpenAPI Overlay 1.0 documents, applied to a JSON value.
//!
//! An overlay is how this project patches the vendor's document without
//! editing it: each action selects nodes with an RFC 9535 JSONPath and
//! either merges an update into them or removes them. This module applies
//! actions and validates the overlay document's shape; it knows nothing
//! about OpenAPI itself, so an overlay may be applied to a 3.1 document
//! before [`crate::normalize`] or to anything else.
//!
//! Two choices are stricter than the specification: an action whose target
//! matches nothing is an error (the patch has gone stale and someone should
//! look), and so is an action with neither `update` nor `remove: true`.

use std::fmt;

use serde_json::{Map, Value};
use serde_json_path::{JsonPath, PathElement};

use crate::Error;
use crate::pointer::escape;

/// What [`apply_overlay`] did, one entry per action in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OverlayReport {
    /// One entry per action, in the overlay's order.
    pub actions: Vec<ActionReport>,
}

/// What one overlay action did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActionReport {
    /// The action's index in `actions`, from 0.
    pub index: usize,
    /// The action's `description`, if it has one.
    pub description: Option<String>,
    /// The action's `target` as written.
    pub target: String,
    /// Whether the action removed its nodes (`remove: true`) rather than
    /// updating them.
    pub removed: bool,
    /// How many distinct nodes the target matched; never 0, since an
    /// action that matches nothing is an error.
    pub matched: usize,
}

impl fmt::Display for OverlayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for action in &self.actions {
            writeln!(f, "{action}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ActionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.removed { "removed" } else { "updated" };
        let nodes = if self.matched == 1 { "node" } else { "nodes" };
        write!(
            f,
            "action {}: {verb} {} {nodes} at `{}`",
            self.index, self.matched, self.target
        )?;
        if let Some(description) = &self.description {
            write!(f, " ({description})")?;
        }
        Ok(())
    }
}

/// Applies an OpenAPI Overlay 1.0 document to `doc`, action by action.
///
/// For each action, `target` is evaluated against the document as the
/// earlier actions left it. With `remove: true` every matched node is
/// removed from its parent object or array (`update` is then ignored, as
/// the specification says). Otherwise `update` is merged into every matched
/// node with [`merge`]: objects merge key by key, recursively; arrays get
/// the update appended (an array update appends its items); any other pair
/// is replaced by the update.
///
/// On error `doc` may hold the effects of the actions before the failing
/// one; callers that need all-or-nothing apply to a clone.
///
/// # Errors
///
/// - [`Error::Overlay`] if the overlay is not an Overlay 1.0.x document
///   (fields, types, unknown keys, an action with neither `update` nor
///   `remove: true`);
/// - [`Error::JsonPath`] if a target is not valid JSONPath;
/// - [`Error::NoMatch`] if a target matches nothing;
/// - [`Error::OverlayAction`] if an action would remove the document root.
pub fn apply_overlay(doc: &mut Value, overlay: &Value) -> Result<OverlayReport, Error> {
    let actions = check_overlay(overlay)?;
    let mut report = OverlayReport {
        actions: Vec::with_capacity(actions.len()),
    };
    for (index, action) in actions.iter().enumerate() {
        let action = Action::from_value(index, action)?;
        let path = JsonPath::parse(action.target).map_err(|source| Error::JsonPath {
            index,
            target: action.target.to_owned(),
            source,
        })?;
        let mut locations: Vec<Vec<Segment>> = path
            .query_located(doc)
            .dedup()
            .all()
            .into_iter()
            .map(|node| node.location().iter().map(Segment::from).collect())
            .collect();
        if locations.is_empty() {
            return Err(Error::NoMatch {
                index,
                description: action.description.map(str::to_owned),
                target: action.target.to_owned(),
            });
        }
        let matched = locations.len();
        if action.remove {
            // Children before parents and later array items before earlier
            // ones, so that every location stays valid until it is removed.
            locations.sort_unstable_by(|a, b| b.cmp(a));
            for location in &locations {
                remove(doc, location).map_err(|what| Error::OverlayAction {
                    index,
                    pointer: to_pointer(location),
                    what,
                })?;
            }
        } else if let Some(update) = action.update {
            for location in &locations {
                if let Some(node) = get_mut(doc, location) {
                    merge(node, update);
                }
            }
        }
        report.actions.push(ActionReport {
            index,
            description: action.description.map(str::to_owned),
            target: action.target.to_owned(),
            removed: action.remove,
            matched,
        });
    }
    Ok(report)
}

/// Merges `update` into `target` as an overlay `update` does.
///
/// - object into object: each key of `update` is merged into the same key
///   of `target`, or inserted (at the end) if `target` lacks it;
/// - array into array: the update's items are appended;
/// - anything else into an array: the update is appended as one item;
/// - any other pair: `target` is replaced by `update`.
///
/// So replacing an array or an object wholesale takes a `remove` action
/// followed by an `update` of the parent.
pub fn merge(target: &mut Value, update: &Value) {
    match (target, update) {
        (Value::Object(target), Value::Object(update)) => {
            for (key, value) in update {
                match target.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(update)) => target.extend(update.iter().cloned()),
        (Value::Array(target), update) => target.push(update.clone()),
        (target, update) => *target = update.clone(),
    }
}

/// One parsed action, borrowing from the overlay document.
struct Action<'a> {
    target: &'a str,
    description: Option<&'a str>,
    update: Option<&'a Value>,
    remove: bool,
}

impl<'a> Action<'a> {
    fn from_value(index: usize, value: &'a Value) -> Result<Self, Error> {
        let at = format!("/actions/{index}");
        let bad = |key: &str, expected| Error::Overlay {
            pointer: if key.is_empty() {
                at.clone()
            } else {
                format!("{at}/{}", escape(key))
            },
            expected,
        };
        let object = value
            .as_object()
            .ok_or_else(|| bad("", "an action object"))?;
        for key in object.keys() {
            if !matches!(key.as_str(), "target" | "description" | "update" | "remove")
                && !key.starts_with("x-")
            {
                return Err(bad(
                    key,
                    "only `target`, `description`, `update`, `remove` or `x-` keys",
                ));
            }
        }
        let target = match object.get("target") {
            Some(Value::String(target)) if target.starts_with('$') => target.as_str(),
            _ => return Err(bad("target", "a jsonpath string starting with `$`")),
        };
        let description = match object.get("description") {
            None => None,
            Some(Value::String(text)) => Some(text.as_str()),
            Some(_) => return Err(bad("description", "a string")),
        };
        let remove = match object.get("remove") {
            None => false,
            Some(Value::Bool(remove)) => *remove,
            Some(_) => return Err(bad("remove", "a boolean")),
        };
        let update = object.get("update");
        if update.is_none() && !remove {
            return Err(bad("", "`update` or `remove: true`"));
        }
        Ok(Action {
            target,
            description,
            update,
            remove,
        })
    }
}

/// Checks the overlay's top-level fields and returns its actions.
fn check_overlay(overlay: &Value) -> Result<&Vec<Value>, Error> {
    let bad = |pointer: &str, expected| Error::Overlay {
        pointer: pointer.to_owned(),
        expected,
    };
    let object = overlay
        .as_object()
        .ok_or_else(|| bad("", "an overlay object"))?;
    for key in object.keys() {
        if !matches!(key.as_str(), "overlay" | "info" | "extends" | "actions")
            && !key.starts_with("x-")
        {
            return Err(bad(
                &format!("/{}", escape(key)),
                "only `overlay`, `info`, `extends`, `actions` or `x-` keys",
            ));
        }
    }
    match object.get("overlay").and_then(Value::as_str) {
        Some(version) if is_overlay_1_0(version) => {}
        _ => return Err(bad("/overlay", "overlay version 1.0.x")),
    }
    let info = object.get("info").and_then(Value::as_object);
    let has = |info: &Map<String, Value>, key| info.get(key).is_some_and(Value::is_string);
    if !info.is_some_and(|info| has(info, "title") && has(info, "version")) {
        return Err(bad(
            "/info",
            "an info object with string `title` and `version`",
        ));
    }
    if object.get("extends").is_some_and(|e| !e.is_string()) {
        return Err(bad("/extends", "a uri string"));
    }
    match object.get("actions") {
        Some(Value::Array(actions)) if !actions.is_empty() => Ok(actions),
        _ => Err(bad("/actions", "a non-empty array of actions")),
    }
}

fn is_overlay_1_0(version: &str) -> bool {
    version
        .strip_prefix("1.0.")
        .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
}

/// One step of a normalized path, owned so the document can be mutated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Key(String),
    Index(usize),
}

impl From<&PathElement<'_>> for Segment {
    fn from(element: &PathElement<'_>) -> Self {
        match element {
            PathElement::Name(name) => Segment::Key((*name).to_owned()),
            PathElement::Index(index) => Segment::Index(*index),
        }
    }
}

fn to_pointer(location: &[Segment]) -> String {
    let mut pointer = String::new();
    for segment in location {
        pointer.push('/');
        match segment {
            Segment::Key(key) => pointer.push_str(&escape(key)),
            Segment::Index(index) => pointer.push_str(&index.to_string()),
        }
    }
    pointer
}

fn get_mut<'a>(mut node: &'a mut Value, location: &[Segment]) -> Option<&'a mut Value> {
    for segment in location {
        node = match (node, segment) {
            (Value::Object(map), Segment::Key(key)) => map.get_mut(key)?,
            (Value::Array(items), Segment::Index(index)) => items.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(node)
}

fn remove(doc: &mut Value, location: &[Segment]) -> Result<(), &'static str> {
    let Some((last, parent)) = location.split_last() else {
        return Err("remove the document root");
    };
    match (get_mut(doc, parent), last) {
        (Some(Value::Object(map)), Segment::Key(key)) => {
            map.shift_remove(key);
        }
        (Some(Value::Array(items)), Segment::Index(index)) if *index < items.len() => {
            items.remove(*index);
        }
        // Already gone with an ancestor removed earlier in this action.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_rules() {
        let mut target = json!({"a": {"b": 1, "c": [1]}, "d": "x"});
        merge(
            &mut target,
            &json!({"a": {"b": 2, "c": [2], "e": true}, "d": {"f": 1}}),
        );
        assert_eq!(
            target,
            json!({"a": {"b": 2, "c": [1, 2], "e": true}, "d": {"f": 1}})
        );
        let mut list = json!([1]);
        merge(&mut list, &json!({"k": 1}));
        assert_eq!(list, json!([1, {"k": 1}]));
    }

    #[test]
    fn overlay_versions() {
        assert!(is_overlay_1_0("1.0.0"));
        assert!(is_overlay_1_0("1.0.12"));
        assert!(!is_overlay_1_0("1.0."));
        assert!(!is_overlay_1_0("1.1.0"));
        assert!(!is_overlay_1_0("1.0.0-rc1"));
    }
}
