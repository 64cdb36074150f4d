//! accountd's domain core: tenants, users, applications, APIs with their access policies, client
//! grants, roles, signing keys and audit events; the store traits every backend implements; and the
//! services the HTTP adapters and the admin CLI call. No HTTP and no SQL live here.

pub mod access_policy;
pub mod account_center;
pub mod api_resource;
pub mod application;
pub mod audit;
pub mod authn;
pub mod authorization;
pub mod caller;
pub mod client_grant;
pub mod clock;
pub mod connector;
pub mod error;
pub mod identifier;
pub mod message;
pub mod origin;
pub mod role;
pub mod secret;
pub mod security_event;
pub mod service;
pub mod session;
pub mod signing_key;
pub mod store;
pub mod tenant;
pub mod text;
pub mod upstream;
pub mod user;
pub mod verification;

pub use error::{Error, Result};
pub use service::Core;
