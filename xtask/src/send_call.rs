//! The generated `send` methods, rewritten to go through `Client::call` and
//! return `linkt::Error`; integer setters, to take plain literals.
//!
//! Runs after [`crate::request_path`]. progenitor's `send` returns
//! `Result<ResponseValue<T>, progenitor_client::Error<()>>` and drives the
//! hooks itself (`pre`, `exec`, `post`), so an error knows nothing of the
//! call it came from, and a user must convert it before matching on it.
//! The rewrite, applied to every `send` of the parsed client:
//!
//! 1. **The error type is `linkt::Error`.** The return type becomes
//!    `Result<ResponseValue<T>, crate::Error>`.
//! 2. **The operation is known first.** progenitor's
//!    `let info = OperationInfo { .. };` moves to just after
//!    `let Self { .. } = self;`, so every error can name the operation.
//! 3. **Errors before sending carry the operation.** `Error::InvalidRequest`
//!    (a parameter, a path segment or a body that failed its conversion)
//!    becomes `crate::support::invalid_request(&info)`, and `.build()?`
//!    becomes `.build().map_err(crate::support::unbuilt(&info))?`.
//! 4. **One call does the rest.** progenitor's
//!    `client.pre(..)?; let result = client.exec(..); client.post(..)?;
//!    let response = result?;` becomes
//!    `let response = client.call(request, &info, expect).await?;`, where
//!    `expect` says what the 2xx arm decodes (`Expect::Json`, `Empty` or
//!    `Stream`, from the helper it calls): `Client::call`
//!    (in `crates/linkt/src/hooks.rs`) adds the key and headers, makes the
//!    attempts, reads a JSON body (within the client's limit, inside each
//!    attempt) and turns every failure (a status that is not
//!    2xx, a lost connection, a timeout, a body over the limit) into a
//!    `linkt::Error` with the operation and the number of attempts.
//! 5. **The URL is built on the parsed base URL.**
//!    `let url = format!("{}/v1/icp/{}", client.baseurl, seg);` becomes
//!    `let url = crate::support::endpoint(client, &info, format_args!("/v1/icp/{}", seg))?;`,
//!    which appends the path to the base URL the client parsed once, instead
//!    of formatting the whole URL for reqwest to parse on every call.
//! 6. **Only success remains to decode.** The final
//!    `match response.status().as_u16() { 200..=299 => decode, _ => Err(..) }`
//!    becomes `decode`: `call` returned a 2xx or an error.
//!
//! And, in the request builders, a setter whose value converts with
//! `TryInto<NonZeroU64>` (a `page` or `page_size` with a minimum of 1) takes
//! `crate::IntegerArg<NonZeroU64>` instead, which every integer type
//! implements, so `.page(2)` compiles as `.offset(2)` does. `0`, or a
//! negative value, is the same error at `send` as before.
//!
//! Each step checks the shape it expects and the rewrite fails, naming what
//! it found, when progenitor's output changes.

use anyhow::{Result, bail};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Stmt, Token, parse_quote};

/// What [`rewrite`] changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rewrites {
    /// `send` methods now returning `crate::Error` through `Client::call`.
    pub(crate) sends: usize,
    /// Errors before sending that now carry the operation.
    pub(crate) early_errors: usize,
    /// Setters that now take any integer type.
    pub(crate) integer_setters: usize,
}

/// Rewrites every `send` method and integer setter of the generated client.
pub(crate) fn rewrite(file: &mut syn::File) -> Result<Rewrites> {
    let mut visitor = Visitor::default();
    visitor.visit_file_mut(file);
    if let Some(problem) = visitor.problems.first() {
        bail!(
            "progenitor's `send` methods no longer have the expected shape ({} problem(s)); first: {problem}",
            visitor.problems.len()
        );
    }
    if visitor.rewrites.sends == 0 {
        bail!("the generated client has no `send` methods");
    }
    Ok(visitor.rewrites)
}

#[derive(Default)]
struct Visitor {
    rewrites: Rewrites,
    problems: Vec<String>,
}

