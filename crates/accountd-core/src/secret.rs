//! Secrets: the master key that seals private material at rest (AES-256-GCM), password hashing
//! (Argon2id, off the async runtime), random identifiers, and constant-time comparison.
//! Everything here calls a well-kept crate (aws-lc-rs, argon2); nothing is hand-rolled crypto.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
pub use zeroize::Zeroizing;

use crate::error::{Error, Result};
use tracing::Instrument as _;

/// The key that seals signing keys, TOTP secrets and upstream tokens at rest.
/// It never derives `Debug`, `Clone` or `Serialize`.
pub struct MasterKey {
    key: LessSafeKey,
}

/// Sealed data starts with this, so a future key or algorithm change can be recognised.
const SEALED_PREFIX: &str = "v1.";

impl MasterKey {
    /// Length of the raw key in bytes.
    pub const LEN: usize = 32;

    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != Self::LEN {
            return Err(Error::Internal(anyhow::anyhow!("master key must be 32 bytes")));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| Error::Internal(anyhow::anyhow!("master key rejected")))?;
        Ok(Self { key: LessSafeKey::new(unbound) })
    }

    /// A key from its base64 text form (as stored in the key file or given in configuration).
    pub fn from_base64(text: &str) -> Result<Self> {
        let raw = Zeroizing::new(
            STANDARD.decode(text.trim()).map_err(|_| Error::Internal(anyhow::anyhow!("master key is not base64")))?,
        );
        Self::from_bytes(&raw)
    }

    /// A new random key, returned in its base64 text form for storing.
    pub fn generate_base64() -> Zeroizing<String> {
        let raw = Zeroizing::new(random_bytes::<{ MasterKey::LEN }>());
        Zeroizing::new(STANDARD.encode(raw.as_slice()))
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. `signing_key:{tenant}:{kid}`) so a sealed
    /// value copied to another row does not open.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String> {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| Error::Internal(anyhow::anyhow!("seal failed")))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Decrypts what `seal` produced under the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>> {
        let fail = || Error::Internal(anyhow::anyhow!("sealed value does not open under this master key"));
        let body = sealed.strip_prefix(SEALED_PREFIX).ok_or_else(fail)?;
        let raw = URL_SAFE_NO_PAD.decode(body).map_err(|_| fail())?;
        if raw.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let len =
            self.key.open_in_place(nonce, Aad::from(context.as_bytes()), buf.as_mut_slice()).map_err(|_| fail())?.len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// `N` random bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // aws-lc's RNG only fails if the OS has no entropy source at all; then nothing is safe.
    if aws_lc_rs::rand::fill(&mut out).is_err() {
        panic!("the operating system's random number generator failed");
    }
    out
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random string of `len` characters from `[A-Za-z0-9]` (unbiased: bytes ≥ 248 are redrawn).
pub fn random_alnum(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<64>() {
            if b < 248 && out.len() < len {
                out.push(ALNUM[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// A random lowercase hex string of `2 * N` characters.
pub fn random_hex<const N: usize>() -> String {
    random_bytes::<N>().iter().map(|b| format!("{b:02x}")).collect()
}

/// A random URL-safe secret with `N` bytes of entropy.
pub fn random_token<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

/// SHA-256 of a high-entropy secret (client secrets), hex-encoded. Such secrets need no slow hash.
pub fn hash_high_entropy_secret(secret: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `presented` hashes to `stored_hash`, compared in constant time.
pub fn verify_high_entropy_secret(presented: &str, stored_hash: &str) -> bool {
    constant_time_eq(hash_high_entropy_secret(presented).as_bytes(), stored_hash.as_bytes())
}

/// Constant-time equality of two byte strings (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Argon2id parameters (OWASP's recommendation by default: 19 MiB, 2 passes, 1 lane) and the
/// pool the hashes run on.
#[derive(Debug, Clone)]
pub struct PasswordHashing {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Where hashes run: a few at a time, a bounded queue in front.
    pub pool: HashPool,
}

impl Default for PasswordHashing {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1, pool: HashPool::default() }
    }
}

/// A bounded pool for password hashes. Each Argon2id hash holds its memory cost (19 MiB by
/// default) while it runs, so `workers` hashes at most run at once, and at most `queue` more wait;
/// past that a hash is refused at once with [`Error::Busy`] (503 and `Retry-After` on the wire)
/// instead of queueing without end. Memory stays near `workers × memory_kib` whatever the
/// number of parallel sign-ins.
///
/// The hashes run on the pool's own threads, at a lower CPU priority (nice
/// [`HASHING_NICE`]) than the threads that answer requests: a burst of sign-ins takes the CPU the
/// other requests leave, rather than queueing every token read behind 20 ms hashes.
#[derive(Clone)]
pub struct HashPool {
    inner: std::sync::Arc<PoolInner>,
}

/// The niceness of the hashing threads (Linux; 0 is the default, 19 the lowest priority).
pub const HASHING_NICE: i32 = 10;

/// A hash to run, with the pool places it holds until it ends.
type HashJob = Box<dyn FnOnce() + Send>;

struct PoolInner {
    /// Permits for running and waiting hashes together.
    admitted: std::sync::Arc<tokio::sync::Semaphore>,
    /// Permits for running hashes.
    running: std::sync::Arc<tokio::sync::Semaphore>,
    /// The hashing threads' queue; they end when the pool is dropped.
    jobs: std::sync::mpsc::Sender<HashJob>,
    workers: usize,
    queue: usize,
}

impl std::fmt::Debug for HashPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashPool").field("workers", &self.inner.workers).field("queue", &self.inner.queue).finish()
    }
}

impl Default for HashPool {
    /// One worker per core, and 16 waiting per worker.
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self::new(workers, 16 * workers)
    }
}

impl HashPool {
    /// Hashes running now and hashes waiting for a worker (for metrics).
    pub fn load(&self) -> (usize, usize) {
        let i = &self.inner;
        let admitted = (i.workers + i.queue).saturating_sub(i.admitted.available_permits());
        let running = i.workers.saturating_sub(i.running.available_permits());
        (running, admitted.saturating_sub(running))
    }

    /// A pool running `workers` hashes at once (at least one) with `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        let (jobs, incoming) = std::sync::mpsc::channel::<HashJob>();
        let incoming = std::sync::Arc::new(std::sync::Mutex::new(incoming));
        for n in 0..workers {
            let incoming = incoming.clone();
            let spawned = std::thread::Builder::new().name(format!("accountd-hash-{n}")).spawn(move || {
                lower_priority();
                loop {
                    // The lock is held only to take a job, never while hashing.
                    let job = match incoming.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panicking hash fails its request, not the thread.
                        Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
                        Err(_) => return, // the pool is gone
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!("cannot start a hashing thread: {e}");
            }
        }
        Self {
            inner: std::sync::Arc::new(PoolInner {
                admitted: std::sync::Arc::new(tokio::sync::Semaphore::new(workers + queue)),
                running: std::sync::Arc::new(tokio::sync::Semaphore::new(workers)),
                jobs,
                workers,
                queue,
            }),
        }
    }

    /// A place in the pool, taken before any other work for a request that will hash, so that a
    /// full pool refuses the request before it spends anything else (an attempt, a write).
    pub fn admit(&self) -> Result<HashPermit> {
        match self.inner.admitted.clone().try_acquire_owned() {
            Ok(p) => Ok(HashPermit { admitted: p, pool: self.inner.clone() }),
            Err(_) => Err(Error::Busy { retry_after_secs: 1 }),
        }
    }
}

/// Lowers the calling thread's CPU priority to [`HASHING_NICE`]. Where that is refused, the
/// hashes still run, only at the default priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), HASHING_NICE) {
        tracing::debug!("hashing threads keep the default priority: {e}");
    }
}

