//! Authentication methods: what a user proves who they are with. One module per credential type.

pub mod password_policy;
pub mod method;
pub mod pending;
pub mod policy;
pub mod credential;
pub mod otp;
pub mod push;
pub mod recovery_code;
pub mod totp;
pub mod webauthn;
