//! WebAuthn with `webauthn-rs`: passkeys (discoverable, user-verified; they sign users in) and
//! security keys / platform authenticators as second factors. The relying party is the tenant
//! domain the request came in on; ceremonies are serialized into the sealed pending state, and
//! credentials into the method's secret (public data, but the signature counter lives there).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use webauthn_rs::prelude::Credential as WaCredential;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, SecurityKey, SecurityKeyAuthentication, SecurityKeyRegistration, Url, Uuid, Webauthn,
    WebauthnBuilder,
};
use webauthn_rs_proto::{AuthenticatorAttachment, ResidentKeyRequirement};

use super::credential::{
    Begun, Counts, Credential, EnrollChallenge, EnrollContext, EnrollProof, EnrollRequest, RelyingParty, account_label,
    new_method,
};
use super::method::{MethodDetails, MethodType, NewMethod};
use crate::error::{Error, Refusal, Result};
use crate::user::{User, UserId};

/// The WebAuthn credential module (passkeys and both second-factor kinds).
pub struct WebAuthn;

/// The `webauthn-rs` instance for a relying party. Origins on the RP ID or its subdomains, on any
/// port, are accepted: the browser already refuses an RP ID that is not a suffix of the page's
/// host, and the account API is called from the apps' pages, not only from accountd's.
pub fn webauthn(rp: &RelyingParty) -> Result<Webauthn> {
    let origin = rp_origin(rp)?;
    WebauthnBuilder::new(&rp.id, &origin)
        .map_err(|e| Error::Internal(anyhow::anyhow!("WebAuthn relying party {}: {e}", rp.id)))?
        .rp_name(&rp.name)
        .allow_any_port(true)
        .allow_subdomains(true)
        .build()
        .map_err(|e| Error::Internal(anyhow::anyhow!("WebAuthn relying party {}: {e}", rp.id)))
}

/// The origin of the relying party of the domain the request came in on. WebAuthn has no RP on
/// an IP address (browsers refuse one), so a request to an IP host is told to use a name.
fn rp_origin(rp: &RelyingParty) -> Result<Url> {
    if rp.id.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok() {
        return Err(Error::invalid(
            "host",
            "WebAuthn needs a domain name, not an IP address: call this tenant as localhost or by its domain",
        ));
    }
    let scheme = rp.origin.split_once("://").map(|(s, _)| s).unwrap_or("https");
    Url::parse(&format!("{scheme}://{}", rp.id)).map_err(|e| Error::Internal(anyhow::anyhow!("RP origin: {e}")))
}

/// The WebAuthn user handle of a user: stable, opaque, derived from the user id so that a
/// discoverable credential names its user without a lookup table.
pub fn user_handle(user: &UserId) -> Uuid {
    let d =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("accountd-webauthn-user:{}", user.0).as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    uuid_v8(b)
}

fn uuid_v8(mut b: [u8; 16]) -> Uuid {
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}

/// The lookup key stored with a passkey: its user handle, base64url.
pub fn user_handle_key(handle: &Uuid) -> String {
    URL_SAFE_NO_PAD.encode(handle.as_bytes())
}

fn wa_err(context: &str, e: impl std::fmt::Display) -> Error {
    Error::BadProof(format!("The WebAuthn {context} was refused: {e}"))
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("WebAuthn state: {e}"))
}

fn exclude(cx: &EnrollContext<'_>, wanted: bool) -> Option<Vec<CredentialID>> {
    let ids: Vec<CredentialID> = if wanted {
        cx.existing_key_ids.iter().filter_map(|k| URL_SAFE_NO_PAD.decode(k).ok()).collect()
    } else {
        vec![]
    };
    (!ids.is_empty()).then_some(ids)
}