impl VisitMut for Visitor {
    fn visit_impl_item_fn_mut(&mut self, item: &mut syn::ImplItemFn) {
        if item.sig.ident == "send" {
            match rewrite_send(item) {
                Ok(early_errors) => {
                    self.rewrites.sends += 1;
                    self.rewrites.early_errors += early_errors;
                }
                Err(problem) => self.problems.push(format!(
                    "{problem} (in `send` of `{}`)",
                    first_line(&item.block)
                )),
            }
            return;
        }
        match rewrite_integer_setter(item) {
            Ok(true) => self.rewrites.integer_setters += 1,
            Ok(false) => {}
            Err(problem) => self
                .problems
                .push(format!("{problem} (in setter `{}`)", item.sig.ident)),
        }
        visit_mut::visit_impl_item_fn_mut(self, item);
    }
}

/// Steps 1–5 on one `send`; returns how many early errors it rewrote.
fn rewrite_send(item: &mut syn::ImplItemFn) -> Result<usize, String> {
    replace_error_type(&mut item.sig)?;
    let stmts = &mut item.block.stmts;

    // 2. `let info = ...` right after `let Self { .. } = self;`.
    let destructures_self = stmts.first().is_some_and(|stmt| {
        matches!(stmt, Stmt::Local(local)
            if local.init.as_ref().is_some_and(|init| is_ident(&init.expr, "self")))
    });
    if !destructures_self {
        return Err("the first statement is not `let Self { .. } = self;`".to_owned());
    }
    let infos: Vec<usize> = stmts
        .iter()
        .enumerate()
        .filter(|(_, stmt)| matches!(stmt, Stmt::Local(local) if binds(local, "info")))
        .map(|(i, _)| i)
        .collect();
    let [info] = infos.as_slice() else {
        return Err(format!("expected one `let info`, found {}", infos.len()));
    };
    let info_stmt = stmts.remove(*info);
    if !tokens(&info_stmt).starts_with("let info = OperationInfo {") {
        return Err(format!(
            "`let info` is not an `OperationInfo`: {}",
            tokens(&info_stmt)
        ));
    }
    stmts.insert(1, info_stmt);

    // 6. The success arm is all that is left of the final match.
    let Some(Stmt::Expr(Expr::Match(last), None)) = stmts.last() else {
        return Err("the last statement is not a `match`".to_owned());
    };
    if tokens(&*last.expr) != "response . status () . as_u16 ()" {
        return Err(format!(
            "the final match is on `{}`, not the status",
            tokens(&*last.expr)
        ));
    }
    let [success, other] = last.arms.as_slice() else {
        return Err(format!(
            "the final match has {} arms, not a 2xx arm and a fallback",
            last.arms.len()
        ));
    };
    if tokens(&success.pat) != "200 ..= 299" {
        return Err(format!(
            "the first arm is `{}`, not `200..=299`",
            tokens(&success.pat)
        ));
    }
    if tokens(&other.pat) != "_"
        || tokens(&*other.body) != "Err (Error :: UnexpectedResponse (response))"
    {
        return Err(format!(
            "the fallback arm is `{} => {}`",
            tokens(&other.pat),
            tokens(&*other.body)
        ));
    }
    let decode = unblocked((*success.body).clone());
    let helper = tokens(&decode);
    let expect: Expr = match helper.as_str() {
        "crate :: support :: json (response) . await" => parse_quote!(crate::support::Expect::Json),
        "Ok (crate :: support :: empty (response))" => parse_quote!(crate::support::Expect::Empty),
        "Ok (crate :: support :: stream (response))" => {
            parse_quote!(crate::support::Expect::Stream)
        }
        _ => return Err(format!("the 2xx arm decodes with `{helper}`")),
    };
    if let Some(last) = stmts.last_mut() {
        *last = Stmt::Expr(decode, None);
    }

    // 4. The hooks' sequence becomes one call.
    const SEQUENCE: [&str; 4] = [
        "client . pre (& mut request , & info) . await ? ;",
        "let result = client . exec (request , & info) . await ;",
        "client . post (& result , & info) . await ? ;",
        "let response = result ? ;",
    ];
    let start = stmts
        .windows(SEQUENCE.len())
        .position(|window| {
            window
                .iter()
                .zip(SEQUENCE)
                .all(|(stmt, expected)| tokens(stmt) == expected)
        })
        .ok_or_else(|| format!("the hooks are not called as `{}`", SEQUENCE.join(" ")))?;
    stmts.splice(
        start..start + SEQUENCE.len(),
        [parse_quote!(let response = client.call(request, &info, #expect).await?;)],
    );

    // 5. The URL on the parsed base URL.
    endpoint(stmts)?;

    // 3. Errors before sending.
    let mut early = EarlyErrors::default();
    early.visit_block_mut(&mut item.block);
    if let Some(problem) = early.problems.first() {
        return Err(problem.clone());
    }
    let rendered = tokens(&item.block);
    for leftover in [
        "Error ::",
        "client . exec (",
        "client . pre (",
        "client . post (& result",
    ] {
        if rendered.contains(leftover) {
            return Err(format!("`{leftover}` is left after the rewrite"));
        }
    }
    Ok(early.rewritten)
}

/// Step 5: `let url = format!("{}/path", client.baseurl, args..);` →
/// `let url = crate::support::endpoint(client, &info, format_args!("/path", args..))?;`.
fn endpoint(stmts: &mut [Stmt]) -> Result<(), String> {
    let urls: Vec<&mut syn::Local> = stmts
        .iter_mut()
        .filter_map(|stmt| match stmt {
            Stmt::Local(local) if binds(local, "url") => Some(local),
            _ => None,
        })
        .collect();
    let [url] = urls
        .into_iter()
        .collect::<Vec<_>>()
        .try_into()
        .map_err(|found: Vec<_>| format!("expected one `let url`, found {}", found.len()))?;
    let Some(init) = &mut url.init else {
        return Err("`let url` has no value".to_owned());
    };
    let Expr::Macro(format) = &mut *init.expr else {
        return Err(format!(
            "`let url = {}` is not a `format!`",
            tokens(&*init.expr)
        ));
    };
    if !format.mac.path.is_ident("format") {
        return Err(format!(
            "`let url = {}` is not a `format!`",
            tokens(&format.mac)
        ));
    }
    let args = format
        .mac
        .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
        .map_err(|err| format!("the URL's `format!` does not parse: {err}"))?;
    let mut args = args.into_iter();
    let (Some(Expr::Lit(template)), Some(base)) = (args.next(), args.next()) else {
        return Err(
            "the URL's `format!` is not `format!(\"{}..\", client.baseurl, ..)`".to_owned(),
        );
    };
    let syn::Lit::Str(template) = &template.lit else {
        return Err("the URL's template is not a string".to_owned());
    };
    let Some(path) = template.value().strip_prefix("{}").map(str::to_owned) else {
        return Err(format!(
            "the URL's template `{}` does not start with the base URL",
            template.value()
        ));
    };
    if tokens(&base) != "client . baseurl" || !path.starts_with('/') {
        return Err(format!(
            "the URL is not `client.baseurl` followed by a path: `{}`, `{path}`",
            tokens(&base)
        ));
    }
    let path = syn::LitStr::new(&path, template.span());
    let rest: Vec<Expr> = args.collect();
    *init.expr = parse_quote!(crate::support::endpoint(
        client,
        &info,
        format_args!(#path #(, #rest)*)
    )?);
    Ok(())
}

/// `Result<ResponseValue<T>, Error<()>>` → `Result<ResponseValue<T>, crate::Error>`.
fn replace_error_type(sig: &mut syn::Signature) -> Result<(), String> {
    let syn::ReturnType::Type(_, output) = &mut sig.output else {
        return Err("`send` returns nothing".to_owned());
    };
    let syn::Type::Path(result) = &mut **output else {
        return Err(format!("`send` returns `{}`", tokens(&**output)));
    };
    let Some(last) = result.path.segments.last_mut() else {
        return Err("`send` returns an empty path".to_owned());
    };
    let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
        return Err(format!("`send` returns `{}`", tokens(&*result)));
    };
    if last.ident != "Result" || args.args.len() != 2 {
        return Err(format!("`send` returns `{}`", tokens(&*result)));
    }
    let Some(error) = args.args.last_mut() else {
        return Err("`send` returns a `Result` without an error type".to_owned());
    };
    if tokens(&*error) != "Error < () >" {
        return Err(format!(
            "`send`'s error type is `{}`, not `Error<()>`",
            tokens(&*error)
        ));
    }
    *error = parse_quote!(crate::Error);
    Ok(())
}

/// Step 3 over a `send` body, `format!` arguments included.
#[derive(Default)]
struct EarlyErrors {
    rewritten: usize,
    problems: Vec<String>,
}

impl VisitMut for EarlyErrors {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        visit_mut::visit_expr_mut(self, expr);
        if let Expr::Path(path) = expr
            && tokens(&*path) == "Error :: InvalidRequest"
        {
            *expr = parse_quote!(crate::support::invalid_request(&info));
            self.rewritten += 1;
            return;
        }
        if let Expr::Try(tried) = expr
            && let Expr::MethodCall(call) = &*tried.expr
            && call.method == "build"
            && call.args.is_empty()
        {
            let built = (*tried.expr).clone();
            *expr = parse_quote!(#built.map_err(crate::support::unbuilt(&info))?);
            self.rewritten += 1;
        }
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        visit_mut::visit_macro_mut(self, mac);
        if !mac.path.is_ident("format") && !mac.path.is_ident("format_args") {
            return;
        }
        let Ok(mut args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
        else {
            self.problems
                .push(format!("a `format!` that does not parse: {}", tokens(mac)));
            return;
        };
        for arg in args.iter_mut() {
            self.visit_expr_mut(arg);
        }
        mac.tokens = args.to_token_stream();
    }
}

/// `V: std::convert::TryInto<::std::num::NonZeroU64>` with
/// `value.try_into()` → `V: crate::IntegerArg<::std::num::NonZeroU64>` with
/// `value.into_integer()`. `Ok(false)` for any other method.
fn rewrite_integer_setter(item: &mut syn::ImplItemFn) -> Result<bool, String> {
    let Some(where_clause) = &mut item.sig.generics.where_clause else {
        return Ok(false);
    };
    let mut found = false;
    for predicate in &mut where_clause.predicates {
        let syn::WherePredicate::Type(bound) = predicate else {
            continue;
        };
        for trait_bound in &mut bound.bounds {
            let syn::TypeParamBound::Trait(trait_bound) = trait_bound else {
                continue;
            };
            if tokens(&trait_bound.path)
                == "std :: convert :: TryInto < :: std :: num :: NonZeroU64 >"
            {
                trait_bound.path = parse_quote!(crate::IntegerArg<::std::num::NonZeroU64>);
                found = true;
            }
        }
    }
    if !found {
        return Ok(false);
    }
    let mut calls = TryIntoCalls::default();
    calls.visit_block_mut(&mut item.block);
    if calls.replaced != 1 {
        return Err(format!(
            "expected one `value.try_into()`, found {}",
            calls.replaced
        ));
    }
    Ok(true)
}

/// Replaces `value.try_into()` with `value.into_integer()`.
#[derive(Default)]
struct TryIntoCalls {
    replaced: usize,
}

impl VisitMut for TryIntoCalls {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        visit_mut::visit_expr_method_call_mut(self, call);
        if call.method == "try_into" && call.args.is_empty() && is_ident(&call.receiver, "value") {
            call.method = parse_quote!(into_integer);
            self.replaced += 1;
        }
    }
}

/// The expression of a block that holds only it (progenitor writes an arm
/// as `{ expr }`), or the expression itself.
fn unblocked(expr: Expr) -> Expr {
    if let Expr::Block(block) = &expr
        && block.attrs.is_empty()
        && block.label.is_none()
        && let [Stmt::Expr(inner, None)] = block.block.stmts.as_slice()
    {
        return inner.clone();
    }
    expr
}

fn binds(local: &syn::Local, name: &str) -> bool {
    matches!(&local.pat, syn::Pat::Ident(ident) if ident.ident == name)
}

fn is_ident(expr: &Expr, name: &str) -> bool {
    matches!(expr, Expr::Path(path) if path.path.is_ident(name))
}

fn tokens(node: &impl ToTokens) -> String {
    node.to_token_stream().to_string()
}

/// The start of a block, to name it in an error.
fn first_line(block: &syn::Block) -> String {
    tokens(block).chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `send` as progenitor 0.15 gives it, after `request_path`.
    const SEND: &str = r#"
        impl<'a> IcpRetrieve<'a> {
            pub async fn send(self) -> Result<ResponseValue<types::IcpResponse>, Error<()>> {
                let Self { client, icp_id } = self;
                let icp_id = icp_id.map_err(Error::InvalidRequest)?;
                let url = format!("{}/v1/icp/{}", client.baseurl, icp_id.to_path_segment("icp_id").map_err(Error::InvalidRequest)?,);
                #[allow(unused_mut)]
                let mut request = client.client.get(url).build()?;
                let info = OperationInfo { operation_id: "icp_retrieve" };
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                let response = result?;
                match response.status().as_u16() {
                    200..=299 => { crate::support::json(response).await }
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        }
        impl<'a> IcpList<'a> {
            pub fn page<V>(mut self, value: V) -> Self
            where
                V: std::convert::TryInto<::std::num::NonZeroU64>,
            {
                self.page = value.try_into().map(Some).map_err(|_| "conversion failed".to_string());
                self
            }
            pub fn order<V>(mut self, value: V) -> Self
            where
                V: std::convert::TryInto<i64>,
            {
                self.order = value.try_into().map(Some).map_err(|_| "conversion failed".to_string());
                self
            }
        }
    "#;

    fn rewritten(source: &str) -> Result<(Rewrites, String)> {
        let mut file: syn::File = syn::parse_str(source).expect("valid Rust");
        let rewrites = rewrite(&mut file)?;
        Ok((rewrites, tokens(&file)))
    }

    #[test]
    fn a_send_returns_linkt_errors_through_one_call() {
        let (rewrites, out) = rewritten(SEND).expect("the expected shape");
        assert_eq!(
            rewrites,
            Rewrites {
                sends: 1,
                early_errors: 3,
                integer_setters: 1
            }
        );
        for present in [
            "-> Result < ResponseValue < types :: IcpResponse > , crate :: Error >",
            "let Self { client , icp_id } = self ; let info = OperationInfo { operation_id : \"icp_retrieve\" } ;",
            "icp_id . map_err (crate :: support :: invalid_request (& info)) ?",
            "to_path_segment (\"icp_id\") . map_err (crate :: support :: invalid_request (& info)) ?",
            ". build () . map_err (crate :: support :: unbuilt (& info)) ?",
            "let url = crate :: support :: endpoint (client , & info , format_args ! (\"/v1/icp/{}\" , icp_id . to_path_segment (\"icp_id\") . map_err (crate :: support :: invalid_request (& info)) ?)) ? ;",
            "let response = client . call (request , & info , crate :: support :: Expect :: Json) . await ? ; crate :: support :: json (response) . await }",
            "V : crate :: IntegerArg < :: std :: num :: NonZeroU64 >",
            "value . into_integer ()",
            "V : std :: convert :: TryInto < i64 >",
        ] {
            assert!(out.contains(present), "`{present}` missing from {out}");
        }
        for gone in [
            "Error ::",
            "client . exec",
            "client . pre",
            "match",
            "Error < () >",
        ] {
            assert!(!out.contains(gone), "`{gone}` left in {out}");
        }
    }

    #[test]
    fn each_departure_from_the_shape_is_named() {
        let cases = [
            (
                "Error<()>>",
                "Error<types::Problem>>",
                "error type is `Error < types :: Problem >`",
            ),
            (
                "let info = OperationInfo { operation_id: \"icp_retrieve\" };",
                "",
                "expected one `let info`, found 0",
            ),
            (
                "client.post(&result, &info).await?;",
                "",
                "the hooks are not called as",
            ),
            (
                "_ => Err(Error::UnexpectedResponse(response)),",
                "404 => Err(Error::UnexpectedResponse(response)), _ => Err(Error::UnexpectedResponse(response)),",
                "3 arms",
            ),
            ("200..=299 =>", "200u16 =>", "the first arm is `200u16`"),
            (
                "crate::support::json(response).await",
                "ResponseValue::upgrade(response).await",
                "the 2xx arm decodes with",
            ),
            (
                "let url =",
                "let other = Error::Custom(String::new()); let url =",
                "`Error ::` is left",
            ),
            (
                "format!(\"{}/v1/icp/{}\", client.baseurl,",
                "format!(\"https://api.linkt.ai/v1/icp/{}\",",
                "does not start with the base URL",
            ),
            (
                "self.page = value.try_into()",
                "self.page = value.clone().try_into()",
                "expected one `value.try_into()`, found 0",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(SEND.contains(from), "{from}");
            let err = rewritten(&SEND.replacen(from, to, 1))
                .expect_err(expected)
                .to_string();
            assert!(err.contains(expected), "{from} → {to}: {err}");
        }
    }

    #[test]
    fn a_client_without_send_methods_is_refused() {
        let err = rewritten("fn main() {}").expect_err("nothing to rewrite");
        assert!(err.to_string().contains("no `send` methods"), "{err}");
    }
}
