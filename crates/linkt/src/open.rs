//! Open enums and unions: how the generated types take values that this
//! version of the client does not know yet.
//!
//! The API grows: a new review status, a new run state, a new kind of task
//! configuration appear on the server before a release of this crate knows
//! them. `cargo xtask generate` rewrites every generated string enum and
//! every discriminated union (see `xtask/src/open_types.rs`) to implement its
//! conversions and serde through the macros here, so that:
//!
//! * a string enum decodes an unknown value into its `Unknown` variant,
//!   which keeps the value ([`UnknownValue`]) and displays and serializes it
//!   back unchanged; a known value always decodes to its own variant, never
//!   to `Unknown`. Building one from a string (`From<&str>`, `FromStr`) works
//!   the same way, so a request can carry a value the client does not know;
//! * a discriminated union decodes an object whose tag it does not know
//!   into its `Unknown` variant, which holds the raw JSON object and
//!   serializes it back as it came;
//! * both are `#[non_exhaustive]`, so a variant added in a later release is
//!   not a breaking change for code that matches on them.
//!
//! What does not belong here: anything about a particular enum or union of
//! the API (those facts come from the spec, through the generator).

use std::borrow::Borrow;
use std::fmt;

/// A value of a string enum that this version of the client does not know.
///
/// Held by the `Unknown` variant of every generated enum. It is created only
/// by decoding or parsing, and only for a value that matches none of the
/// enum's known variants, so two values of one enum compare equal exactly
/// when their wire values do.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnknownValue(Box<str>);

impl UnknownValue {
    pub(crate) fn new(value: impl Into<Box<str>>) -> Self {
        Self(value.into())
    }

    /// The value as it was received or parsed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for UnknownValue {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for UnknownValue {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// The serde `Visitor` of an open string enum: borrows when it can, takes
/// the decoder's `String` when it has one, and expects nothing but a string.
pub(crate) struct EnumVisitor<T>(pub(crate) std::marker::PhantomData<T>);

impl<T> serde::de::Visitor<'_> for EnumVisitor<T>
where
    T: for<'a> From<&'a str> + From<String>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
        Ok(T::from(value))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<T, E> {
        Ok(T::from(value))
    }
}

/// Reads the tag of a discriminated union's object.
///
/// `Ok(None)` when the object has no such property; an error naming the tag
/// when it is there but not a string.
pub(crate) fn union_tag<'a, E: serde::de::Error>(
    object: &'a serde_json::Map<String, serde_json::Value>,
    tag: &'static str,
) -> Result<Option<&'a str>, E> {
    match object.get(tag) {
        None => Ok(None),
        Some(serde_json::Value::String(value)) => Ok(Some(value)),
        Some(other) => Err(E::invalid_type(unexpected(other), &"a string tag")),
    }
}

fn unexpected(value: &serde_json::Value) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected;
    match value {
        serde_json::Value::Null => Unexpected::Unit,
        serde_json::Value::Bool(b) => Unexpected::Bool(*b),
        serde_json::Value::Number(_) => Unexpected::Other("a number"),
        serde_json::Value::String(s) => Unexpected::Str(s),
        serde_json::Value::Array(_) => Unexpected::Seq,
        serde_json::Value::Object(_) => Unexpected::Map,
    }
}

/// Decodes one known variant of a discriminated union from its object;
/// an error says which variant the tag selected.
pub(crate) fn union_variant<T, E>(
    object: serde_json::Map<String, serde_json::Value>,
    union: &'static str,
    tag: &'static str,
    value: &'static str,
) -> Result<T, E>
where
    T: serde::de::DeserializeOwned,
    E: serde::de::Error,
{
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|err| E::custom(format_args!("{union} with {tag} `{value}`: {err}")))
}

/// Implements an open string enum's conversions and serde.
///
/// ```text
/// open_enum!(EntityResponseStatus { New = "new", Reviewed = "reviewed" });
/// ```
///
/// The enum must have exactly these unit variants plus
/// `Unknown(UnknownValue)`.
macro_rules! open_enum {
    ($name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        impl $name {
            /// Every value this version of the client knows, in the spec's order.
            pub const KNOWN: &'static [&'static str] = &[$($value),+];

            /// The value as it is sent and received.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)+
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value this version of the client does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($value => Self::$variant,)+
                    other => Self::Unknown($crate::open::UnknownValue::new(other)),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    $($value => Self::$variant,)+
                    _ => Self::Unknown($crate::open::UnknownValue::new(value)),
                }
            }
        }

        impl ::std::convert::From<&::std::string::String> for $name {
            fn from(value: &::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                deserializer.deserialize_str($crate::open::EnumVisitor(::std::marker::PhantomData))
            }
        }
    };
}
pub(crate) use open_enum;

