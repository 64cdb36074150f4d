//! HTTP integration tests: each starts the real server on a fresh database (SQLite, or PostgreSQL
//! with `ACCOUNTD_TEST_BACKEND=postgres`) and drives it as a client would. Modules follow the URL tree.

#![expect(clippy::unwrap_used, reason = "tests fail loudly at the unwrap")]

mod account;
mod cli;
mod cors;
mod crash;
mod discovery;
mod dpop;
mod edge;
mod health;
mod hostile;
mod logs;
mod logto_sign_in;
mod management;
mod me;
mod metrics;
mod nodes;
mod oauth;
mod oidc;
mod otel;
mod pages;
mod tenants;
mod upstream_sign_in;
mod util;
