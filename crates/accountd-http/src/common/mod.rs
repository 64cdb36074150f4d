//! Web plumbing shared by every dialect.

pub mod account_export;
pub mod client_info;
pub mod cookies;
pub mod cors;
pub mod hsts;
pub mod input;
pub mod openapi;
pub mod principal;
pub mod rate_limit;
pub mod shared;
pub mod tenant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Any path nothing serves.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({
            "statusCode": 404, "error": "Not Found", "message": "Not Found", "errorCode": "not_found"
        })),
    )
        .into_response()
}
