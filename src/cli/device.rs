//! `accountd device …`: a companion device for push approval, over the device API (`/push/v1`) of
//! a running server. `enroll` redeems the QR code (`barcode_uri`) of a push enrollment with a new
//! ES256 key pair and keeps the device in a state file (owner-only); `list` shows the sign-ins
//! waiting for this device; `approve` answers one of them (or denies it with `--deny`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use accountd_core::secret::random_token;
use anyhow::{Context as _, bail};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How often `approve --wait` asks for new challenges.
const POLL_EVERY: Duration = Duration::from_millis(200);

/// `accountd device` arguments.
#[derive(Debug, Args)]
pub struct DeviceArgs {
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Debug, Args)]
struct StateFile {
    /// The device's state file (its key and id): written by `enroll`, read by the others.
    #[arg(long)]
    state: PathBuf,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Redeem a push enrollment's QR code with a new key pair; prints the device id.
    Enroll {
        /// The enrollment's `barcode_uri` (`otpauth://push/…?ticket=…&base_url=…`).
        #[arg(long)]
        uri: String,
        #[command(flatten)]
        state: StateFile,
        /// A name for the device, shown in the account's method list.
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the sign-ins waiting for this device: id, then binding message.
    List {
        #[command(flatten)]
        state: StateFile,
    },
    /// Approve (or deny) a waiting sign-in: the one given, or the oldest.
    Approve {
        #[command(flatten)]
        state: StateFile,
        /// The challenge to answer (default: the oldest open one).
        #[arg(long)]
        challenge: Option<String>,
        /// Deny instead of approving.
        #[arg(long)]
        deny: bool,
        /// Wait up to this many seconds for a challenge to appear.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
}

/// What `enroll` keeps: enough to sign requests as this device.
#[derive(Serialize, Deserialize)]
struct DeviceState {
    /// `{scheme}://{host}/` of the server's account API.
    base_url: String,
    /// The device id (the push method's id).
    device_id: String,
    /// The private key, PKCS#8 DER, base64.
    private_key_pkcs8: String,
    /// The public key as registered.
    public_jwk: Value,
}

/// Runs a device command.
pub async fn run(args: DeviceArgs) -> anyhow::Result<()> {
    // reqwest's rustls has no provider of its own: install ring (Err means one is installed already).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build()?;
    match args.command {
        DeviceCommand::Enroll { uri, state, name } => {
            let id = enroll(&http, &uri, &state.state, name).await?;
            println!("{id}");
        }
        DeviceCommand::List { state } => {
            let device = Device::load(&state.state)?;
            for c in device.challenges(&http).await? {
                println!("{}\t{}", c.id, c.binding_message);
            }
        }
        DeviceCommand::Approve { state, challenge, deny, wait } => {
            let device = Device::load(&state.state)?;
            let id = match challenge {
                Some(id) => id,
                None => device.wait_for_challenge(&http, Duration::from_secs(wait)).await?,
            };
            device.answer(&http, &id, !deny).await?;
            println!("{} {id}", if deny { "denied" } else { "approved" });
        }
    }
    Ok(())
}

/// The ticket and base URL of a push enrollment's `barcode_uri`.
fn parse_barcode_uri(uri: &str) -> anyhow::Result<(String, String)> {
    let url = reqwest::Url::parse(uri.trim()).context("the URI is not a URL")?;
    if url.scheme() != "otpauth" || url.host_str() != Some("push") {
        bail!("not a push enrollment URI (expected otpauth://push/…)");
    }
    let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let ticket = param("ticket").filter(|t| !t.is_empty()).context("the URI has no ticket")?;
    let mut base = param("base_url").filter(|b| !b.is_empty()).context("the URI has no base_url")?;
    if !base.starts_with("http://") && !base.starts_with("https://") {
        bail!("the URI's base_url is not an http(s) URL: {base}");
    }
    if !base.ends_with('/') {
        base.push('/');
    }
    Ok((ticket, base))
}

/// Fails with the server's `error_description` unless the answer is `expected`.
async fn expect_status(resp: reqwest::Response, expected: u16) -> anyhow::Result<reqwest::Response> {
    if resp.status().as_u16() == expected {
        return Ok(resp);
    }
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    match (body["error"].as_str(), body["error_description"].as_str()) {
        (Some(e), Some(d)) => bail!("the server refused ({status}, {e}): {d}"),
        _ => bail!("the server answered {status}"),
    }
}

async fn enroll(http: &reqwest::Client, uri: &str, state: &Path, name: Option<String>) -> anyhow::Result<String> {
    let (ticket, base_url) = parse_barcode_uri(uri)?;
    if state.exists() {
        bail!("{} exists already; give a new --state file for a new device", state.display());
    }
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
        .map_err(|_| anyhow::anyhow!("key generation failed"))?;
    let pkcs8 = key.to_pkcs8v1().map_err(|_| anyhow::anyhow!("cannot encode the private key"))?;
    // Uncompressed point: 0x04 ‖ x ‖ y.
    let point = key.public_key().as_ref();
    let jwk = json!({
        "kty": "EC",
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    });
    let mut body = json!({ "ticket": ticket, "public_key": jwk });
    if let Some(n) = name {
        body["name"] = json!(n);
    }
    let resp = http
        .post(format!("{base_url}push/v1/enroll"))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach {base_url}"))?;
    let answer: Value = expect_status(resp, 201).await?.json().await?;
    let device_id = answer["device_id"].as_str().context("the server sent no device_id")?.to_string();
    let saved = DeviceState {
        base_url,
        device_id: device_id.clone(),
        private_key_pkcs8: STANDARD.encode(pkcs8.as_ref()),
        public_jwk: jwk,
    };
    crate::write_owner_only(state, &serde_json::to_vec_pretty(&saved)?)?;
    Ok(device_id)
}

/// An open challenge as the server lists it.
#[derive(Deserialize)]
struct Challenge {
    id: String,
    binding_message: String,
}

/// An enrolled device, loaded from its state file.
struct Device {
    state: DeviceState,
    key: EcdsaKeyPair,
}

impl Device {
    fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let state: DeviceState =
            serde_json::from_slice(&text).with_context(|| format!("{} is not a device state file", path.display()))?;
        let der = STANDARD.decode(&state.private_key_pkcs8).context("the state file's private key is not base64")?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|_| anyhow::anyhow!("the state file's private key is not a P-256 PKCS#8 key"))?;
        Ok(Self { state, key })
    }