/// Facts about a new credential read from the attestation object: the COSE public key as
/// registered and the authenticator's AAGUID.
pub fn attested_key(attestation_object_b64: &str) -> Option<(Vec<u8>, String)> {
    let raw = URL_SAFE_NO_PAD.decode(attestation_object_b64.trim_end_matches('=')).ok()?;
    let obj: serde_cbor_2::Value = serde_cbor_2::from_slice(&raw).ok()?;
    let serde_cbor_2::Value::Map(m) = obj else { return None };
    let auth_data = m.iter().find_map(|(k, v)| match (k, v) {
        (serde_cbor_2::Value::Text(k), serde_cbor_2::Value::Bytes(b)) if k == "authData" => Some(b.clone()),
        _ => None,
    })?;
    // rpIdHash(32) flags(1) signCount(4) aaguid(16) credIdLen(2) credId credentialPublicKey [extensions]
    let aaguid = Uuid::from_slice(auth_data.get(37..53)?).ok()?.to_string();
    let id_len = u16::from_be_bytes([*auth_data.get(53)?, *auth_data.get(54)?]) as usize;
    let key_start = 55 + id_len;
    let rest = auth_data.get(key_start..)?;
    let mut de = serde_cbor_2::Deserializer::from_slice(rest);
    let _: serde_cbor_2::Value = serde::Deserialize::deserialize(&mut de).ok()?;
    let key = rest.get(..de.byte_offset())?.to_vec();
    Some((key, aaguid))
}

fn transports(c: &WaCredential, reported: &Value) -> Option<Vec<String>> {
    let from_client: Vec<String> = reported
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if !from_client.is_empty() {
        return Some(from_client);
    }
    c.transports.as_ref().map(|ts| {
        ts.iter().filter_map(|t| serde_json::to_value(t).ok()).filter_map(|v| v.as_str().map(str::to_string)).collect()
    })
}

fn options_json(public_key: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(public_key).map_err(internal)
}

#[async_trait::async_trait]
impl Credential for WebAuthn {
    fn counts_as(&self, t: MethodType) -> Counts {
        // A passkey signs in alone and also answers a WebAuthn second-factor challenge.
        if t == MethodType::Passkey { Counts::BothFactors } else { Counts::SecondFactor }
    }

    async fn begin(&self, cx: &EnrollContext<'_>, request: &EnrollRequest, _: &str) -> Result<Begun> {
        let wa = webauthn(cx.rp)?;
        let handle = user_handle(&cx.user.id);
        let name = account_label(cx.user);
        let display = cx.user.name.clone().unwrap_or_else(|| name.clone());
        match request {
            EnrollRequest::Passkey { exclude: ex } => {
                let (mut ccr, reg) = wa
                    .start_passkey_registration(handle, &name, &display, exclude(cx, *ex))
                    .map_err(|e| Error::Internal(anyhow::anyhow!("passkey registration: {e}")))?;
                // Discoverable credentials, so the passkey can sign in without a username.
                if let Some(sel) = ccr.public_key.authenticator_selection.as_mut() {
                    sel.resident_key = Some(ResidentKeyRequirement::Required);
                    sel.require_resident_key = true;
                }
                Ok(Begun {
                    state: json!({ "kind": "passkey", "reg": serde_json::to_value(&reg).map_err(internal)? }),
                    challenge: EnrollChallenge::WebAuthn { options: options_json(&ccr.public_key)? },
                    message: None,
                })
            }
            EnrollRequest::SecurityKey { platform } => {
                let attach =
                    if *platform { AuthenticatorAttachment::Platform } else { AuthenticatorAttachment::CrossPlatform };
                let (ccr, reg) = wa
                    .start_securitykey_registration(handle, &name, &display, exclude(cx, true), None, Some(attach))
                    .map_err(|e| Error::Internal(anyhow::anyhow!("security key registration: {e}")))?;
                Ok(Begun {
                    state: json!({ "kind": "security_key", "platform": platform, "reg": serde_json::to_value(&reg).map_err(internal)? }),
                    challenge: EnrollChallenge::WebAuthn { options: options_json(&ccr.public_key)? },
                    message: None,
                })
            }
            _ => Err(Error::Internal(anyhow::anyhow!("WebAuthn module asked for {request:?}"))),
        }
    }

