//! `POST /api/my-account/password` (spec logto §5.2).

use axum::http::StatusCode;
use zeroize::Zeroizing;

use super::error::LogtoResult;
use super::extract::{LogtoAuth, LogtoJson};
use super::wire::UpdatePasswordBody;

/// Sets a new password (with `logto-verification-id` when the user can prove who they are);
/// `signOutOtherSessions` also ends the user's other sessions.
#[utoipa::path(post, path = "/api/my-account/password", tag = "Account", operation_id = "UpdatePassword",
    request_body = UpdatePasswordBody, responses((status = 204, description = "The password was changed")))]
pub async fn update_password(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<UpdatePasswordBody>,
) -> LogtoResult<StatusCode> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    core.change_password(&caller, Zeroizing::new(body.password)).await?;
    if body.sign_out_other_sessions {
        core.sign_out_other_sessions(&caller).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
