//! `GET /me/v1/export`: everything accountd holds about the user, as one document
//! (`common::account_export`), after a recent sign-in.

use super::error::MeResult;
use super::extract::MeAuth;

/// Download everything accountd holds about the user as one JSON document (after a recent
/// sign-in, the step-up rule of the sensitive operations).
#[utoipa::path(get, path = "/me/v1/export", tag = "security-events", operation_id = "getAccountExport",
    responses((status = 200, description = "The account export document (`format`: `accountd.account-export/1`)",
        content_type = "application/json", body = Object)),
    security(("bearer" = ["read:me:export"])))]
pub async fn export_account(auth: MeAuth) -> MeResult<axum::response::Response> {
    let caller = auth.require("read:me:export")?;
    let export = auth.state().core.export_my_account(&caller).await?;
    let doc = crate::common::account_export::document(&export, accountd_core::clock::now_millis());
    Ok(crate::common::account_export::attachment(&doc))
}
