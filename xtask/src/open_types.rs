//! The generated types, rewritten after progenitor to stay open to what the
//! API adds later.
//!
//! typify generates closed types: a string enum rejects a value it does not
//! list, an untagged union rejects a member it does not know, and a struct
//! can be built with a literal, so adding a field breaks the code that
//! does. The vendor adds values, members and fields often. The rewrite,
//! applied to the parsed client's `types` module before it is formatted:
//!
//! 1. **String enums are open.** Each unit-only enum that typify derives
//!    serde for loses its derived `Serialize`/`Deserialize` and `Copy`, and
//!    typify's `Display`/`FromStr`/`TryFrom` impls; it gains
//!    `#[non_exhaustive]`, an `Unknown(crate::UnknownValue)` variant (skipped
//!    by `schemars`, so its schema stays the spec's) and a
//!    `crate::open::open_enum!` invocation listing its variants and their
//!    wire values, which implements the conversions and serde.
//! 2. **Discriminated unions are open.** Each untagged enum whose variants
//!    are exactly the members of a `oneOf` with a `discriminator` in the
//!    document loses its derived `Deserialize`; it gains `#[non_exhaustive]`,
//!    an `Unknown(serde_json::Map<..>)` variant holding the raw object, and a
//!    `crate::open::open_union!` invocation with the tag and its mapping,
//!    which decodes by the tag. The single-value enums that type each
//!    member's tag field stay closed: they are what tells members apart.
//! 3. **Structs are `#[non_exhaustive]`.** Every struct with named fields,
//!    so that a field added to the spec is not a breaking change; values
//!    are built with the builders typify generates (`Type::builder()`).
//!
//! The rewrite fails, naming what it found, if progenitor's output no longer
//! has the shape it expects: an enum that is neither a plain string enum nor
//! an untagged enum, a string enum without typify's conversion impls, an
//! impl of a trait it does not know for an enum it opens, a discriminated
//! union of the document that matches no enum, or a member whose tag field
//! it cannot find.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use quote::{ToTokens as _, format_ident};
use serde_json::Value;
use syn::punctuated::Punctuated;
use syn::{Attribute, Fields, Item, Meta, Token, parse_quote};

/// A `oneOf` with a `discriminator` in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Union {
    /// Where it was found, as a JSON pointer.
    pub(crate) pointer: String,
    /// The tag property (`type`).
    pub(crate) tag: String,
    /// Tag value → component name, in the document's order.
    pub(crate) mapping: Vec<(String, String)>,
}

impl Union {
    fn members(&self) -> BTreeSet<String> {
        self.mapping.iter().map(|(_, name)| name.clone()).collect()
    }
}

/// What [`rewrite`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Rewrites {
    /// String enums opened.
    pub(crate) enums: usize,
    /// Single-value tag enums of union members, left closed.
    pub(crate) tags: usize,
    /// Discriminated unions opened.
    pub(crate) unions: usize,
    /// Structs made `#[non_exhaustive]`.
    pub(crate) structs: usize,
}

