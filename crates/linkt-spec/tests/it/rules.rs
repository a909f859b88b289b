//! One snapshot per normalizer rule: a small 3.1 input (kept as the
//! snapshot's description) and the 3.0.3 output.

use crate::common::{check_document, check_schemas};

/// Rule 1: version, dialect, info, metadata keywords, empty webhooks,
/// missing `paths`.
#[test]
fn document_level() {
    check_document(
        "document_level",
        r#"
openapi: 3.1.1
jsonSchemaDialect: https://spec.openapis.org/oas/3.1/dialect/base
info:
  title: Linkt
  summary: Links, typed.
  description: The Linkt API.
  version: 1.2.3
  license: {name: Apache 2.0, identifier: Apache-2.0}
webhooks: {}
components:
  schemas:
    Thing:
      $schema: https://json-schema.org/draft/2020-12/schema
      $id: https://example.com/thing
      $comment: maintained by hand
      type: object
      properties: {id: {type: string}}
"#,
    );
}

/// Rule 1: `components.pathItems` references are inlined into `paths`,
/// sibling fields merged, and the component section removed.
#[test]
fn path_items_inlined() {
    check_document(
        "path_items_inlined",
        r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /health:
    $ref: "#/components/pathItems/Health"
    summary: Liveness
components:
  pathItems:
    Health:
      get:
        operationId: health
        responses:
          "200":
            description: ok
            content:
              application/json:
                schema: {type: [string, "null"]}
"##,
    );
}

/// Reference Objects outside schemas: a `description` override that
/// differs is applied to an inlined copy; one equal to the target's, or a
/// `summary` on a kind without one, is removed.
#[test]
fn reference_object_siblings() {
    check_document(
        "reference_object_siblings",
        r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /things:
    get:
      parameters:
        - $ref: "#/components/parameters/Limit"
          description: How many things.
        - $ref: "#/components/parameters/Cursor"
          description: Opaque cursor.
          summary: no effect on a parameter
      responses:
        "404":
          $ref: "#/components/responses/NotFound"
          description: No such thing.
components:
  parameters:
    Limit:
      name: limit
      in: query
      description: Page size.
      schema: {type: integer, exclusiveMinimum: 0}
    Cursor:
      name: cursor
      in: query
      description: Opaque cursor.
      schema: {anyOf: [{type: string}, {type: "null"}]}
  responses:
    NotFound:
      description: Not found.
"##,
    );
}

/// Rule 2: `anyOf`/`oneOf` with a null branch → `nullable: true`.
#[test]
fn nullable_branches() {
    check_schemas(
        "nullable_branches",
        r##"
OptionalString:
  anyOf: [{type: string, maxLength: 5}, {type: "null"}]
  title: Optional String
  default: null
OptionalRef:
  anyOf: [{$ref: "#/components/schemas/Thing"}, {type: "null"}]
  description: A thing, or nothing.
OptionalRefWithSiblings:
  anyOf: [{$ref: "#/components/schemas/Thing", description: inner}, {type: "null"}]
  title: Outer
OptionalUnion:
  anyOf: [{type: string}, {type: integer}, {type: "null"}]
  title: String Or Int
OptionalLiteral:
  anyOf: [{enum: [asc, desc], type: string}, {type: "null"}]
OptionalConst:
  oneOf: [{const: only, type: string}, {const: null}]
InnerTitleClashes:
  anyOf:
    - {type: object, title: Inner, properties: {a: {type: integer}}}
    - {type: "null"}
  title: Outer
ParentExcludesNull:
  type: string
  anyOf: [{minLength: 1}, {type: "null"}]
Thing:
  type: object
"##,
    );
}

/// Rule 2: type arrays.
#[test]
fn type_arrays() {
    check_schemas(
        "type_arrays",
        r#"
NullableString:
  type: [string, "null"]
  maxLength: 10
NullFirst:
  type: ["null", array]
  items: {type: integer}
Several:
  type: [integer, string, "null"]
  title: Id
  minimum: 1
  maxLength: 36
  format: uuid
  description: Numeric or uuid id.
Duplicate:
  type: [string, string]
"#,
    );
}

/// Rule 3: `const` → single-value `enum`, with an implied `type`.
#[test]
fn const_to_enum() {
    check_schemas(
        "const_to_enum",
        r#"
Typed: {type: string, const: cat, title: Pet Type}
Untyped: {const: 3}
Boolean: {const: true}
Float: {const: 1.5}
WithEnum: {type: string, enum: [a, b], const: a}
"#,
    );
}

/// Rule 4: schema `examples` array → `example`; media-type and parameter
/// `examples` maps stay.
#[test]
fn examples_to_example() {
    check_document(
        "examples_to_example",
        r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /search:
    get:
      parameters:
        - name: q
          in: query
          schema: {type: string, examples: [acme, globex]}
          examples:
            company: {value: acme, summary: a company}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Hit"}
              examples:
                one: {value: {name: acme}}
components:
  schemas:
    Hit:
      type: object
      properties:
        name: {type: string, examples: [acme]}
        both: {type: string, example: kept, examples: [dropped]}
        none: {type: string, examples: []}
"##,
    );
}