    /// `Authorization: Device <JWS>` for one request.
    fn proof(&self, method: &str, url: &str) -> anyhow::Result<String> {
        let iat = accountd_core::clock::now_millis() / 1000;
        let header = json!({ "typ": "device+jwt", "alg": "ES256" });
        let claims =
            json!({ "sub": self.state.device_id, "htm": method, "htu": url, "iat": iat, "jti": random_token::<16>() });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?)
        );
        let sig =
            self.key.sign(&SystemRandom::new(), input.as_bytes()).map_err(|_| anyhow::anyhow!("signing failed"))?;
        Ok(format!("Device {input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())))
    }

    async fn challenges(&self, http: &reqwest::Client) -> anyhow::Result<Vec<Challenge>> {
        let url = format!("{}push/v1/challenges", self.state.base_url);
        let resp = http.get(&url).header("authorization", self.proof("GET", &url)?).send().await?;
        let body: Value = expect_status(resp, 200).await?.json().await?;
        serde_json::from_value(body["challenges"].clone()).context("unexpected challenge list")
    }

    /// The oldest open challenge, asking every `POLL_EVERY` until `wait` has passed.
    async fn wait_for_challenge(&self, http: &reqwest::Client, wait: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(c) = self.challenges(http).await?.into_iter().next() {
                eprintln!("sign-in: {}", c.binding_message);
                return Ok(c.id);
            }
            if Instant::now() + POLL_EVERY > deadline {
                bail!("no sign-in is waiting for this device");
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    async fn answer(&self, http: &reqwest::Client, id: &str, approve: bool) -> anyhow::Result<()> {
        // The id is URL-safe base64, but a hand-typed one may not be.
        let url = format!("{}push/v1/challenges/{}", self.state.base_url, percent_encode(id));
        let resp = http
            .post(&url)
            .header("authorization", self.proof("POST", &url)?)
            .json(&json!({ "approve": approve }))
            .send()
            .await?;
        expect_status(resp, 204).await?;
        Ok(())
    }
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters pass).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcode_uris_give_ticket_and_base_url() {
        let uri = "otpauth://push/Acme:ada%40example.com?ticket=push-notification%7Cdev_abc.s3cr3t&base_url=http%3A%2F%2F127.0.0.1%3A8080%2F&issuer=Acme";
        let (ticket, base) = parse_barcode_uri(uri).unwrap();
        assert_eq!(ticket, "push-notification|dev_abc.s3cr3t");
        assert_eq!(base, "http://127.0.0.1:8080/");
        assert!(parse_barcode_uri("otpauth://totp/Acme:ada?secret=X").is_err());
        assert!(parse_barcode_uri("otpauth://push/Acme:ada?base_url=http%3A%2F%2Fa%2F").is_err());
    }
}