/// A place in the [`HashPool`]; running a hash spends it.
pub struct HashPermit {
    admitted: tokio::sync::OwnedSemaphorePermit,
    pool: std::sync::Arc<PoolInner>,
}

impl HashPermit {
    /// Runs `work` on a hashing thread once one is free. The permits move into the job, so a
    /// request dropped mid-hash still holds its place until the hash ends.
    async fn run<T: Send + 'static>(self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let closed = || Error::Internal(anyhow::anyhow!("the hashing pool is closed"));
        // A trace shows the wait for a thread (`password_hashing` less its `argon2id` child) apart
        // from the hash itself.
        let span = tracing::info_span!("password_hashing");
        let running = self.pool.running.clone().acquire_owned().instrument(span.clone()).await.map_err(|_| closed())?;
        let admitted = self.admitted;
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move || {
            let out = tracing::info_span!(parent: &span, "argon2id").in_scope(work);
            drop((running, admitted));
            let _ = done.send(out); // the request may be gone
        });
        self.pool.jobs.send(job).map_err(|_| closed())?;
        answer.await.map_err(|_| Error::Internal(anyhow::anyhow!("a hashing thread failed")))
    }
}

impl PasswordHashing {
    fn argon2(&self) -> Result<argon2::Argon2<'static>> {
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| Error::Internal(anyhow::anyhow!("bad argon2 parameters: {e}")))?;
        Ok(argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params))
    }

    /// A place in the hashing pool (see [`HashPool::admit`]).
    pub fn admit(&self) -> Result<HashPermit> {
        self.pool.admit()
    }

    /// Hashes a password to a PHC string in the pool, never on the async runtime.
    pub async fn hash(&self, password: Zeroizing<String>) -> Result<String> {
        self.hash_with(self.admit()?, password).await
    }

    /// [`PasswordHashing::hash`] in a place taken earlier.
    pub async fn hash_with(&self, permit: HashPermit, password: Zeroizing<String>) -> Result<String> {
        use argon2::password_hash::PasswordHasher;
        let argon = self.argon2()?;
        permit
            .run(move || {
                argon
                    .hash_password(password.as_bytes())
                    .map(|h| h.to_string())
                    .map_err(|e| Error::Internal(anyhow::anyhow!("password hashing failed: {e}")))
            })
            .await?
    }

    /// Checks a password against a PHC string in the pool. The stored hash's own parameters are
    /// used, so raising the configured cost keeps old hashes valid.
    pub async fn verify(&self, password: Zeroizing<String>, phc: String) -> Result<bool> {
        self.verify_with(self.admit()?, password, phc).await
    }

    /// [`PasswordHashing::verify`] in a place taken earlier.
    pub async fn verify_with(&self, permit: HashPermit, password: Zeroizing<String>, phc: String) -> Result<bool> {
        use argon2::password_hash::PasswordVerifier;
        let argon = self.argon2()?;
        permit.run(move || argon.verify_password(password.as_bytes(), phc.as_str()).is_ok()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_is_bound_to_context() {
        let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let sealed = key.seal("ctx:a", b"private").unwrap();
        assert_eq!(key.open("ctx:a", &sealed).unwrap().as_slice(), b"private");
        assert!(key.open("ctx:b", &sealed).is_err(), "opened under another context");
        let other = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        assert!(other.open("ctx:a", &sealed).is_err(), "opened under another key");
        assert_ne!(key.seal("ctx:a", b"private").unwrap(), sealed, "nonce reused");
    }

    #[test]
    fn random_strings_have_the_promised_shape() {
        let s = random_alnum(32);
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(random_alnum(32), s);
        assert_eq!(random_hex::<12>().len(), 24);
    }

    #[test]
    fn high_entropy_secrets_verify() {
        let h = hash_high_entropy_secret("s3cret");
        assert!(verify_high_entropy_secret("s3cret", &h));
        assert!(!verify_high_entropy_secret("s3cres", &h));
    }

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let cheap = PasswordHashing { memory_kib: 1024, iterations: 1, parallelism: 1, pool: HashPool::new(1, 1) };
        let phc = cheap.hash(Zeroizing::new("correct horse".into())).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(cheap.verify(Zeroizing::new("correct horse".into()), phc.clone()).await.unwrap());
        assert!(!cheap.verify(Zeroizing::new("wrong horse".into()), phc).await.unwrap());
    }
}

#[cfg(test)]
mod pool_tests {
    use super::*;

    /// A full pool refuses at once; a place frees when its hash ends.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pool_refuses_instead_of_queueing() {
        let h = PasswordHashing { memory_kib: 1024, iterations: 1, parallelism: 1, pool: HashPool::new(1, 2) };
        let permits: Vec<_> = (0..3).map(|_| h.admit().expect("a place")).collect();
        assert!(matches!(h.admit(), Err(Error::Busy { .. })), "a fourth place was given in a pool of 1 + 2");
        let tasks: Vec<_> = permits
            .into_iter()
            .map(|p| {
                let h = h.clone();
                tokio::spawn(async move { h.hash_with(p, Zeroizing::new("pw".into())).await })
            })
            .collect();
        for t in tasks {
            assert!(t.await.expect("joined").is_ok());
        }
        assert!(h.admit().is_ok(), "places did not come back");
    }
}
