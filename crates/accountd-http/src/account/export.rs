//! `GET /api/my-account/export`: everything accountd holds about the user, as one document
//! (`common::account_export`), with a verification record as proof.

use axum::http::StatusCode;
use axum::response::Response;

use super::error::LogtoResult;
use super::extract::LogtoAuth;

/// The scope the account export needs (accountd's).
pub const EXPORT_SCOPE: &str = "urn:accountd:scope:export";

/// Download everything accountd holds about the user as one JSON document; needs a verification
/// record proving the user's identity (`logto-verification-id`), like Logto's sensitive changes.
#[utoipa::path(get, path = "/api/my-account/export", tag = "Account", operation_id = "GetAccountExport",
    responses((status = 200, description = "The account export document (`format`: `accountd.account-export/1`)",
        content_type = "application/json", body = Object)))]
pub async fn export_account(auth: LogtoAuth) -> LogtoResult<Response> {
    auth.require_scope(EXPORT_SCOPE, StatusCode::UNAUTHORIZED)?;
    let export = auth.state().core.export_my_account(&auth.caller()).await?;
    let doc = crate::common::account_export::document(&export, accountd_core::clock::now_millis());
    Ok(crate::common::account_export::attachment(&doc))
}
