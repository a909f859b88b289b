//! The generated client's request path, rewritten after progenitor.
//!
//! progenitor's `send` methods do some work on every call that this API does
//! not need and no generator setting turns off. The rewrite, applied to the
//! parsed client before it is formatted:
//!
//! 1. **No `api-version` header.** progenitor sends the document's
//!    `info.version` in an `api-version` header on every request (a Dropshot
//!    convention), through a `HeaderMap` built per call. Linkt versions its
//!    API in the path (`/v1`) and reads no such header. Its spec declares no
//!    header parameters, so the map is removed with the header.
//! 2. **Path parameters are checked, then encoded into the URL.**
//!    `encode_path(&x.to_string())` becomes
//!    `x.to_path_segment("x").map_err(Error::InvalidRequest)?`, which refuses
//!    a value that would change the path's shape (empty, or a dot segment
//!    such as `..` or `%2e%2e`), naming the parameter, before the request is
//!    built, and otherwise percent-encodes it while the URL is formatted,
//!    with the same set plus `\`. The parameter's name is the variable's, which
//!    progenitor names after the spec's parameter; the error takes the path
//!    of progenitor's own parameter errors (`Error::InvalidRequest`, before
//!    anything is sent). The method resolves as `to_string()` did
//!    (`crate::support::ToPathSegment` is implemented for every `Display`
//!    type, like `ToString`), and is imported into each module where it is
//!    used.
//! 3. **Response headers are moved, not cloned.**
//!    `ResponseValue::{from_response, empty, stream}` become
//!    `crate::support::{json, empty, stream}`.
//!
//! The replacements live in `crates/linkt/src/support.rs`, whose tests check
//! them against the helpers they replace. The rewrite fails, naming what it
//! found, if progenitor's output no longer has the shape it expects: every
//! `send` must lose exactly one `api-version` header, every `encode_path`
//! must encode `&name.to_string()` of a variable `name`, and no
//! `api-version`, `encode_path` or `ResponseValue::` helper call may remain.

use anyhow::{Result, bail};
use quote::ToTokens as _;
use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt, Token, parse_quote};

/// What [`rewrite`] changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rewrites {
    /// `send` methods seen.
    pub(crate) sends: usize,
    /// `api-version` headers (with their header maps) removed.
    pub(crate) api_version_headers: usize,
    /// Path parameters now checked and encoded by `to_path_segment`.
    pub(crate) path_segments: usize,
    /// Response decoders now taken from `crate::support`.
    pub(crate) decoders: usize,
}

/// Rewrites the request path of every `send` method in the generated client.
pub(crate) fn rewrite(file: &mut syn::File) -> Result<Rewrites> {
    let mut visitor = Visitor::default();
    visitor.visit_file_mut(file);
    if visitor.segments_here > 0 {
        file.items.insert(0, path_segment_import());
    }
    if let Some(problem) = visitor.problems.first() {
        bail!(
            "progenitor's request path no longer has the expected shape ({} problem(s)); first: {problem}",
            visitor.problems.len()
        );
    }
    let rewrites = visitor.rewrites;
    if rewrites.sends == 0 {
        bail!("the generated client has no `send` methods");
    }
    if rewrites.api_version_headers != rewrites.sends {
        bail!(
            "{} `send` methods but {} `api-version` headers removed",
            rewrites.sends,
            rewrites.api_version_headers
        );
    }
    let rendered = file.to_token_stream().to_string();
    for leftover in [
        "\"api-version\"",
        "encode_path (",
        "ResponseValue :: from_response",
        "ResponseValue :: empty",
        "ResponseValue :: stream",
    ] {
        if rendered.contains(leftover) {
            bail!("`{leftover}` is still called in the generated client after the rewrite");
        }
    }
    Ok(rewrites)
}

#[derive(Default)]
struct Visitor {
    rewrites: Rewrites,
    problems: Vec<String>,
    /// Path parameters rewritten in the module being visited.
    segments_here: usize,
}

