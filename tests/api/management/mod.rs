//! `/api/v2/*`: the management API.

mod auth;
mod client_grants;
mod clients;
mod connections;
mod connectors;
mod keys_and_logs;
mod openapi;
mod resource_servers;
mod roles;
mod users;