/// Implements an open discriminated union's decoding and tag.
///
/// ```text
/// open_union!(TaskResponseTaskConfig, "type" {
///     "search" => SearchTaskConfigResponse,
/// });
/// ```
///
/// The enum must have exactly these newtype variants, each named after the
/// type it holds, plus `Unknown(serde_json::Map<String, serde_json::Value>)`,
/// and derive `Serialize` with `#[serde(untagged)]` (each known variant
/// serializes its own tag).
macro_rules! open_union {
    ($name:ident, $tag:literal { $($value:literal => $variant:ident),+ $(,)? }) => {
        impl $name {
            /// The tag property that tells the variants apart.
            pub const TAG: &'static str = $tag;

            /// Every tag value this version of the client knows, in the spec's order.
            pub const KNOWN: &'static [&'static str] = &[$($value),+];

            /// The tag of this value: the variant's own, or for an unknown
            /// variant the tag its object carries (`None` if it has none).
            pub fn tag(&self) -> ::std::option::Option<&str> {
                match self {
                    $(Self::$variant(_) => Some($value),)+
                    Self::Unknown(object) => object.get($tag).and_then(::serde_json::Value::as_str),
                }
            }

            /// Whether this is a variant this version of the client does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<::serde_json::Map<::std::string::String, ::serde_json::Value>>
            for $name
        {
            /// A variant the client does not know yet, sent as this object.
            fn from(object: ::serde_json::Map<::std::string::String, ::serde_json::Value>) -> Self {
                Self::Unknown(object)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let object = <::serde_json::Map<::std::string::String, ::serde_json::Value>
                    as ::serde::Deserialize>::deserialize(deserializer)?;
                let known = match $crate::open::union_tag::<D::Error>(&object, $tag)? {
                    $(Some($value) => Some($value),)+
                    Some(_) => None,
                    None => return Err(<D::Error as ::serde::de::Error>::missing_field($tag)),
                };
                match known {
                    $(Some($value) => $crate::open::union_variant(object, stringify!($name), $tag, $value)
                        .map(Self::$variant),)+
                    _ => Ok(Self::Unknown(object)),
                }
            }
        }
    };
}
pub(crate) use open_union;

/// Builds a generated type from its fields, with struct-literal syntax,
/// through the type's builder.
///
/// Generated structs are `#[non_exhaustive]`, so that a field added to the
/// API is not a breaking change, and cannot be written as literals outside
/// this crate. This macro reads like one and calls `Type::builder()`, one
/// setter per field and `Type::try_from(builder)`, so it returns
/// `Result<Type, linkt::types::error::ConversionError>`: an error names a
/// required field that was left out, or a value that does not convert.
/// A field shorthand (`name` for `name: name`) works as in a literal.
///
/// ```
/// use linkt::types;
///
/// let target = "company".to_owned();
/// let structure = linkt::build!(types::IcpEntityStructure {
///     desired_count: Some(5),
///     entity_type: target,
///     root: true,
/// })?;
/// assert_eq!(structure.entity_type, "company");
///
/// let missing = linkt::build!(types::IcpEntityStructure { root: true });
/// assert!(missing.unwrap_err().to_string().contains("entity_type"));
/// # Ok::<(), linkt::types::error::ConversionError>(())
/// ```
#[macro_export]
macro_rules! build {
    ($($ty:ident)::+ { $($field:ident $(: $value:expr)?),* $(,)? }) => {
        <$($ty)::+>::try_from(
            <$($ty)::+>::builder()$(.$field($crate::build!(@value $field $($value)?)))*
        )
    };
    (@value $field:ident $value:expr) => { $value };
    (@value $field:ident) => { $field };
}

#[cfg(test)]
#[allow(
    unreachable_pub,
    dead_code,
    reason = "the macros emit public items, here on private test types"
)]
mod tests {
    use super::UnknownValue;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    #[non_exhaustive]
    enum Colour {
        Red,
        DarkBlue,
        Unknown(UnknownValue),
    }
    open_enum!(Colour {
        Red = "red",
        DarkBlue = "dark_blue"
    });

    #[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
    struct Circle {
        #[serde(rename = "type")]
        type_: String,
        radius: f64,
    }