    async fn finish(&self, cx: &EnrollContext<'_>, state: Value, proof: EnrollProof, id: &str) -> Result<NewMethod> {
        let EnrollProof::Attestation(response) = proof else {
            return Err(Error::invalid("authn_response", "is required"));
        };
        let reported_transports = response["response"]["transports"].clone();
        let attestation_object = response["response"]["attestationObject"].as_str().unwrap_or_default().to_string();
        let reg: RegisterPublicKeyCredential = serde_json::from_value(response)
            .map_err(|e| Error::invalid("authn_response", format!("is not a WebAuthn attestation response: {e}")))?;
        let wa = webauthn(cx.rp)?;
        let handle = user_handle(&cx.user.id);
        let (method_type, credential, secret): (MethodType, WaCredential, String) = match state["kind"].as_str() {
            Some("passkey") => {
                let st: PasskeyRegistration = serde_json::from_value(state["reg"].clone()).map_err(internal)?;
                let pk = wa.finish_passkey_registration(&reg, &st).map_err(|e| wa_err("registration", e))?;
                let secret = serde_json::to_string(&pk).map_err(internal)?;
                (MethodType::Passkey, pk.into(), secret)
            }
            Some("security_key") => {
                let st: SecurityKeyRegistration = serde_json::from_value(state["reg"].clone()).map_err(internal)?;
                let sk = wa.finish_securitykey_registration(&reg, &st).map_err(|e| wa_err("registration", e))?;
                let secret = serde_json::to_string(&sk).map_err(internal)?;
                let attached_platform = state["platform"].as_bool().unwrap_or(false)
                    || reported_transports.as_array().is_some_and(|a| a.iter().any(|t| t == "internal"));
                let t = if attached_platform { MethodType::WebauthnPlatform } else { MethodType::WebauthnRoaming };
                (t, sk.into(), secret)
            }
            _ => return Err(internal("unknown ceremony")),
        };
        let key_id = URL_SAFE_NO_PAD.encode::<&[u8]>(credential.cred_id.as_ref());
        if cx.existing_key_ids.contains(&key_id) {
            return Err(Error::BadProof("This authenticator is already registered.".into()));
        }
        let mut m = new_method(cx, method_type, id, secret);
        m.method.details = if method_type == MethodType::Passkey {
            let d = passkey_details(
                &credential,
                &attestation_object,
                &reported_transports,
                cx.user_agent,
                &cx.rp.id,
                &handle,
            );
            m.lookup_key = d.user_handle.clone();
            d
        } else {
            let (cose_key, _) = attested_key(&attestation_object).unzip();
            MethodDetails {
                key_id: Some(key_id),
                public_key: cose_key.map(|k| STANDARD.encode(k)),
                ..Default::default()
            }
        };
        Ok(m)
    }
}

/// The public facts of a new passkey: its id and key as attested, backup state, transports, the
/// browser, the AAGUID, the RP ID and the user handle (its lookup key at passkey sign-in).
fn passkey_details(
    credential: &WaCredential,
    attestation_object: &str,
    reported_transports: &Value,
    user_agent: Option<&str>,
    rp_id: &str,
    handle: &Uuid,
) -> MethodDetails {
    let (cose_key, aaguid) = attested_key(attestation_object).unzip();
    MethodDetails {
        key_id: Some(URL_SAFE_NO_PAD.encode::<&[u8]>(credential.cred_id.as_ref())),
        public_key: cose_key.map(|k| STANDARD.encode(k)),
        credential_backed_up: Some(credential.backup_state),
        credential_device_type: Some(if credential.backup_eligible { "multi_device" } else { "single_device" }.into()),
        transports: transports(credential, reported_transports),
        user_agent: user_agent.map(str::to_string),
        aaguid,
        relying_party_id: Some(rp_id.to_string()),
        user_handle: Some(user_handle_key(handle)),
        ..Default::default()
    }
}

/// A passkey registered through a verification record (Logto's Verification API), kept sealed in
/// the record until `POST mfa-verifications` turns it into a method.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RegisteredPasskey {
    /// The serialized `webauthn-rs` passkey (the method's secret).
    pub secret: String,
    /// Its public facts.
    pub details: MethodDetails,
}

/// The `webauthn-rs` instance for a Verification API registration: the RP's own origins (as
/// [`webauthn`]) plus the tenant's WebAuthn related origins.
fn webauthn_with_related(rp: &RelyingParty, related_origins: &[String]) -> Result<Webauthn> {
    let origin = rp_origin(rp)?;
    let mut b = WebauthnBuilder::new(&rp.id, &origin)
        .map_err(|e| Error::Internal(anyhow::anyhow!("WebAuthn relying party {}: {e}", rp.id)))?;
    for o in related_origins {
        // Related origins are not validated when set (as in Logto): one that is no URL is skipped.
        if let Ok(u) = Url::parse(o) {
            b = b.append_allowed_origin(&u);
        }
    }
    b.rp_name(&rp.id)
        .allow_any_port(true)
        .allow_subdomains(true)
        .build()
        .map_err(|e| Error::Internal(anyhow::anyhow!("WebAuthn relying party {}: {e}", rp.id)))
}

