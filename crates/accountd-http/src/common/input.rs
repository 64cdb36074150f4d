//! Input every dialect refuses at the edge, before a handler or the database sees it: a body over
//! the size limit, and control characters (rules in `accountd_core::text`) in a path segment, a
//! query parameter, or anywhere in a JSON or form body. The checks live here once; each dialect
//! says how it answers them by implementing [`EdgeError`] for its error type, and its extractors
//! and router layer call these checks.

use std::marker::PhantomData;

use accountd_core::text::Chars;
use axum::body::Bytes;
use axum::extract::{FromRequest, MatchedPath, Request};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

use crate::AppState;

/// Where a control character was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A path segment: the route's parameter name (`id`), or the segment itself when the route
    /// has no parameter there.
    Path(String),
    /// A query parameter (its name, or the name that carries one).
    Query(String),
    /// The body: the keys and indexes down to the value or key (empty for the body itself).
    Body(Vec<String>),
}

/// Input refused for a control character (or a path segment that is not UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub Place);

impl Refused {
    /// A JSON Pointer to the place: `/email`, `/user_metadata/note`, `/id` for a path parameter.
    pub fn pointer(&self) -> String {
        match &self.0 {
            Place::Path(name) | Place::Query(name) => format!("/{}", escape_pointer(name)),
            Place::Body(path) => path.iter().map(|p| format!("/{}", escape_pointer(p))).collect(),
        }
    }

    /// The place as a property name: `email`, `user_metadata.note`, `id`.
    pub fn property(&self) -> String {
        match &self.0 {
            Place::Path(name) | Place::Query(name) => name.clone(),
            Place::Body(path) if path.is_empty() => "body".into(),
            Place::Body(path) => path.join("."),
        }
    }
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// How a dialect answers input refused at the edge, in its own error format.
pub trait EdgeError: Sized {
    /// The body is larger than `limit` bytes (413).
    fn too_large(limit: usize) -> Self;
    /// The body could not be read (the client went away or sent a broken stream).
    fn unreadable() -> Self;
    /// A control character where none may be (400).
    fn refused(r: &Refused) -> Self;
    /// The answer.
    fn respond(self) -> Response;
}

/// The first path segment or query parameter of `uri` with a control character, or a path
/// segment that does not decode to UTF-8. `route` (the matched route, `/api/v2/users/{id}`) names
/// the parameter.
pub fn refused_in_uri(uri: &Uri, route: Option<&str>) -> Option<Refused> {
    let mut template = route.map(|r| r.split('/'));
    for segment in uri.path().split('/') {
        let param = template.as_mut().and_then(Iterator::next);
        let ok =
            percent_encoding::percent_decode_str(segment).decode_utf8().is_ok_and(|s| Chars::Identifier.allow_all(&s));
        if !ok {
            let name = match param {
                Some(p) if p.starts_with('{') => p.trim_matches(['{', '}', '*']).to_string(),
                _ => segment.to_string(),
            };
            return Some(Refused(Place::Path(name)));
        }
    }
    let query = uri.query().unwrap_or("");
    if query.is_empty() {
        return None;
    }
    // A query that does not parse is left to the route's own extractor to refuse.
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query).ok()?;
    pairs
        .iter()
        .find(|(k, v)| !Chars::Identifier.allow_all(k) || !Chars::Identifier.allow_all(v))
        .map(|(k, _)| Refused(Place::Query(k.chars().filter(|c| !c.is_control()).collect())))
}

/// The first key or string in `v` with a control character: keys are identifiers, strings are
/// free text.
pub fn refused_in_json(v: &Value) -> Option<Refused> {
    let mut path = vec![];
    walk(v, &mut path).then_some(Refused(Place::Body(path)))
}

/// [`refused_in_json`] of an object body.
pub fn refused_in_object(map: &serde_json::Map<String, Value>) -> Option<Refused> {
    let mut path = vec![];
    walk_object(map, &mut path).then_some(Refused(Place::Body(path)))
}

/// Whether `v` has a refused character; `path` then leads to it.
fn walk(v: &Value, path: &mut Vec<String>) -> bool {
    match v {
        Value::String(s) => !Chars::Text.allow_all(s),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            path.push(i.to_string());
            let found = walk(item, path);
            if !found {
                path.pop();
            }
            found
        }),
        Value::Object(map) => walk_object(map, path),
        _ => false,
    }
}

fn walk_object(map: &serde_json::Map<String, Value>, path: &mut Vec<String>) -> bool {
    map.iter().any(|(k, item)| {
        path.push(k.chars().filter(|c| !c.is_control()).collect());
        let found = !Chars::Identifier.allow_all(k) || walk(item, path);
        if !found {
            path.pop();
        }
        found
    })
}