    #[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
    struct Square {
        #[serde(rename = "type")]
        type_: String,
        side: f64,
    }

    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(untagged)]
    #[non_exhaustive]
    enum Shape {
        Circle(Circle),
        Square(Square),
        Unknown(serde_json::Map<String, serde_json::Value>),
    }
    open_union!(Shape, "type" {
        "circle" => Circle,
        "square" => Square,
    });

    #[test]
    fn known_values_decode_to_their_variants_and_unknown_ones_are_kept() {
        let values: Vec<Colour> =
            serde_json::from_str(r#"["red", "dark_blue", "mauve", "RED"]"#).expect("decodes");
        assert_eq!(values[0], Colour::Red);
        assert_eq!(values[1], Colour::DarkBlue);
        assert!(values[2].is_unknown());
        assert_eq!(values[2].as_str(), "mauve");
        assert_eq!(values[3].to_string(), "RED", "matching is exact");
        assert_eq!(
            serde_json::to_string(&values).expect("encodes"),
            r#"["red","dark_blue","mauve","RED"]"#
        );
    }

    #[test]
    fn an_unknown_value_shows_and_is_found_as_its_wire_value() {
        let Colour::Unknown(value) = Colour::from("mauve") else {
            panic!("mauve is not a known colour");
        };
        assert_eq!(value.to_string(), "mauve");
        assert_eq!(AsRef::<str>::as_ref(&value), "mauve");
        let seen: std::collections::HashSet<UnknownValue> = [value].into_iter().collect();
        assert!(seen.contains("mauve"), "looked up by its str");
        assert!(!seen.contains("red"));
    }

    #[test]
    fn every_way_in_agrees() {
        for text in ["red", "dark_blue", "mauve", ""] {
            let from_str: Colour = text.parse().expect("infallible");
            let from_string = Colour::from(text.to_owned());
            let from_json: Colour =
                serde_json::from_value(serde_json::Value::String(text.to_owned())).expect("json");
            // An escaped string is decoded into an owned `String`.
            let from_escaped: Colour =
                serde_json::from_str(&format!("\"{}\"", text.replace('_', "\\u005f")))
                    .expect("escaped");
            assert_eq!(from_str, from_string, "{text}");
            assert_eq!(from_str, from_json, "{text}");
            assert_eq!(from_str, from_escaped, "{text}");
            assert_eq!(from_str.as_str(), text);
        }
        assert_eq!(Colour::KNOWN, ["red", "dark_blue"]);
    }

    #[test]
    fn an_enum_takes_nothing_but_a_string() {
        let err = serde_json::from_str::<Colour>("7").expect_err("a number");
        assert!(err.to_string().contains("expected a string"), "{err}");
    }

    #[test]
    fn a_union_dispatches_on_its_tag_and_keeps_unknown_members() {
        let shapes: Vec<Shape> = serde_json::from_str(
            r#"[{"type":"circle","radius":1.5},
                {"type":"square","side":2.0},
                {"type":"hexagon","side":1.0,"nested":{"a":[1,2]}}]"#,
        )
        .expect("decodes");
        assert!(matches!(&shapes[0], Shape::Circle(c) if c.radius == 1.5));
        assert!(matches!(&shapes[1], Shape::Square(s) if s.side == 2.0));
        assert!(shapes[2].is_unknown());
        assert_eq!(shapes[2].tag(), Some("hexagon"));
        assert_eq!(shapes[0].tag(), Some("circle"));
        let round_trip = serde_json::to_value(&shapes).expect("encodes");
        assert_eq!(
            round_trip[2],
            serde_json::json!({"type":"hexagon","side":1.0,"nested":{"a":[1,2]}})
        );
        assert_eq!(
            round_trip[0],
            serde_json::json!({"type":"circle","radius":1.5})
        );
    }

    #[test]
    fn a_known_tag_with_a_bad_body_names_the_variant_and_is_not_swallowed() {
        let err = serde_json::from_str::<Shape>(r#"{"type":"circle","radius":"big"}"#)
            .expect_err("a known member that does not decode is an error");
        let text = err.to_string();
        assert!(text.contains("Shape with type `circle`"), "{text}");
        assert!(
            text.contains("radius") || text.contains("invalid type"),
            "{text}"
        );
    }

    #[test]
    fn a_union_member_needs_a_string_tag() {
        let missing = serde_json::from_str::<Shape>(r#"{"radius":1.0}"#).expect_err("no tag");
        assert!(
            missing.to_string().contains("missing field `type`"),
            "{missing}"
        );
        let number = serde_json::from_str::<Shape>(r#"{"type":3}"#).expect_err("number tag");
        assert!(number.to_string().contains("a string tag"), "{number}");
    }
}
