//! accountd's authorization-server logic: signing keys and the JWKS, and minting and verifying
//! access tokens. No HTTP here; `accountd-http` calls into it.

pub mod access_token;
pub mod device_proof;
pub mod dpop;
pub mod error;
pub mod grants;
pub mod id_token;
pub mod keyring;
pub mod keys;
pub mod opaque;

pub use access_token::{AccessTokenClaims, TokenError};
pub use error::OAuthError;
pub use keyring::{KeyCache, KeyRing};
pub use keys::JoseKeyMaker;
pub use opaque::OpaqueTokens;
