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