/// The first field of a form body whose name or value has a control character (names are
/// identifiers, values free text).
pub fn refused_in_form(pairs: &[(String, String)]) -> Option<Refused> {
    pairs
        .iter()
        .find(|(k, v)| !Chars::Identifier.allow_all(k) || !Chars::Text.allow_all(v))
        .map(|(k, _)| Refused(Place::Body(vec![k.chars().filter(|c| !c.is_control()).collect()])))
}

/// The kinds of body the checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json` (or `+json`).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// Checks a body that already parsed as `kind`. A body that does not parse is not refused
/// here: the caller's parser reports it.
pub fn refused_in_body(kind: BodyKind, body: &[u8]) -> Option<Refused> {
    match kind {
        BodyKind::Json => serde_json::from_slice::<Value>(body).ok().and_then(|v| refused_in_json(&v)),
        BodyKind::Form => {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).ok().and_then(|p| refused_in_form(&p))
        }
    }
}

/// Reads the whole body within the configured limit (`HttpConfig::max_body_bytes`, installed as
/// axum's `DefaultBodyLimit`), answering the dialect's 413 beyond it.
pub async fn read_body<E: EdgeError>(req: Request, state: &AppState) -> Result<Bytes, E> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            E::too_large(state.config.max_body_bytes)
        } else {
            E::unreadable()
        }
    })
}

/// The raw body, read within the limit; refused in `E`'s format. For handlers that parse bodies
/// themselves (they then call [`refused_in_body`]).
pub struct RawBody<E> {
    /// The bytes.
    pub bytes: Bytes,
    _dialect: PhantomData<E>,
}

/// A rejection already rendered in a dialect's format.
pub struct Rendered(pub Response);

impl axum::response::IntoResponse for Rendered {
    fn into_response(self) -> Response {
        self.0
    }
}

impl<E: EdgeError> FromRequest<AppState> for RawBody<E> {
    type Rejection = Rendered;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = read_body::<E>(req, state).await.map_err(|e| Rendered(e.respond()))?;
        Ok(RawBody { bytes, _dialect: PhantomData })
    }
}

/// Router layer: refuses a request whose path or query carries a control character, in `E`'s
/// format, before routing reaches a handler.
pub async fn screen_uri<E: EdgeError>(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    match refused_in_uri(req.uri(), route.as_deref()) {
        Some(r) => E::refused(&r).respond(),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uris_name_the_parameter_that_carries_a_control_character() {
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        let route = Some("/api/v2/users/{id}/roles");
        assert_eq!(refused_in_uri(&uri("/api/v2/users/auth0%7C1/roles?page=1"), route), None);
        assert_eq!(refused_in_uri(&uri("/api/v2/users/a%00b/roles"), route), Some(Refused(Place::Path("id".into()))));
        assert_eq!(refused_in_uri(&uri("/api/v2/users/%FF/roles"), route), Some(Refused(Place::Path("id".into()))));
        assert_eq!(
            refused_in_uri(&uri("/api/v2/users?q=email%3A%22a%00b%22"), Some("/api/v2/users")),
            Some(Refused(Place::Query("q".into())))
        );
        // Line breaks are not for identifiers either; `+` is a space, which is fine.
        assert_eq!(refused_in_uri(&uri("/x?a=1%0A"), None), Some(Refused(Place::Query("a".into()))));
        assert_eq!(refused_in_uri(&uri("/x?a=b+c"), None), None);
    }

    #[test]
    fn json_bodies_point_at_the_value_or_key() {
        assert_eq!(refused_in_json(&json!({"name": "Ada\nLovelace\t", "n": 1})), None);
        let r = refused_in_json(&json!({"user_metadata": {"notes": ["ok", "bad\u{0}"]}})).unwrap();
        assert_eq!((r.pointer(), r.property()), ("/user_metadata/notes/1".into(), "user_metadata.notes.1".into()));
        let r = refused_in_json(&json!({"a/b": {"k\u{0}": 1}})).unwrap();
        assert_eq!(r.pointer(), "/a~1b/k");
        assert_eq!(refused_in_json(&json!("\u{1b}")).unwrap().pointer(), "");
    }

    #[test]
    fn form_bodies_name_the_field() {
        assert_eq!(refused_in_body(BodyKind::Form, b"a=1&b=line%0Abreak"), None);
        assert_eq!(
            refused_in_body(BodyKind::Form, b"grant_type=x&client_id=a%00b"),
            Some(Refused(Place::Body(vec!["client_id".into()])))
        );
        assert_eq!(refused_in_body(BodyKind::Json, b"{\"client_id\": \"a\\u0000b\"}").unwrap().property(), "client_id");
        assert_eq!(refused_in_body(BodyKind::Json, b"not json"), None);
    }
}