/// Rule 5: numeric exclusive bounds → 3.0 boolean form.
#[test]
fn exclusive_bounds() {
    check_schemas(
        "exclusive_bounds",
        r#"
Positive: {type: integer, exclusiveMinimum: 0}
Below: {type: number, exclusiveMaximum: 1.0}
ExclusiveStricter: {type: integer, minimum: 0, exclusiveMinimum: 5}
InclusiveStricter: {type: integer, minimum: 5, exclusiveMinimum: 0, exclusiveMaximum: 10, maximum: 9}
Already30: {type: integer, minimum: 0, exclusiveMinimum: true}
"#,
    );
}

/// Rule 6: `$ref` with siblings → `allOf: [{$ref}]` beside them.
#[test]
fn ref_siblings() {
    check_schemas(
        "ref_siblings",
        r##"
Holder:
  type: object
  properties:
    described: {$ref: "#/components/schemas/Thing", description: The thing.}
    defaulted: {$ref: "#/components/schemas/Mode", default: fast, title: Mode}
    withAllOf:
      $ref: "#/components/schemas/Thing"
      allOf: [{required: [id]}]
    bare: {$ref: "#/components/schemas/Thing"}
Thing:
  type: object
  properties: {id: {type: string}}
Mode:
  type: string
  enum: [fast, slow]
"##,
    );
}

/// Rule 7: content keywords → `format: binary` / `format: byte`.
#[test]
fn content_to_format() {
    check_schemas(
        "content_to_format",
        r#"
Upload:
  type: object
  properties:
    file: {type: string, contentMediaType: application/octet-stream, title: File}
    image: {type: string, contentMediaType: image/png}
    encoded: {type: string, contentEncoding: base64, contentMediaType: image/png}
    note: {type: string, contentMediaType: text/plain}
    already: {type: string, format: binary, contentMediaType: application/octet-stream}
    files:
      type: array
      items: {type: string, contentMediaType: application/octet-stream}
"#,
    );
}

/// Rule 8: discriminated unions keep `discriminator` after null lifting.
#[test]
fn discriminated_unions() {
    check_schemas(
        "discriminated_unions",
        r##"
Cat:
  type: object
  title: Cat
  required: [pet_type, meows]
  properties:
    pet_type: {type: string, const: cat, title: Pet Type}
    meows: {type: integer, title: Meows}
Dog:
  type: object
  title: Dog
  required: [pet_type]
  properties:
    pet_type: {const: dog, title: Pet Type}
    barks: {type: number, title: Barks, exclusiveMinimum: 0}
Owner:
  type: object
  properties:
    pet:
      oneOf: [{$ref: "#/components/schemas/Cat"}, {$ref: "#/components/schemas/Dog"}]
      title: Pet
      discriminator:
        propertyName: pet_type
        mapping: {cat: "#/components/schemas/Cat", dog: Dog}
    maybe_pet:
      anyOf:
        - oneOf: [{$ref: "#/components/schemas/Cat"}, {$ref: "#/components/schemas/Dog"}]
          discriminator:
            propertyName: pet_type
            mapping: {cat: "#/components/schemas/Cat", dog: "#/components/schemas/Dog"}
        - type: "null"
      title: Maybe Pet
      default: null
    single_with_discriminator:
      oneOf: [{$ref: "#/components/schemas/Cat"}, {type: "null"}]
      discriminator: {propertyName: pet_type}
"##,
    );
}

/// Boolean schemas, trivial `propertyNames`, and the pydantic shapes that
/// are already 3.0 (`additionalProperties: true`, `{}`).
#[test]
fn boolean_and_trivial_schemas() {
    check_schemas(
        "boolean_and_trivial_schemas",
        r#"
Anything: true
Nothing: false
Bag:
  type: object
  additionalProperties: true
  propertyNames: {type: string}
  properties:
    any: {}
    never: false
Closed:
  type: object
  additionalProperties: false
"#,
    );
}

/// Reference chains keep the nearest override along the way.
#[test]
fn reference_chains_keep_intermediate_fields() {
    let doc = crate::common::yaml(
        r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /a:
    $ref: "#/components/pathItems/Outer"
  /b:
    get:
      parameters:
        - {$ref: "#/components/parameters/Alias", description: Effective.}
        - {$ref: "#/components/parameters/Alias", description: Renamed.}
      responses: {"200": {description: ok}}
components:
  parameters:
    Alias: {$ref: "#/components/parameters/Base", description: Effective.}
    Base: {name: p, in: query, description: Base., schema: {type: string}}
  pathItems:
    Outer: {$ref: "#/components/pathItems/Inner", summary: From outer}
    Inner: {get: {responses: {"204": {description: none}}}}
"##,
    );
    let out = linkt_spec::normalize(doc).expect("normalizes");
    assert_eq!(
        out["paths"]["/a"],
        serde_json::json!({"get": {"responses": {"204": {"description": "none"}}}, "summary": "From outer"})
    );
    let parameters = &out["paths"]["/b"]["get"]["parameters"];
    assert_eq!(
        parameters[0],
        serde_json::json!({"$ref": "#/components/parameters/Alias"})
    );
    assert_eq!(
        parameters[1],
        serde_json::json!({"name": "p", "in": "query", "description": "Renamed.", "schema": {"type": "string"}})
    );
    assert_eq!(
        out["components"]["parameters"]["Alias"]["description"],
        "Effective."
    );
    assert!(out["components"].get("pathItems").is_none());
}
