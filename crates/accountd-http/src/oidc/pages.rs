//! The hosted pages: sign-in, errors, and the response pages of `form_post` and `web_message`.
//! Server-rendered HTML that works without JavaScript (except `web_message`, which is JavaScript).

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

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f5f7;margin:0;\
display:flex;min-height:100vh;align-items:center;justify-content:center;color:#1f2328}\
main{background:#fff;padding:2.5rem;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);width:100%;max-width:22rem}\
h1{font-size:1.35rem;margin:0 0 .35rem}p.sub{margin:0 0 1.5rem;color:#59636e}\
label{display:block;font-size:.9rem;margin:1rem 0 .35rem;font-weight:600}\
input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:.65rem .75rem;\
border:1px solid #d0d7de;border-radius:6px;font-size:1rem}\
button{margin-top:1.5rem;width:100%;padding:.7rem;border:0;border-radius:6px;background:#3451b2;color:#fff;\
font-size:1rem;cursor:pointer}button:hover{background:#2a4199}\
.error{background:#fff1f0;border:1px solid #ffccc7;color:#a8071a;padding:.6rem .75rem;border-radius:6px;font-size:.9rem}";

pub(super) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        esc(title)
    );
    let mut r = (status, Html(html)).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action *; \
             frame-ancestors 'none'",
        ),
    );
    r
}

/// The sign-in form. `flow` is the sealed authorization request, which also carries the CSRF
/// binding to this browser's cookie. With sign-up allowed, a second button creates the account.
pub fn sign_in(app_name: &str, flow: &str, identifier: &str, error: Option<&str>, signup: bool) -> Response {
    let err = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
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
             style=\"background:#fff;color:#1f2328;border:1px solid #d0d7de\">Sign in with a passkey</button></form>\
             <script src=\"/u/assets/accountd.js\"></script>",
            signup = if signup {
                "<button type=\"submit\" formaction=\"/u/signup\" \
                 style=\"background:#fff;color:#1f2328;border:1px solid #d0d7de\">Create an account</button>"
            } else {
                ""
            },
            app = esc(app_name),
            flow = esc(flow),
            id = esc(identifier),
        ),
    )
}

/// The consent page for a third-party application: what it asks for, Allow or Deny.
pub fn consent(app_name: &str, flow: &str, scopes: &[(String, String)]) -> Response {
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
             style=\"background:#fff;color:#1f2328;border:1px solid #d0d7de\">Deny</button></form>",
            app = esc(app_name),
            flow = esc(flow),
        ),
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
    )
}

/// A plain message page.
pub fn message(title: &str, text: &str) -> Response {
    page(StatusCode::OK, title, &format!("<h1>{}</h1><p class=\"sub\">{}</p>", esc(title), esc(text)))
}

/// `response_mode=form_post`: a form that posts the response to the redirect URI.
pub fn form_post(redirect_uri: &str, params: &[(&str, String)]) -> Response {
    let inputs: String = params
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v)))
        .collect();
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Submit</title></head>\
         <body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}\
         <noscript><button type=\"submit\">Continue</button></noscript></form></body></html>",
        esc(redirect_uri)
    );
    let mut r = Html(html).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