fn path_segment_import() -> syn::Item {
    parse_quote! {
        #[allow(unused_imports)]
        use crate::support::ToPathSegment as _;
    }
}

impl VisitMut for Visitor {
    fn visit_item_mod_mut(&mut self, module: &mut syn::ItemMod) {
        let outer = std::mem::take(&mut self.segments_here);
        visit_mut::visit_item_mod_mut(self, module);
        if self.segments_here > 0
            && let Some((_, items)) = &mut module.content
        {
            items.insert(0, path_segment_import());
        }
        self.segments_here = outer;
    }

    fn visit_impl_item_fn_mut(&mut self, item: &mut syn::ImplItemFn) {
        if item.sig.ident == "send" {
            self.rewrites.sends += 1;
            match remove_api_version(&mut item.block) {
                Ok(()) => self.rewrites.api_version_headers += 1,
                Err(problem) => self.problems.push(format!(
                    "{problem} (in `send` of `{}`)",
                    first_line(&item.block)
                )),
            }
        }
        visit_mut::visit_impl_item_fn_mut(self, item);
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        let Expr::Call(call) = expr else { return };
        let Expr::Path(func) = &*call.func else {
            return;
        };
        let segments: Vec<String> = func
            .path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        let replacement: Expr = match segments
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["ResponseValue", "from_response"] => parse_quote!(crate::support::json),
            ["ResponseValue", "empty"] => parse_quote!(crate::support::empty),
            ["ResponseValue", "stream"] => parse_quote!(crate::support::stream),
            _ => return,
        };
        *call.func = replacement;
        self.rewrites.decoders += 1;
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        visit_mut::visit_macro_mut(self, mac);
        if !mac.path.is_ident("format") {
            return;
        }
        let Ok(mut args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
        else {
            return;
        };
        let mut changed = 0;
        for arg in args.iter_mut() {
            match path_segment(arg) {
                Ok(Some(replacement)) => {
                    *arg = replacement;
                    changed += 1;
                }
                Ok(None) => {}
                Err(problem) => self.problems.push(problem),
            }
        }
        if changed > 0 {
            mac.tokens = args.to_token_stream();
            self.rewrites.path_segments += changed;
            self.segments_here += changed;
        }
    }
}

/// `encode_path(&x.to_string())` →
/// `x.to_path_segment("x").map_err(Error::InvalidRequest)?`.
fn path_segment(arg: &Expr) -> Result<Option<Expr>, String> {
    let Expr::Call(call) = arg else {
        return Ok(None);
    };
    let Expr::Path(func) = &*call.func else {
        return Ok(None);
    };
    if !func.path.is_ident("encode_path") {
        return Ok(None);
    }
    let unexpected = || {
        format!(
            "`{}` is not `encode_path(&name.to_string())` of a variable `name`",
            arg.to_token_stream()
        )
    };
    let [Expr::Reference(reference)] = call.args.iter().collect::<Vec<_>>().as_slice() else {
        return Err(unexpected());
    };
    let Expr::MethodCall(to_string) = &*reference.expr else {
        return Err(unexpected());
    };
    if to_string.method != "to_string" || !to_string.args.is_empty() {
        return Err(unexpected());
    }
    // The variable, to name the parameter in the error: progenitor binds
    // each path parameter to a local named after it.
    let Expr::Path(variable) = &*to_string.receiver else {
        return Err(unexpected());
    };
    let Some(ident) = variable
        .path
        .get_ident()
        .filter(|_| variable.qself.is_none())
    else {
        return Err(unexpected());
    };
    let name = ident.unraw().to_string();
    Ok(Some(parse_quote!(
        #ident.to_path_segment(#name).map_err(Error::InvalidRequest)?
    )))
}

