//! The hosted pages: sign-in, errors, and the response pages of `form_post` and `web_message`.
//! Server-rendered HTML that works without JavaScript (except `web_message`, which is JavaScript).
//!
//! Every page's Content-Security-Policy lets its forms go to this origin only, plus, on a page whose
//! form is answered with a redirect to the client (sign-in, second factor, consent), the origin of
//! the request's validated `redirect_uri`: browsers apply `form-action` to the redirects that
//! follow a form submission too.

use accountd_core::origin::{Origin, Scheme};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The CSP source that lets a form's answer reach `redirect_uri`: its origin (`scheme://host[:port]`,
/// checked as a host name or IP literal, so nothing else can slip into the header). CSP host sources
/// cannot name an IPv6 literal (an RFC 8252 loopback `http://[::1]:port/…` callback), so those get
/// their scheme alone.
pub fn callback_source(redirect_uri: &str) -> Option<String> {
    let (scheme, rest) = redirect_uri.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        _ => return None,
    };
    let origin = Origin::new(scheme, rest.split(['/', '?', '#']).next()?).ok()?;
    if origin.host().starts_with('[') {
        return Some(format!("{}:", scheme.as_str()));
    }
    Some(origin.base_url())
}

/// The hosted pages' CSP: their own script, inline styles, no framing, and forms that go to this
/// origin or, when given, on to the client's `callback`.
fn page_csp(callback: Option<&str>) -> HeaderValue {
    let extra = callback.and_then(callback_source).map(|s| format!(" {s}")).unwrap_or_default();
    let csp = format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
         form-action 'self'{extra}; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&csp).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
             form-action 'self'; frame-ancestors 'none'",
        )
    })
}

/// A hosted page. `callback` is the `redirect_uri` its forms' answers may redirect to, if any.
pub(super) fn page(status: StatusCode, title: &str, body: &str, callback: Option<&str>) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{}</title><link rel=\"stylesheet\" href=\"/u/assets/accountd.css\"></head>\
         <body><main>{body}</main></body></html>",
        esc(title)
    );
    let mut r = (status, Html(html)).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(header::CONTENT_SECURITY_POLICY, page_csp(callback));
    r
}

/// The sign-in form. `flow` is the sealed authorization request, which also carries the CSRF
/// binding to this browser's cookie. With sign-up allowed, a second button creates the account.
/// `callback` is the request's `redirect_uri`, where a successful sign-in is redirected.
/// `upstreams` are the tenant's "Continue with …" connections, as (name, label).
pub fn sign_in(
    app_name: &str,
    flow: &str,
    identifier: &str,
    error: Option<&str>,
    signup: bool,
    callback: &str,
    upstreams: &[(String, String)],
) -> Response {
    let err = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    // Links, not forms: the answer redirects to the provider, which the page's `form-action`
    // would refuse after a form submission. The sealed `flow` still binds it to this browser.
    let upstream_forms: String = upstreams
        .iter()
        .map(|(name, label)| {
            let query =
                serde_urlencoded::to_string([("connection", name.as_str()), ("flow", flow)]).unwrap_or_default();
            format!(
                "<a class=\"upstream\" href=\"/u/upstream?{}\">\
                 Continue with {}</a>",
                esc(&query),
                esc(label)
            )
        })
        .collect();
    let status = if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    page(
        status,
        "Sign in",
        &format!(
            "<h1>Sign in</h1><p class=\"sub\">to continue to {app}</p>{err}\
             <form method=\"post\" action=\"/u/login\">\
             <input type=\"hidden\" name=\"flow\" value=\"{flow}\">\
             <label for=\"identifier\">Email</label>\
             <input id=\"identifier\" name=\"identifier\" type=\"email\" autocomplete=\"username webauthn\" required value=\"{id}\" autofocus>\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">Continue</button>{signup}</form>\
             <form id=\"passkey-form\" method=\"post\" action=\"/u/passkey/login\">\
             <input type=\"hidden\" name=\"flow\" value=\"{flow}\">\
             <input type=\"hidden\" name=\"token\"><input type=\"hidden\" name=\"assertion\">\
             <button type=\"button\" id=\"passkey-button\" \
             class=\"secondary\">Sign in with a passkey</button></form>\
             {upstream_forms}<script src=\"/u/assets/accountd.js\"></script>",
            signup = if signup {
                "<button type=\"submit\" formaction=\"/u/signup\" \
                 class=\"secondary\">Create an account</button>"
            } else {
                ""
            },
            app = esc(app_name),
            flow = esc(flow),
            id = esc(identifier),
        ),
        Some(callback),
    )
}

