//! The management API under `/api/v2`, in the dialect of Auth0's Management API (the subset
//! accountd needs): clients, resource servers, client grants, users, sessions, roles, logs, signing keys.
//! Callers authenticate with a Bearer token for the Management API audience of the host they call
//! (`{scheme}://{host}/api/v2/`), obtained with `client_credentials` at `/oauth/token`.

pub mod client_grants;
pub mod clients;
pub mod connections;
pub mod connectors;
pub mod error;
pub mod extract;
pub mod keys;
pub mod logs;
pub mod resource_servers;
pub mod roles;
pub mod security_reports;
pub mod sessions;
pub mod tenant_settings;
pub mod users;
pub mod wire;

use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The OpenAPI document's header.
#[derive(OpenApi)]
#[openapi(
    info(title = "accountd Management API", description = "Auth0-compatible management API of accountd."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        }
    }
}

/// The management routes with their OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(clients::list_clients, clients::create_client))
        .routes(routes!(clients::get_client, clients::update_client, clients::delete_client))
        .routes(routes!(resource_servers::list_resource_servers, resource_servers::create_resource_server))
        .routes(routes!(
            resource_servers::get_resource_server,
            resource_servers::update_resource_server,
            resource_servers::delete_resource_server
        ))
        .routes(routes!(client_grants::list_client_grants, client_grants::create_client_grant))
        .routes(routes!(
            client_grants::get_client_grant,
            client_grants::update_client_grant,
            client_grants::delete_client_grant
        ))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::users_by_email))
        .routes(routes!(users::get_user, users::update_user, users::delete_user))
        .routes(routes!(users::list_user_roles, users::assign_user_roles, users::remove_user_roles))
        .routes(routes!(roles::list_roles, roles::create_role))
        .routes(routes!(roles::get_role, roles::update_role, roles::delete_role))
        .routes(routes!(roles::list_role_permissions, roles::add_role_permissions, roles::remove_role_permissions))
        .routes(routes!(roles::list_role_users, roles::assign_role_users))
        .routes(routes!(sessions::list_user_sessions, sessions::delete_user_sessions))
        .routes(routes!(sessions::get_session, sessions::delete_session))
        .routes(routes!(sessions::revoke_session))
        .routes(routes!(logs::list_logs))
        .routes(routes!(security_reports::list_security_reports))
        .routes(routes!(connections::list_connections, connections::create_connection))
        .routes(routes!(connections::get_connection, connections::update_connection, connections::delete_connection))
        .routes(routes!(keys::list_signing_keys))
        .routes(routes!(keys::rotate_signing_key))
        .routes(routes!(tenant_settings::get_tenant_settings, tenant_settings::update_tenant_settings))
        .routes(routes!(
            connectors::get_email_provider,
            connectors::create_email_provider,
            connectors::update_email_provider,
            connectors::delete_email_provider
        ))
        .routes(routes!(connectors::get_sms_connector, connectors::set_sms_connector, connectors::delete_sms_connector))
        .routes(routes!(connectors::list_message_templates))
        .routes(routes!(
            connectors::get_message_template,
            connectors::set_message_template,
            connectors::delete_message_template
        ))
        .routes(routes!(connectors::list_outbox_messages))
}