/// Finds every `oneOf` with a `discriminator` and a `mapping` in `document`.
pub(crate) fn discriminated_unions(document: &Value) -> Result<Vec<Union>> {
    fn walk(value: &Value, pointer: &mut String, out: &mut Vec<Result<Union>>) {
        match value {
            Value::Object(map) => {
                if let (Some(discriminator), Some(Value::Array(_))) =
                    (map.get("discriminator"), map.get("oneOf"))
                {
                    out.push(union_at(discriminator, pointer));
                }
                for (key, child) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    walk(child, pointer, out);
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    walk(child, pointer, out);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    fn union_at(discriminator: &Value, pointer: &str) -> Result<Union> {
        let tag = discriminator
            .get("propertyName")
            .and_then(Value::as_str)
            .with_context(|| format!("{pointer}: discriminator without `propertyName`"))?;
        let mapping = discriminator
            .get("mapping")
            .and_then(Value::as_object)
            .with_context(|| format!("{pointer}: discriminator without `mapping`"))?;
        let mapping = mapping
            .iter()
            .map(|(value, target)| {
                let name = target
                    .as_str()
                    .and_then(|t| t.strip_prefix("#/components/schemas/"))
                    .with_context(|| {
                        format!("{pointer}: mapping `{value}` is not a component reference")
                    })?;
                Ok((value.clone(), name.to_owned()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Union {
            pointer: pointer.to_owned(),
            tag: tag.to_owned(),
            mapping,
        })
    }
    let mut out = Vec::new();
    walk(document, &mut String::new(), &mut out);
    out.into_iter().collect()
}

/// Rewrites the `types` module of the generated client.
pub(crate) fn rewrite(file: &mut syn::File, unions: &[Union]) -> Result<Rewrites> {
    let types = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
            _ => None,
        })
        .map(|(_, items)| items)
        .context("the generated client has no `types` module")?;
    rewrite_types(types, unions)
}

fn rewrite_types(items: &mut Vec<Item>, unions: &[Union]) -> Result<Rewrites> {
    let mut rewrites = Rewrites::default();
    let structs: BTreeMap<String, &syn::ItemStruct> = items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some((s.ident.to_string(), s)),
            _ => None,
        })
        .collect();

    // Classify every enum first: unions (with their spec), tag enums, string enums.
    let mut union_of: BTreeMap<String, &Union> = BTreeMap::new();
    let mut matched: BTreeSet<&str> = BTreeSet::new();
    let mut string_enums: BTreeMap<String, Vec<(syn::Ident, String)>> = BTreeMap::new();
    for item in items.iter() {
        let Item::Enum(e) = item else { continue };
        let name = e.ident.to_string();
        if has_serde_word(&e.attrs, "untagged") {
            // An untagged enum of plain values (`string | integer`) is left as it is.
            let Some(members) = newtype_members(e) else {
                continue;
            };
            let same: Vec<&Union> = unions.iter().filter(|u| u.members() == members).collect();
            let Some(union) = same.first() else {
                bail!(
                    "the untagged enum `{name}` of members {members:?} matches no discriminated \
                     union of the document, so it cannot be opened by its tag"
                );
            };
            if let Some(other) = same
                .iter()
                .find(|u| u.tag != union.tag || u.mapping != union.mapping)
            {
                bail!(
                    "the discriminated unions at {} and {} have the same members but different tags",
                    union.pointer,
                    other.pointer
                );
            }
            union_of.insert(name, union);
            matched.extend(same.iter().map(|u| u.pointer.as_str()));
            continue;
        }
        string_enums.insert(name.clone(), string_variants(e)?);
    }
    if let Some(union) = unions
        .iter()
        .find(|u| !matched.contains(u.pointer.as_str()))
    {
        bail!(
            "the discriminated union at {} (members {:?}) matches no generated enum",
            union.pointer,
            union.members()
        );
    }

    // The enums that type each member's tag field stay closed.
    let mut tag_enums = BTreeSet::new();
    for union in union_of.values() {
        for (value, member) in &union.mapping {
            let s = structs
                .get(member)
                .with_context(|| format!("union member `{member}` is not a generated struct"))?;
            let ty = tag_field_type(s, &union.tag).with_context(|| {
                format!(
                    "union member `{member}` has no field for its tag `{}`",
                    union.tag
                )
            })?;
            let variants = string_enums.get(&ty).with_context(|| {
                format!("the tag field of `{member}` has type `{ty}`, not a string enum")
            })?;
            if variants.len() != 1 || variants[0].1 != *value {
                bail!(
                    "the tag enum `{ty}` of `{member}` is not the single value `{value}` of the mapping"
                );
            }
            tag_enums.insert(ty);
        }
    }
    rewrites.tags = tag_enums.len();
    string_enums.retain(|name, _| !tag_enums.contains(name));

    // Remove typify's conversions of the enums that become open.
    let mut removed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    items.retain(|item| {
        let Item::Impl(imp) = item else { return true };
        let Some(self_name) = type_ident(&imp.self_ty) else {
            return true;
        };
        if !string_enums.contains_key(&self_name) {
            return true;
        }
        let Some((trait_path, _)) = &imp.trait_ else {
            problems.push(format!("an inherent impl of the string enum `{self_name}`"));
            return true;
        };
        let trait_name = trait_path
            .segments
            .last()
            .map(|s| s.to_token_stream().to_string().replace(' ', ""))
            .unwrap_or_default();
        match trait_name.as_str() {
            "Default" => true,
            "Display"
            | "FromStr"
            | "TryFrom<&str>"
            | "TryFrom<::std::string::String>"
            | "TryFrom<&::std::string::String>" => {
                removed.entry(self_name).or_default().insert(trait_name);
                false
            }
            other => {
                problems.push(format!(
                    "an impl of `{other}` for the string enum `{self_name}`"
                ));
                true
            }
        }
    });
    if let Some(problem) = problems.first() {
        bail!("the generated string enums no longer have the expected shape: {problem}");
    }
    for name in string_enums.keys() {
        let found = removed.get(name).cloned().unwrap_or_default();
        for expected in ["Display", "FromStr", "TryFrom<&str>"] {
            if !found.contains(expected) {
                bail!("the string enum `{name}` has no typify `{expected}` impl to replace");
            }
        }
    }

    // Rewrite the enums and structs in place, inserting the macro calls after them.
    let mut out = Vec::with_capacity(items.len() + string_enums.len() + union_of.len());
    for mut item in std::mem::take(items) {
        let mut extra = None;
        match &mut item {
            Item::Enum(e) => {
                let name = e.ident.to_string();
                if let Some(variants) = string_enums.get(&name) {
                    open_string_enum(e)?;
                    extra = Some(open_enum_call(&e.ident, variants));
                    rewrites.enums += 1;
                } else if let Some(union) = union_of.get(&name) {
                    open_union(e)?;
                    extra = Some(open_union_call(&e.ident, union));
                    rewrites.unions += 1;
                }
            }
            Item::Struct(s) if matches!(s.fields, Fields::Named(_)) => {
                if !s.attrs.iter().any(|a| a.path().is_ident("non_exhaustive")) {
                    s.attrs.push(parse_quote!(#[non_exhaustive]));
                }
                rewrites.structs += 1;
            }
            _ => {}
        }
        out.push(item);
        out.extend(extra);
    }
    *items = out;
    if rewrites.enums == 0 {
        bail!("the generated client has no string enums to open");
    }
    Ok(rewrites)
}

/// `Some(members)` if every variant is `Name(Name)`.
fn newtype_members(e: &syn::ItemEnum) -> Option<BTreeSet<String>> {
    e.variants
        .iter()
        .map(|v| match &v.fields {
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                let ty = type_ident(&fields.unnamed[0].ty)?;
                (v.ident == ty).then_some(ty)
            }
            _ => None,
        })
        .collect()
}

/// The variants of a plain string enum with their wire values.
fn string_variants(e: &syn::ItemEnum) -> Result<Vec<(syn::Ident, String)>> {
    let name = &e.ident;
    if !derives(&e.attrs, "Deserialize") || !derives(&e.attrs, "Serialize") {
        bail!("the enum `{name}` does not derive serde");
    }
    if let Some(attr) = e.attrs.iter().find(|a| a.path().is_ident("serde")) {
        bail!(
            "the enum `{name}` has a container attribute `{}`",
            attr.to_token_stream()
        );
    }
    e.variants
        .iter()
        .map(|v| {
            if !matches!(v.fields, Fields::Unit) {
                bail!(
                    "the enum `{name}` is not untagged and has a variant `{}` with data",
                    v.ident
                );
            }
            let value = serde_rename(&v.attrs)?.unwrap_or_else(|| v.ident.to_string());
            Ok((v.ident.clone(), value))
        })
        .collect()
}

fn open_string_enum(e: &mut syn::ItemEnum) -> Result<()> {
    remove_derives(&mut e.attrs, &["Deserialize", "Serialize", "Copy"])?;
    e.attrs.push(parse_quote!(#[non_exhaustive]));
    e.variants.push(parse_quote! {
        /// A value this version of the client does not know, kept as received.
        #[schemars(skip)]
        Unknown(crate::UnknownValue)
    });
    Ok(())
}

fn open_union(e: &mut syn::ItemEnum) -> Result<()> {
    remove_derives(&mut e.attrs, &["Deserialize"])?;
    e.attrs.push(parse_quote!(#[non_exhaustive]));
    e.variants.push(parse_quote! {
        /// A member this version of the client does not know: the object as received.
        #[schemars(skip)]
        Unknown(::serde_json::Map<::std::string::String, ::serde_json::Value>)
    });
    Ok(())
}

fn open_enum_call(name: &syn::Ident, variants: &[(syn::Ident, String)]) -> Item {
    let idents = variants.iter().map(|(ident, _)| ident);
    let values = variants.iter().map(|(_, value)| value);
    parse_quote! {
        crate::open::open_enum!(#name { #(#idents = #values),* });
    }
}

fn open_union_call(name: &syn::Ident, union: &Union) -> Item {
    let tag = &union.tag;
    let values = union.mapping.iter().map(|(value, _)| value);
    let members = union
        .mapping
        .iter()
        .map(|(_, member)| format_ident!("{member}"));
    parse_quote! {
        crate::open::open_union!(#name, #tag { #(#values => #members),* });
    }
}

/// The type name of the field that serde names `tag`.
fn tag_field_type(s: &syn::ItemStruct, tag: &str) -> Option<String> {
    let Fields::Named(fields) = &s.fields else {
        return None;
    };
    fields.named.iter().find_map(|field| {
        let wire = serde_rename(&field.attrs)
            .ok()
            .flatten()
            .or_else(|| field.ident.as_ref().map(ToString::to_string))?;
        (wire == tag).then(|| type_ident(&field.ty)).flatten()
    })
}

/// The last segment of a plain type path, without generics.
fn type_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The paths inside the item's `#[derive(...)]` attributes.
fn derive_paths(attrs: &[Attribute]) -> Vec<syn::Path> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .filter_map(|a| {
            a.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .collect()
}

fn last_ident(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

fn derives(attrs: &[Attribute], name: &str) -> bool {
    derive_paths(attrs).iter().any(|p| last_ident(p) == name)
}

/// Removes the named derives; each must be there.
fn remove_derives(attrs: &mut Vec<Attribute>, names: &[&str]) -> Result<()> {
    let paths = derive_paths(attrs);
    for name in names {
        if !paths.iter().any(|p| last_ident(p) == *name) {
            bail!("expected a derived `{name}`, found none");
        }
    }
    let kept: Vec<&syn::Path> = paths
        .iter()
        .filter(|p| !names.contains(&last_ident(p).as_str()))
        .collect();
    attrs.retain(|a| !a.path().is_ident("derive"));
    attrs.insert(0, parse_quote!(#[derive(#(#kept),*)]));
    Ok(())
}

fn has_serde_word(attrs: &[Attribute], word: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| {
            a.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .map(|metas| metas.iter().any(|m| m.path().is_ident(word)))
                .unwrap_or(false)
        })
}

/// The value of `#[serde(rename = "...")]`, if any.
fn serde_rename(attrs: &[Attribute]) -> Result<Option<String>> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let metas = attr
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .with_context(|| format!("unreadable `{}`", attr.to_token_stream()))?;
        for meta in metas {
            if let Meta::NameValue(nv) = meta
                && nv.path.is_ident("rename")
            {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
                {
                    return Ok(Some(s.value()));
                }
                bail!("`{}` is not a string rename", attr.to_token_stream());
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    /// A `types` module in typify's shape: one string enum, one union of two
    /// members with their single-value tag enums, one struct.
    fn types_module(extra: proc_macro2::TokenStream) -> syn::File {
        let tag_enum = |name: &str, value: &str, variant: &str| {
            let name = format_ident!("{name}");
            let variant = format_ident!("{variant}");
            quote! {
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Copy, Debug, PartialEq)]
                pub enum #name {
                    #[serde(rename = #value)]
                    #variant,
                }
                impl ::std::fmt::Display for #name {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { todo!() }
                }
                impl ::std::str::FromStr for #name {
                    type Err = self::error::ConversionError;
                    fn from_str(value: &str) -> Result<Self, Self::Err> { todo!() }
                }
                impl ::std::convert::TryFrom<&str> for #name {
                    type Error = self::error::ConversionError;
                    fn try_from(value: &str) -> Result<Self, Self::Error> { value.parse() }
                }
            }
        };
        let circle_type = tag_enum("CircleType", "circle", "Circle");
        let square_type = tag_enum("SquareType", "square", "Square");
        let colour = tag_enum("Colour", "red", "Red");
        syn::parse2(quote! {
            pub mod types {
                #colour
                impl ::std::default::Default for Colour {
                    fn default() -> Self { Colour::Red }
                }
                #circle_type
                #square_type
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
                pub struct Circle {
                    #[serde(rename = "type")]
                    pub type_: CircleType,
                    pub radius: f64,
                }
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
                pub struct Square {
                    #[serde(rename = "type")]
                    pub type_: SquareType,
                    pub side: f64,
                }
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
                #[serde(untagged)]
                pub enum Shape {
                    Circle(Circle),
                    Square(Square),
                }
                #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
                #[serde(untagged)]
                pub enum LocItem {
                    String(::std::string::String),
                    Integer(i64),
                }
                #[derive(Clone, Debug)]
                pub struct Id(String);
                #extra
            }
        })
        .expect("parses")
    }

    fn shapes() -> Vec<Union> {
        vec![Union {
            pointer: "/components/schemas/Drawing/properties/shape".to_owned(),
            tag: "type".to_owned(),
            mapping: vec![
                ("circle".to_owned(), "Circle".to_owned()),
                ("square".to_owned(), "Square".to_owned()),
            ],
        }]
    }

    fn rendered(file: &syn::File) -> String {
        prettyplease::unparse(file)
    }

    #[test]
    fn string_enums_unions_and_structs_are_opened_and_tags_stay_closed() {
        let mut file = types_module(quote!());
        let rewrites = rewrite(&mut file, &shapes()).expect("rewrite");
        assert_eq!(
            rewrites,
            Rewrites {
                enums: 1,
                tags: 2,
                unions: 1,
                structs: 2,
            }
        );
        let text = rendered(&file);
        assert!(
            text.contains("crate::open::open_enum!(Colour { Red = \"red\" });"),
            "{text}"
        );
        assert!(
            text.contains(
                "crate::open::open_union!(Shape, \"type\" { \"circle\" => Circle, \"square\" => Square });"
            ),
            "{text}"
        );
        assert!(text.contains("Unknown(crate::UnknownValue)"), "{text}");
        assert!(
            text.contains("Unknown(::serde_json::Map<::std::string::String, ::serde_json::Value>)"),
            "{text}"
        );
        // The open enum lost typify's conversions and serde derives, kept Default.
        assert!(
            !text.contains("impl ::std::str::FromStr for Colour"),
            "{text}"
        );
        assert!(
            text.contains("impl ::std::default::Default for Colour"),
            "{text}"
        );
        // Tag enums are untouched.
        assert!(
            text.contains("impl ::std::str::FromStr for CircleType"),
            "{text}"
        );
        assert_eq!(text.matches("#[non_exhaustive]").count(), 4, "{text}");
        assert!(!text.contains("pub struct Id(String);\n    #[non_exhaustive]"));
    }

    #[test]
    fn a_union_of_the_document_without_an_enum_is_an_error() {
        let mut file = types_module(quote!());
        let mut unions = shapes();
        unions.push(Union {
            pointer: "/components/schemas/Other".to_owned(),
            tag: "kind".to_owned(),
            mapping: vec![("x".to_owned(), "Triangle".to_owned())],
        });
        let err = rewrite(&mut file, &unions)
            .expect_err("unmatched")
            .to_string();
        assert!(err.contains("/components/schemas/Other"), "{err}");
    }

    #[test]
    fn an_untagged_enum_of_members_without_a_discriminator_is_an_error() {
        let mut file = types_module(quote!());
        let err = rewrite(&mut file, &[])
            .expect_err("no discriminator")
            .to_string();
        assert!(err.contains("untagged enum `Shape`"), "{err}");
    }

    #[test]
    fn a_string_enum_without_typify_conversions_is_an_error() {
        let mut file = types_module(quote! {
            #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
            pub enum Mode { #[serde(rename = "a")] A }
        });
        let err = rewrite(&mut file, &shapes())
            .expect_err("no impls")
            .to_string();
        assert!(err.contains("`Mode` has no typify `Display`"), "{err}");
    }

    #[test]
    fn an_unknown_impl_of_a_string_enum_is_an_error() {
        let mut file = types_module(quote! {
            impl ::std::convert::From<Colour> for u8 {
                fn from(_: Colour) -> u8 { 0 }
            }
            impl ::std::hash::Hash for Colour {
                fn hash<H: ::std::hash::Hasher>(&self, _: &mut H) {}
            }
        });
        let err = rewrite(&mut file, &shapes())
            .expect_err("unknown impl")
            .to_string();
        assert!(err.contains("`Hash` for the string enum `Colour`"), "{err}");
    }

    #[test]
    fn an_enum_with_data_that_is_not_untagged_is_an_error() {
        let mut file = types_module(quote! {
            #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
            #[serde(tag = "kind")]
            pub enum Tagged { A { x: i64 } }
        });
        let err = rewrite(&mut file, &shapes())
            .expect_err("tagged")
            .to_string();
        assert!(err.contains("`Tagged` has a container attribute"), "{err}");
    }

    #[test]
    fn a_member_whose_tag_is_not_its_mapping_value_is_an_error() {
        let mut file = types_module(quote!());
        let mut unions = shapes();
        unions[0].mapping[0].0 = "round".to_owned();
        let err = rewrite(&mut file, &unions).expect_err("tag").to_string();
        assert!(err.contains("`CircleType` of `Circle`"), "{err}");
    }

    #[test]
    fn discriminated_unions_are_found_with_their_pointer_and_mapping() {
        let document = serde_json::json!({ "components": { "schemas": { "Drawing": {
            "properties": { "shape": {
                "oneOf": [{ "$ref": "#/components/schemas/Circle" }],
                "discriminator": { "propertyName": "type",
                    "mapping": { "circle": "#/components/schemas/Circle" } } } } } } } });
        let unions = discriminated_unions(&document).expect("found");
        assert_eq!(unions.len(), 1);
        assert_eq!(
            unions[0].pointer,
            "/components/schemas/Drawing/properties/shape"
        );
        assert_eq!(
            unions[0].mapping,
            [("circle".to_owned(), "Circle".to_owned())]
        );

        let without_mapping = serde_json::json!({ "a": {
            "oneOf": [], "discriminator": { "propertyName": "type" } } });
        let err = discriminated_unions(&without_mapping)
            .expect_err("no mapping")
            .to_string();
        assert!(err.contains("/a: discriminator without `mapping`"), "{err}");
    }
}