/// Removes `let mut header_map = HeaderMap::with_capacity(..);`, its one
/// `api-version` append and the `.headers(header_map)` that uses it.
fn remove_api_version(block: &mut syn::Block) -> Result<(), String> {
    let is_header_map = |local: &syn::Local| matches!(&local.pat, syn::Pat::Ident(ident) if ident.ident == "header_map");
    let declarations = block
        .stmts
        .iter()
        .filter(|stmt| matches!(stmt, Stmt::Local(local) if is_header_map(local)))
        .count();
    let appends: Vec<&Stmt> = block
        .stmts
        .iter()
        .filter(|stmt| {
            matches!(stmt, Stmt::Expr(Expr::MethodCall(call), Some(_))
                if call.method == "append" && is_ident(&call.receiver, "header_map"))
        })
        .collect();
    let [append] = appends.as_slice() else {
        return Err(format!(
            "expected one `header_map.append` (api-version), found {}",
            appends.len()
        ));
    };
    if !append
        .to_token_stream()
        .to_string()
        .contains("\"api-version\"")
    {
        return Err("the only `header_map.append` is not `api-version`".to_owned());
    }
    if declarations != 1 {
        return Err(format!(
            "expected one `let mut header_map`, found {declarations}"
        ));
    }
    block.stmts.retain(|stmt| match stmt {
        Stmt::Local(local) => !is_header_map(local),
        Stmt::Expr(Expr::MethodCall(call), Some(_)) => {
            !(call.method == "append" && is_ident(&call.receiver, "header_map"))
        }
        _ => true,
    });
    let mut uses = HeadersCall::default();
    uses.visit_block_mut(block);
    if uses.removed != 1 {
        return Err(format!(
            "expected one `.headers(header_map)`, found {}",
            uses.removed
        ));
    }
    if block.to_token_stream().to_string().contains("header_map") {
        return Err("`header_map` is used beyond the api-version header".to_owned());
    }
    Ok(())
}

/// Replaces `<receiver>.headers(header_map)` with `<receiver>`.
#[derive(Default)]
struct HeadersCall {
    removed: usize,
}

impl VisitMut for HeadersCall {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        let Expr::MethodCall(call) = expr else { return };
        let uses_header_map = call.method == "headers"
            && call.args.len() == 1
            && call
                .args
                .first()
                .is_some_and(|arg| is_ident(arg, "header_map"));
        if uses_header_map {
            *expr = (*call.receiver).clone();
            self.removed += 1;
        }
    }
}

fn is_ident(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Path(path) if path.path.is_ident(name))
}