/// Starts a passkey registration for the Verification API, with the options exactly as Logto
/// gives them (spec logto §4.6): RP name = RP ID, a discoverable, user-verified credential, ES256
/// and RS256, 60 s, no attestation, the user's existing credentials excluded. Returns the options
/// (`registrationOptions`) and the ceremony state to seal.
pub fn start_verification_registration(
    rp: &RelyingParty,
    user: &User,
    existing_key_ids: &[String],
) -> Result<(Value, Value)> {
    let wa = webauthn_with_related(rp, &[])?;
    let handle = user_handle(&user.id);
    let unnamed = || "Unnamed User".to_string();
    let name = user
        .username
        .clone()
        .or_else(|| user.email.clone())
        .or_else(|| user.phone_number.clone())
        .unwrap_or_else(unnamed);
    let display = user.name.clone().unwrap_or_else(|| name.clone());
    let exclude: Vec<CredentialID> = existing_key_ids.iter().filter_map(|k| URL_SAFE_NO_PAD.decode(k).ok()).collect();
    let (ccr, reg) = wa
        .start_passkey_registration(handle, &name, &display, (!exclude.is_empty()).then_some(exclude))
        .map_err(|e| Error::Internal(anyhow::anyhow!("passkey registration: {e}")))?;
    let mut options = options_json(&ccr.public_key)?;
    options["rp"] = json!({ "name": rp.id, "id": rp.id });
    options["authenticatorSelection"] =
        json!({ "residentKey": "required", "requireResidentKey": true, "userVerification": "required" });
    options["pubKeyCredParams"] = json!([{ "type": "public-key", "alg": -7 }, { "type": "public-key", "alg": -257 }]);
    options["timeout"] = json!(60000);
    options["attestation"] = json!("none");
    if options.get("excludeCredentials").is_none_or(Value::is_null) {
        options["excludeCredentials"] = json!([]);
    }
    Ok((options, serde_json::to_value(&reg).map_err(internal)?))
}

/// Finishes a Verification API registration: the attestation must answer the ceremony from an
/// origin of the RP or one of `related_origins`, with user verification. Any refusal is
/// [`Refusal::WebauthnVerificationFailed`].
pub fn finish_verification_registration(
    rp: &RelyingParty,
    related_origins: &[String],
    user: &UserId,
    state: &Value,
    mut response: Value,
    user_agent: Option<&str>,
) -> Result<RegisteredPasskey> {
    let failed = || Error::Refused(Refusal::WebauthnVerificationFailed);
    // vendor quirk: Logto's payload names its type "WebAuthn"; webauthn-rs reads the browser's "public-key".
    // (`insert`, not `response["type"] =`, which panics on a response that is no object.)
    if let Some(r) = response.as_object_mut() {
        r.insert("type".into(), json!("public-key"));
    }
    let reported_transports = response["response"]["transports"].clone();
    let attestation_object = response["response"]["attestationObject"].as_str().unwrap_or_default().to_string();
    let reg: RegisterPublicKeyCredential = serde_json::from_value(response).map_err(|_| failed())?;
    let st: PasskeyRegistration = serde_json::from_value(state.clone()).map_err(internal)?;
    let wa = webauthn_with_related(rp, related_origins)?;
    let pk = wa.finish_passkey_registration(&reg, &st).map_err(|e| {
        tracing::debug!(error = %e, "WebAuthn registration refused");
        failed()
    })?;
    let secret = serde_json::to_string(&pk).map_err(internal)?;
    let credential = WaCredential::from(pk);
    let details =
        passkey_details(&credential, &attestation_object, &reported_transports, user_agent, &rp.id, &user_handle(user));
    Ok(RegisteredPasskey { secret, details })
}

/// A passkey sign-in ceremony: options for `navigator.credentials.get` and the state to keep.
pub fn start_discoverable(rp: &RelyingParty) -> Result<(Value, Value)> {
    let wa = webauthn(rp)?;
    let (rcr, st) =
        wa.start_discoverable_authentication().map_err(|e| Error::Internal(anyhow::anyhow!("passkey sign-in: {e}")))?;
    Ok((options_json(&rcr.public_key)?, serde_json::to_value(&st).map_err(internal)?))
}