/// The consent page for a third-party application: what it asks for, Allow or Deny; both answers
/// redirect to `callback`.
pub fn consent(app_name: &str, flow: &str, scopes: &[(String, String)], callback: &str) -> Response {
    let items: String = if scopes.is_empty() {
        "<li>Confirm that you signed in</li>".into()
    } else {
        scopes.iter().map(|(s, d)| format!("<li><strong>{}</strong> — {}</li>", esc(s), esc(d))).collect()
    };
    page(
        StatusCode::OK,
        "Authorize application",
        &format!(
            "<h1>Authorize {app}</h1><p class=\"sub\">{app} is asking to:</p><ul>{items}</ul>\
             <form method=\"post\" action=\"/u/consent\"><input type=\"hidden\" name=\"flow\" value=\"{flow}\">\
             <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\" \
             class=\"secondary\">Deny</button></form>",
            app = esc(app_name),
            flow = esc(flow),
        ),
        Some(callback),
    )
}

/// An error that cannot be sent back to the client (unknown client, unregistered redirect URI).
pub fn error(status: StatusCode, error: &str, description: &str) -> Response {
    page(
        status,
        "Something went wrong",
        &format!(
            "<h1>Something went wrong</h1><p class=\"error\"><strong>{}</strong>: {}</p>",
            esc(error),
            esc(description)
        ),
        None,
    )
}

/// A plain message page.
pub fn message(title: &str, text: &str) -> Response {
    page(StatusCode::OK, title, &format!("<h1>{}</h1><p class=\"sub\">{}</p>", esc(title), esc(text)), None)
}

/// The `form_post` page's only script, allowed by its hash (no inline event handler: a CSP with a
/// hash does not allow those).
const FORM_POST_SCRIPT: &str = "document.forms[0].submit()";
/// `'sha256-…'` of [`FORM_POST_SCRIPT`] (a unit test checks it).
const FORM_POST_SCRIPT_HASH: &str = "'sha256-ePniVEkSivX/c7XWBGafqh8tSpiRrKiqYeqbG7N1TOE='";

/// `response_mode=form_post`: a form that posts the response to the redirect URI. Its CSP allows
/// nothing but its one script and that form's target, and no framing.
pub fn form_post(redirect_uri: &str, params: &[(&str, String)]) -> Response {
    let inputs: String = params
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v)))
        .collect();
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Submit</title></head>\
         <body><form method=\"post\" action=\"{}\">{inputs}\
         <noscript><button type=\"submit\">Continue</button></noscript></form>\
         <script>{FORM_POST_SCRIPT}</script></body></html>",
        esc(redirect_uri)
    );
    let target = callback_source(redirect_uri).unwrap_or_else(|| "'none'".into());
    let csp = format!(
        "default-src 'none'; script-src {FORM_POST_SCRIPT_HASH}; form-action {target}; frame-ancestors 'none'; \
         base-uri 'none'"
    );
    let mut r = Html(html).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
    );
    r
}

