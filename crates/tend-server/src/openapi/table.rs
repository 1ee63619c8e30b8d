//! What one route says about itself: [`Route`], built with a few chained calls so the table in
//! `routes.rs` reads one route per paragraph. The schemas are named by Rust type and generated
//! from it; nothing here is hand-written JSON.

use schemars::{JsonSchema, Schema, SchemaGenerator};

/// Generates the schema of one Rust type (a `$ref` to its component, as a rule).
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub(crate) fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// Where a route is mounted: under the API's `/api/v1` (the document's server), or at the
/// root beside it (`/health`, `/ready`, `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mount {
    Api,
    Root,
}

/// An HTTP method, as the router table spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Delete => "delete",
        }
    }
}

/// What an answer carries.
#[derive(Clone, Copy)]
pub(crate) enum Content {
    /// `application/json` of this type (serialising contract).
    Json(SchemaFn),
    /// `text/plain` with this media type.
    Text(&'static str),
    /// This JSON type, or `application/octet-stream` bytes (`output?format=text`).
    JsonOrBytes(SchemaFn),
    /// No body: the `101` of a WebSocket handshake.
    Upgrade,
}

/// One answer: status, what it means, what it carries.
#[derive(Clone, Copy)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) description: &'static str,
    pub(crate) content: Content,
}

/// An error answer: status and when it happens. Its body is always the API's error body
/// (`{"error": {"code", "message"}}`) unless the route says otherwise.
pub(crate) type Failure = (u16, &'static str);

/// A path parameter: name and description (always a non-empty string).
pub(crate) type PathParam = (&'static str, &'static str);

/// A query parameter no request type holds.
#[derive(Clone)]
pub(crate) struct QueryParam {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) required: bool,
    pub(crate) schema: serde_json::Value,
}

/// One route of the router table, as the OpenAPI document describes it.
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) mount: Mount,
    pub(crate) method: Method,
    /// As written in the router table (`/processes/{id}/signal`).
    pub(crate) path: &'static str,
    pub(crate) operation_id: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) description: Option<&'static str>,
    /// `false` for the routes open without a token (`/hello`, and those outside `/api`).
    pub(crate) token: bool,
    pub(crate) path_params: Vec<PathParam>,
    /// A request type whose fields are the query parameters (the path's keys left out), and
    /// which of them the route reads (`None`: all).
    pub(crate) query: Option<(SchemaFn, Option<&'static [&'static str]>)>,
    /// Query parameters no type holds, such as `format` on `output`.
    pub(crate) extra_query: Vec<QueryParam>,
    /// The JSON body's type (the path's keys left out), and whether a body is required.
    pub(crate) body: Option<(SchemaFn, bool)>,
    /// Other media types the body may be sent as, as text (`application/toml`).
    pub(crate) text_bodies: Vec<&'static str>,
    pub(crate) answers: Vec<Answer>,
    pub(crate) failures: Vec<Failure>,
    /// Extensions (`x-…`) of the operation: (key, a type whose schema is referenced).
    pub(crate) extensions: Vec<(&'static str, SchemaFn)>,
}

impl Route {
    fn new(
        method: Method,
        path: &'static str,
        operation_id: &'static str,
        summary: &'static str,
    ) -> Self {
        Route {
            mount: Mount::Api,
            method,
            path,
            operation_id,
            summary,
            description: None,
            token: true,
            path_params: Vec::new(),
            query: None,
            extra_query: Vec::new(),
            body: None,
            text_bodies: Vec::new(),
            answers: Vec::new(),
            failures: Vec::new(),
            extensions: Vec::new(),
        }
    }

    pub(crate) fn get(
        path: &'static str,
        operation_id: &'static str,
        summary: &'static str,
    ) -> Self {
        Self::new(Method::Get, path, operation_id, summary)
    }

    pub(crate) fn post(
        path: &'static str,
        operation_id: &'static str,
        summary: &'static str,
    ) -> Self {
        Self::new(Method::Post, path, operation_id, summary)
    }

    pub(crate) fn delete(
        path: &'static str,
        operation_id: &'static str,
        summary: &'static str,
    ) -> Self {
        Self::new(Method::Delete, path, operation_id, summary)
    }

    /// Mounted at the root, outside `/api/v1`, and open without a token.
    pub(crate) fn at_root(mut self) -> Self {
        self.mount = Mount::Root;
        self.token = false;
        self
    }

    /// Open without a token.
    pub(crate) fn open(mut self) -> Self {
        self.token = false;
        self
    }

    pub(crate) fn describe(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }

    pub(crate) fn path_param(mut self, name: &'static str, description: &'static str) -> Self {
        self.path_params.push((name, description));
        self
    }

    /// The fields of `T` are the query parameters.
    pub(crate) fn query<T: JsonSchema>(mut self) -> Self {
        self.query = Some((schema_of::<T>, None));
        self
    }

    /// These fields of `T` are the query parameters.
    pub(crate) fn query_fields<T: JsonSchema>(mut self, fields: &'static [&'static str]) -> Self {
        self.query = Some((schema_of::<T>, Some(fields)));
        self
    }

    /// An optional query parameter no request type holds.
    pub(crate) fn query_param(
        mut self,
        name: &'static str,
        description: &'static str,
        schema: serde_json::Value,
    ) -> Self {
        self.extra_query.push(QueryParam { name, description, required: false, schema });
        self
    }

    /// A required query parameter no request type holds.
    pub(crate) fn required_query_param(
        mut self,
        name: &'static str,
        description: &'static str,
        schema: serde_json::Value,
    ) -> Self {
        self.extra_query.push(QueryParam { name, description, required: true, schema });
        self
    }

    /// A required JSON body of type `T`.
    pub(crate) fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Some((schema_of::<T>, true));
        self
    }

    /// An optional JSON body of type `T` (an empty body reads as `{}`).
    pub(crate) fn optional_body<T: JsonSchema>(mut self) -> Self {
        self.body = Some((schema_of::<T>, false));
        self
    }

    /// The body may also be text of the media type `media`.
    pub(crate) fn text_body(mut self, media: &'static str) -> Self {
        self.text_bodies.push(media);
        self
    }

    /// A JSON answer of type `T`.
    pub(crate) fn answer<T: JsonSchema>(mut self, status: u16, description: &'static str) -> Self {
        self.answers.push(Answer { status, description, content: Content::Json(schema_of::<T>) });
        self
    }

    /// An answer of another kind.
    pub(crate) fn answer_with(
        mut self,
        status: u16,
        description: &'static str,
        content: Content,
    ) -> Self {
        self.answers.push(Answer { status, description, content });
        self
    }

    /// A JSON answer of type `T`, or raw bytes.
    pub(crate) fn json_or_bytes<T: JsonSchema>(
        self,
        status: u16,
        description: &'static str,
    ) -> Self {
        self.answer_with(status, description, Content::JsonOrBytes(schema_of::<T>))
    }

    pub(crate) fn fails(mut self, failures: &[Failure]) -> Self {
        self.failures.extend_from_slice(failures);
        self
    }

    /// An `x-…` extension referencing the schema of `T`.
    pub(crate) fn extension<T: JsonSchema>(mut self, key: &'static str) -> Self {
        self.extensions.push((key, schema_of::<T>));
        self
    }
}