/// The user handle (base64url) a discoverable assertion names.
pub fn asserted_user_handle(assertion: &Value) -> Result<(PublicKeyCredential, String)> {
    let cred: PublicKeyCredential = serde_json::from_value(assertion.clone())
        .map_err(|e| Error::invalid("authn_response", format!("is not a WebAuthn assertion: {e}")))?;
    let handle = cred
        .get_user_unique_id()
        .map(|b| URL_SAFE_NO_PAD.encode(b))
        .ok_or_else(|| Error::BadProof("The passkey did not name its user.".into()))?;
    Ok((cred, handle))
}

/// Finishes a passkey sign-in against the passkeys stored under the asserted user handle; returns
/// the index of the passkey used and its updated serialized form.
pub fn finish_discoverable(
    rp: &RelyingParty,
    state: &Value,
    cred: &PublicKeyCredential,
    stored: &[String],
) -> Result<(usize, String)> {
    let wa = webauthn(rp)?;
    let cred_id = cred.get_credential_id().to_vec();
    for (i, s) in stored.iter().enumerate() {
        let Ok(mut pk) = serde_json::from_str::<Passkey>(s) else { continue };
        if AsRef::<[u8]>::as_ref(pk.cred_id()) != cred_id.as_slice() {
            continue;
        }
        let st: DiscoverableAuthentication = serde_json::from_value(state.clone()).map_err(internal)?;
        let res = wa
            .finish_discoverable_authentication_v2(cred, st, WaCredential::from(pk.clone()))
            .map_err(|e| wa_err("sign-in", e))?;
        pk.update_credential(&res);
        return Ok((i, serde_json::to_string(&pk).map_err(internal)?));
    }
    Err(Error::BadProof("This passkey is not registered here.".into()))
}

/// A second-factor WebAuthn challenge over the user's security keys and passkeys.
pub fn start_second_factor(rp: &RelyingParty, stored: &[(MethodType, String)]) -> Result<(Value, Value)> {
    let wa = webauthn(rp)?;
    let keys: Vec<SecurityKey> = stored
        .iter()
        .filter_map(|(t, s)| match t {
            MethodType::Passkey => {
                serde_json::from_str::<Passkey>(s).ok().map(|p| SecurityKey::from(WaCredential::from(p)))
            }
            _ => serde_json::from_str::<SecurityKey>(s).ok(),
        })
        .collect();
    let (rcr, st) = wa
        .start_securitykey_authentication(&keys)
        .map_err(|e| Error::Internal(anyhow::anyhow!("security key challenge: {e}")))?;
    Ok((options_json(&rcr.public_key)?, serde_json::to_value(&st).map_err(internal)?))
}

/// Finishes a second-factor WebAuthn challenge; returns the index of the key used and its updated
/// serialized form (same kind as stored).
pub fn finish_second_factor(
    rp: &RelyingParty,
    state: &Value,
    assertion: &Value,
    stored: &[(MethodType, String)],
) -> Result<(usize, String)> {
    let wa = webauthn(rp)?;
    let cred: PublicKeyCredential = serde_json::from_value(assertion.clone())
        .map_err(|e| Error::invalid("authn_response", format!("is not a WebAuthn assertion: {e}")))?;
    let st: SecurityKeyAuthentication = serde_json::from_value(state.clone()).map_err(internal)?;
    let res = wa.finish_securitykey_authentication(&cred, &st).map_err(|e| wa_err("assertion", e))?;
    for (i, (t, s)) in stored.iter().enumerate() {
        if *t == MethodType::Passkey {
            if let Ok(mut pk) = serde_json::from_str::<Passkey>(s)
                && pk.update_credential(&res).is_some()
            {
                return Ok((i, serde_json::to_string(&pk).map_err(internal)?));
            }
        } else if let Ok(mut sk) = serde_json::from_str::<SecurityKey>(s)
            && sk.update_credential(&res).is_some()
        {
            return Ok((i, serde_json::to_string(&sk).map_err(internal)?));
        }
    }
    Err(Error::BadProof("This security key is not registered here.".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_response_that_is_no_object_is_refused_not_a_panic() {
        let rp =
            RelyingParty { id: "accountd.example".into(), origin: "https://accountd.example".into(), name: "x".into() };
        let user = UserId("auth0|0123456789abcdef01234567".into());
        for response in [json!([]), json!("WebAuthn"), json!(1), json!(true), Value::Null] {
            let r = finish_verification_registration(&rp, &[], &user, &Value::Null, response.clone(), None);
            assert!(matches!(r, Err(Error::Refused(Refusal::WebauthnVerificationFailed))), "{response}");
        }
    }
}