/// The start of a block, to name it in an error.
fn first_line(block: &syn::Block) -> String {
    let text = block.to_token_stream().to_string();
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape progenitor 0.15 gives a `send` with a path parameter.
    fn send_source(extra_header: &str) -> String {
        format!(
            r#"
            impl<'a> IcpRetrieve<'a> {{
                pub async fn send(self) -> Result<ResponseValue<types::IcpResponse>, Error<()>> {{
                    let Self {{ client, icp_id }} = self;
                    let icp_id = icp_id.map_err(Error::InvalidRequest)?;
                    let url = format!("{{}}/v1/icp/{{}}", client.baseurl, encode_path(&icp_id.to_string()),);
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    header_map.append(
                        ::reqwest::header::HeaderName::from_static("api-version"),
                        ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                    );
                    {extra_header}
                    let mut request = client.client.get(url)
                        .header(::reqwest::header::ACCEPT, ::reqwest::header::HeaderValue::from_static("application/json"))
                        .headers(header_map)
                        .build()?;
                    let result = client.exec(request, &info).await;
                    let response = result?;
                    match response.status().as_u16() {{
                        200u16 => ResponseValue::from_response(response).await,
                        204u16 => Ok(ResponseValue::empty(response)),
                        _ => Err(Error::UnexpectedResponse(response)),
                    }}
                }}
            }}
            "#
        )
    }

    #[test]
    fn a_send_loses_the_api_version_header_and_uses_the_support_helpers() {
        let mut file: syn::File = syn::parse_str(&send_source("")).expect("valid Rust");
        let rewrites = rewrite(&mut file).expect("the expected shape");
        assert_eq!(
            rewrites,
            Rewrites {
                sends: 1,
                api_version_headers: 1,
                path_segments: 1,
                decoders: 2
            }
        );
        let out = file.to_token_stream().to_string();
        for gone in ["header_map", "api-version", "encode_path", "to_string"] {
            assert!(!out.contains(gone), "`{gone}` left in {out}");
        }
        for present in [
            "icp_id . to_path_segment (\"icp_id\") . map_err (Error :: InvalidRequest) ?",
            "use crate :: support :: ToPathSegment as _ ;",
            "crate :: support :: json (response) . await",
            "crate :: support :: empty (response)",
            ". header (:: reqwest :: header :: ACCEPT",
        ] {
            assert!(out.contains(present), "`{present}` missing from {out}");
        }
    }

    #[test]
    fn a_send_with_other_headers_is_refused() {
        let mut file: syn::File = syn::parse_str(&send_source(
            r#"header_map.append("x-trace", trace.to_string().try_into()?);"#,
        ))
        .expect("valid Rust");
        let err = rewrite(&mut file)
            .expect_err("an unexpected shape")
            .to_string();
        assert!(
            err.contains("expected one `header_map.append` (api-version), found 2"),
            "{err}"
        );
    }

    #[test]
    fn a_path_parameter_in_another_form_is_refused() {
        let source = send_source("").replace(
            "encode_path(&icp_id.to_string())",
            "encode_path(icp_id.as_str())",
        );
        let mut file: syn::File = syn::parse_str(&source).expect("valid Rust");
        let err = rewrite(&mut file)
            .expect_err("an unexpected shape")
            .to_string();
        assert!(
            err.contains("is not `encode_path(&name.to_string())` of a variable `name`"),
            "{err}"
        );
    }

    #[test]
    fn a_path_parameter_that_is_not_a_variable_is_refused() {
        // The check names the parameter after the variable; an expression
        // has no name to give.
        for form in [
            "encode_path(&self.icp_id.to_string())",
            "encode_path(&icp_id.as_str().to_string())",
            "encode_path(&<T>::icp_id.to_string())",
        ] {
            let source = send_source("").replace("encode_path(&icp_id.to_string())", form);
            let mut file: syn::File = syn::parse_str(&source).expect("valid Rust");
            let err = rewrite(&mut file)
                .expect_err("an unexpected shape")
                .to_string();
            assert!(
                err.contains("of a variable `name`") && err.contains("encode_path"),
                "{form}: {err}"
            );
        }
    }

    #[test]
    fn each_path_parameter_is_checked_under_its_own_name() {
        let source = send_source("").replace(
            "format!(\"{}/v1/icp/{}\", client.baseurl, encode_path(&icp_id.to_string()),)",
            "format!(\"{}/v1/sheet/{}/entity/{}\", client.baseurl, \
             encode_path(&sheet_id.to_string()), encode_path(&r#type.to_string()),)",
        );
        let mut file: syn::File = syn::parse_str(&source).expect("valid Rust");
        let rewrites = rewrite(&mut file).expect("the expected shape");
        assert_eq!(rewrites.path_segments, 2);
        let out = file.to_token_stream().to_string();
        for present in [
            "sheet_id . to_path_segment (\"sheet_id\") . map_err (Error :: InvalidRequest) ?",
            "r#type . to_path_segment (\"type\") . map_err (Error :: InvalidRequest) ?",
        ] {
            assert!(out.contains(present), "`{present}` missing from {out}");
        }
    }

    #[test]
    fn a_client_without_send_methods_is_refused() {
        let mut file: syn::File = syn::parse_str("fn main() {}").expect("valid Rust");
        let err = rewrite(&mut file)
            .expect_err("nothing to rewrite")
            .to_string();
        assert!(err.contains("no `send` methods"), "{err}");
    }
}
