//! A software passkey authenticator (1Password's passkey-rs) that takes and returns WebAuthn JSON
//! exactly as a browser's `navigator.credentials` + `toJSON()` would, with discoverable
//! credentials and user verification.

use passkey::authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey::client::{Client, DefaultClientData};
use passkey::crypto::rust_crypto::RustCryptoBackend;
use passkey::types::Passkey;
use passkey::types::ctap2::{Aaguid, Ctap2Error};
use passkey::types::webauthn::{
    CredentialCreationOptions, CredentialRequestOptions, PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
};
use serde_json::Value;

/// The user always consents and is verified (a fingerprint that always matches).
struct AlwaysVerified;

#[async_trait::async_trait]
impl UserValidationMethod for AlwaysVerified {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(&self, _: UiHint<'a, Passkey>, _: bool, _: bool) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck { presence: true, verification: true })
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }
}

/// One authenticator holding one passkey.
pub struct SoftAuthenticator {
    client: Client<Option<Passkey>, AlwaysVerified, RustCryptoBackend, public_suffix::PublicSuffixList, ()>,
}

impl SoftAuthenticator {
    pub fn new() -> Self {
        let authn = Authenticator::new(Aaguid::new_empty(), None, AlwaysVerified, RustCryptoBackend);
        Self { client: Client::new(authn).allows_insecure_localhost(true) }
    }

    /// `navigator.credentials.create({publicKey: options})` on a page of `origin`.
    pub async fn create(&mut self, origin: &str, options: &Value) -> Value {
        let public_key: PublicKeyCredentialCreationOptions =
            serde_json::from_value(options.clone()).expect("creation options in WebAuthn JSON");
        let origin = url::Url::parse(origin).unwrap();
        let cred = self
            .client
            .register(&origin, CredentialCreationOptions { public_key }, DefaultClientData)
            .await
            .expect("the authenticator registers");
        serde_json::to_value(cred).unwrap()
    }

    /// `navigator.credentials.get({publicKey: options})` on a page of `origin`.
    pub async fn get(&mut self, origin: &str, options: &Value) -> Value {
        let public_key: PublicKeyCredentialRequestOptions =
            serde_json::from_value(options.clone()).expect("request options in WebAuthn JSON");
        let origin = url::Url::parse(origin).unwrap();
        let cred = self
            .client
            .authenticate(&origin, CredentialRequestOptions { public_key }, DefaultClientData)
            .await
            .expect("the authenticator signs");
        serde_json::to_value(cred).unwrap()
    }
}