/// `response_mode=web_message`: posts `{type: "authorization_response", response}` to the opener
/// (popup) or parent (silent iframe), only to `target_origin` (spec auth0 §9).
pub fn web_message(target_origin: &str, response: &serde_json::Value) -> Response {
    let payload = serde_json::json!({"type": "authorization_response", "response": response});
    // JSON inside a script: escape `<` so the payload cannot close the script element.
    let data = payload.to_string().replace('<', "\\u003c");
    let origin = serde_json::Value::String(target_origin.to_string()).to_string().replace('<', "\\u003c");
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorization response</title></head><body>\
         <script>(function(){{var t=window.opener||window.parent;t.postMessage({data},{origin});}})();</script>\
         </body></html>"
    );
    let mut r = Html(html).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// What the hosted pages answer for input refused at the edge: an error page.
pub struct PageError(Response);

impl crate::common::input::EdgeError for PageError {
    fn too_large(_: usize) -> Self {
        PageError(error(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "The form is too large."))
    }

    fn unreadable() -> Self {
        PageError(error(StatusCode::BAD_REQUEST, "invalid_request", "The form could not be read."))
    }

    fn refused(_: &crate::common::input::Refused) -> Self {
        PageError(error(StatusCode::BAD_REQUEST, "invalid_request", REFUSED))
    }

    fn respond(self) -> Response {
        self.0
    }
}

const REFUSED: &str = "The request contains characters that cannot be used. Go back and try again.";

/// A hosted page's form (`application/x-www-form-urlencoded`), read within the body limit; no
/// field may carry a control character.
pub struct PageForm<T>(pub T);

/// Why a [`PageForm`] was refused. A form that parsed but carries a control character comes
/// back whole, for handlers that show their own page again (the sign-in form); as a response it
/// is a generic error page.
pub enum PageFormRejection<T> {
    /// Not a form, too large, or without the fields `T` needs: the answer.
    Page(Response),
    /// The form, with a control character in a field.
    Refused(T),
}

impl<T> IntoResponse for PageFormRejection<T> {
    fn into_response(self) -> Response {
        match self {
            PageFormRejection::Page(r) => r,
            PageFormRejection::Refused(_) => error(StatusCode::BAD_REQUEST, "invalid_request", REFUSED),
        }
    }
}

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<crate::AppState> for PageForm<T> {
    type Rejection = PageFormRejection<T>;

    async fn from_request(req: axum::extract::Request, state: &crate::AppState) -> Result<Self, Self::Rejection> {
        use crate::common::input::{self, EdgeError};
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(FORM));
        if !is_form {
            let msg = "The form must be sent as application/x-www-form-urlencoded.";
            return Err(PageFormRejection::Page(error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", msg)));
        }
        let bytes =
            input::read_body::<PageError>(req, state).await.map_err(|e| PageFormRejection::Page(e.respond()))?;
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|_| {
            let msg = "The form is incomplete. Go back to the application and try again.";
            PageFormRejection::Page(error(StatusCode::BAD_REQUEST, "invalid_request", msg))
        })?;
        match input::refused_in_body(input::BodyKind::Form, &bytes) {
            Some(_) => Err(PageFormRejection::Refused(form)),
            None => Ok(PageForm(form)),
        }
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn the_form_post_scripts_hash_is_its_sha256() {
        let hex = accountd_core::secret::hash_high_entropy_secret(FORM_POST_SCRIPT);
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(FORM_POST_SCRIPT_HASH, format!("'sha256-{b64}'"));
    }

    #[test]
    fn a_callbacks_source_is_its_origin() {
        assert_eq!(callback_source("http://localhost:3000/callback").as_deref(), Some("http://localhost:3000"));
        assert_eq!(callback_source("https://App.Example.com/cb?x=1").as_deref(), Some("https://app.example.com"));
        assert_eq!(callback_source("http://127.0.0.1:49152").as_deref(), Some("http://127.0.0.1:49152"));
        assert_eq!(callback_source("http://[::1]:8080/cb").as_deref(), Some("http:"));
        assert_eq!(callback_source("https://a.test;script-src *").as_deref(), None);
        assert_eq!(callback_source("javascript:alert(1)"), None);
    }
}
