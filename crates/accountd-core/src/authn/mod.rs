//! Authentication methods: what a user proves who they are with. One module per credential type.

pub mod credential;
pub mod method;
pub mod otp;
pub mod password_policy;
pub mod pending;
pub mod policy;
pub mod push;
pub mod recovery_code;
pub mod totp;
pub mod webauthn;

/// The most authentication methods one user may hold (passkeys, TOTP apps, devices, codes…):
/// enough for any person, and a bound on what a stolen token can pile onto an account and on
/// what every read of the methods costs.
pub const MAX_METHODS_PER_USER: usize = 20;
