//! Stored passwords: Argon2id PHC strings for every password set here, and the PBKDF2-HMAC-SHA1
//! hashes of LambdAuth accounts carried over, verified until their owner's next login rehashes
//! them.
//!
//! Both live in one text field as a PHC string. The legacy form is
//! `$pbkdf2-sha1$i=4096,l=128$<salt>$<hash>`, where `<salt>` is the PHC Base64 of the exact salt
//! bytes LambdAuth used (the ASCII of its stored base64 *string*, not the bytes it decodes to)
//! and `<hash>` the PHC Base64 of the derived key. The `phc` crate caps salts at 48 bytes and
//! outputs at 64, below what LambdAuth stored, so this one form is encoded and parsed here.

use std::fmt;
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::random::{Randomness, RandomnessUnavailable};
use crate::{NewPassword, PasswordAttempt};

/// The most memory a stored Argon2 hash may ask for (256 MiB, in KiB blocks).
pub const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
/// The most passes a stored Argon2 hash may ask for.
pub const MAX_ARGON2_TIME_COST: u32 = 16;
/// The most lanes a stored Argon2 hash may ask for.
pub const MAX_ARGON2_PARALLELISM: u32 = 8;
/// The most PBKDF2 iterations a stored legacy hash may ask for.
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// The longest PBKDF2 key a stored legacy hash may hold, in bytes.
pub const MAX_PBKDF2_KEY_BYTES: usize = 512;
/// The longest PBKDF2 salt a stored legacy hash may hold, in bytes.
pub const MAX_PBKDF2_SALT_BYTES: usize = 1024;
/// LambdAuth's iteration count.
pub const LEGACY_ITERATIONS: u32 = 4096;
/// LambdAuth's key length in bytes.
pub const LEGACY_KEY_BYTES: usize = 128;
/// The length of the salt of the dummy PBKDF2 derivation: LambdAuth's salts were the base64 text
/// of 128 random bytes.
const LEGACY_SALT_BYTES: usize = 172;

const LEGACY_IDENT: &str = "pbkdf2-sha1";
const SALT_BYTES: usize = 16;

/// Why a stored hash cannot be used, or a new one cannot be made. None of these is the client's
/// fault: each is an internal error.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HashError {
    /// The stored text is not a PHC string this service understands.
    #[error("the stored password hash is malformed: {0}")]
    Malformed(String),
    /// The PHC string names an algorithm this service does not verify.
    #[error("the stored password hash uses an unsupported algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// The cost parameters are beyond the bounds this service will spend on one verification.
    #[error("the stored password hash asks for costs beyond the accepted bounds")]
    CostOutOfBounds,
    /// Configured parameters are not valid Argon2 parameters.
    #[error("invalid Argon2 parameters: {0}")]
    InvalidParams(String),
    /// No random salt could be drawn.
    #[error(transparent)]
    Randomness(#[from] RandomnessUnavailable),
    /// The hash function failed.
    #[error("hashing failed: {0}")]
    Failed(String),
}

/// Argon2id cost parameters for new hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashingParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub time_cost: u32,
    /// Number of lanes.
    pub parallelism: u32,
}

impl Default for HashingParams {
    /// OWASP's first Argon2id configuration: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            time_cost: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

impl HashingParams {
    fn within_bounds(self) -> bool {
        self.memory_kib <= MAX_ARGON2_MEMORY_KIB
            && self.time_cost <= MAX_ARGON2_TIME_COST
            && self.parallelism <= MAX_ARGON2_PARALLELISM
    }

    fn to_argon2(self) -> Result<Params, HashError> {
        if !self.within_bounds() {
            return Err(HashError::CostOutOfBounds);
        }
        Params::new(self.memory_kib, self.time_cost, self.parallelism, None)
            .map_err(|e| HashError::InvalidParams(e.to_string()))
    }
}

/// A password hash as stored on a user item.
#[derive(Clone, PartialEq, Eq)]
pub enum StoredPassword {
    /// An Argon2id PHC string.
    Argon2id {
        /// The PHC string.
        phc: String,
        /// The parameters it was made with.
        params: HashingParams,
    },
    /// A PBKDF2-HMAC-SHA1 hash carried over from LambdAuth.
    LegacyPbkdf2Sha1 {
        /// Iteration count.
        iterations: u32,
        /// The salt bytes exactly as fed to PBKDF2.
        salt: Vec<u8>,
        /// The derived key.
        key: Vec<u8>,
    },
}

impl StoredPassword {
    /// Parses a stored PHC string, refusing cost parameters beyond the bounds.
    pub fn parse(text: &str) -> Result<Self, HashError> {
        if text.starts_with(&format!("${LEGACY_IDENT}$")) {
            return parse_legacy(text);
        }
        let hash = PasswordHash::new(text).map_err(|e| HashError::Malformed(e.to_string()))?;
        if hash.algorithm.as_str() != Algorithm::Argon2id.ident().as_str() {
            return Err(HashError::UnsupportedAlgorithm(
                hash.algorithm.as_str().to_owned(),
            ));
        }
        let params = Params::try_from(&hash).map_err(|e| HashError::Malformed(e.to_string()))?;
        let params = HashingParams {
            memory_kib: params.m_cost(),
            time_cost: params.t_cost(),
            parallelism: params.p_cost(),
        };
        if !params.within_bounds() {
            return Err(HashError::CostOutOfBounds);
        }
        if hash.salt.is_none() || hash.hash.is_none() {
            return Err(HashError::Malformed("salt or hash missing".to_owned()));
        }
        Ok(Self::Argon2id {
            phc: text.to_owned(),
            params,
        })
    }

    /// The hash LambdAuth stored as `passwordSalt` (a base64 string used as is) and
    /// `passwordHash` (base64 of a 128-byte PBKDF2-HMAC-SHA1 key, 4096 iterations).
    pub fn from_legacy(password_salt: &str, password_hash: &str) -> Result<Self, HashError> {
        let key = STANDARD
            .decode(password_hash.trim())
            .map_err(|e| HashError::Malformed(format!("passwordHash is not base64: {e}")))?;
        if key.len() != LEGACY_KEY_BYTES {
            return Err(HashError::Malformed(format!(
                "passwordHash holds {} bytes, not {LEGACY_KEY_BYTES}",
                key.len()
            )));
        }
        let salt = password_salt.as_bytes().to_vec();
        if salt.is_empty() || salt.len() > MAX_PBKDF2_SALT_BYTES {
            return Err(HashError::Malformed(
                "passwordSalt is empty or too long".to_owned(),
            ));
        }
        Ok(Self::LegacyPbkdf2Sha1 {
            iterations: LEGACY_ITERATIONS,
            salt,
            key,
        })
    }

    /// The PHC string to store.
    pub fn to_phc(&self) -> String {
        match self {
            Self::Argon2id { phc, .. } => phc.clone(),
            Self::LegacyPbkdf2Sha1 {
                iterations,
                salt,
                key,
            } => format!(
                "${LEGACY_IDENT}$i={iterations},l={}${}${}",
                key.len(),
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(key)
            ),
        }
    }

    /// Whether the hash should be replaced at the next successful login: every legacy hash, and
    /// every Argon2id hash made with other parameters than `current`.
    pub fn needs_rehash(&self, current: &HashingParams) -> bool {
        match self {
            Self::Argon2id { params, .. } => params != current,
            Self::LegacyPbkdf2Sha1 { .. } => true,
        }
    }

    /// Whether checking a password against this hash costs less than against one made with
    /// `current`: a legacy PBKDF2 hash, or Argon2id with less memory × passes. A mismatch against
    /// such a hash must pay the difference, or its time would tell an old account from a new one.
    pub fn costs_less_than(&self, current: &HashingParams) -> bool {
        match self {
            Self::Argon2id { params, .. } => {
                u64::from(params.memory_kib) * u64::from(params.time_cost)
                    < u64::from(current.memory_kib) * u64::from(current.time_cost)
            }
            Self::LegacyPbkdf2Sha1 { .. } => true,
        }
    }

    /// Whether this is a hash carried over from LambdAuth.
    pub fn is_legacy(&self) -> bool {
        matches!(self, Self::LegacyPbkdf2Sha1 { .. })
    }
}

/// Only the algorithm shows, never the salt or the hash.
impl fmt::Debug for StoredPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Argon2id { params, .. } => write!(f, "StoredPassword(argon2id {params:?})"),
            Self::LegacyPbkdf2Sha1 { iterations, .. } => {
                write!(f, "StoredPassword(pbkdf2-sha1 i={iterations})")
            }
        }
    }
}

fn parse_legacy(text: &str) -> Result<StoredPassword, HashError> {
    let malformed = |why: &str| HashError::Malformed(format!("legacy hash: {why}"));
    let mut fields = text.split('$');
    let (Some(""), Some(LEGACY_IDENT), Some(params), Some(salt), Some(key), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(malformed("expected $pbkdf2-sha1$i=N,l=N$salt$hash"));
    };
    let mut iterations = None;
    let mut key_len = None;
    for pair in params.split(',') {
        match pair.split_once('=') {
            Some(("i", value)) => iterations = value.parse::<u32>().ok(),
            Some(("l", value)) => key_len = value.parse::<usize>().ok(),
            _ => return Err(malformed("unknown parameter")),
        }
    }
    let (Some(iterations), Some(key_len)) = (iterations, key_len) else {
        return Err(malformed("i and l are required"));
    };
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS || key_len > MAX_PBKDF2_KEY_BYTES {
        return Err(HashError::CostOutOfBounds);
    }
    let salt = STANDARD_NO_PAD
        .decode(salt)
        .map_err(|_| malformed("salt is not PHC Base64"))?;
    let key = STANDARD_NO_PAD
        .decode(key)
        .map_err(|_| malformed("hash is not PHC Base64"))?;
    if key.len() != key_len || key.is_empty() {
        return Err(malformed("hash length does not match l"));
    }
    if salt.is_empty() || salt.len() > MAX_PBKDF2_SALT_BYTES {
        return Err(malformed("salt length out of range"));
    }
    Ok(StoredPassword::LegacyPbkdf2Sha1 {
        iterations,
        salt,
        key,
    })
}

/// The result of checking a password attempt against a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The attempt is the password.
    Match,
    /// It is not.
    Mismatch,
}

impl PasswordCheck {
    /// Whether the attempt matched.
    pub fn matched(self) -> bool {
        self == Self::Match
    }
}

/// How many Argon2 work areas a process keeps for reuse (one per concurrent hash).
const POOLED_WORK_AREAS: usize = 4;

/// Argon2 work areas kept between hashes. Allocating 19 MiB per hash makes the allocator keep
/// one heap of that size per thread that ever hashed, which in a 128 MB function is most of its
/// memory; reusing areas keeps the peak at one per concurrent hash. An area is always filled
/// before it is read, so what a previous hash left in it does not matter.
#[derive(Default)]
struct WorkAreas(Mutex<Vec<Vec<Block>>>);

impl WorkAreas {
    fn with<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let pooled = self.0.lock().ok().and_then(|mut pool| {
            let index = pool.iter().position(|area| area.len() == blocks)?;
            Some(pool.swap_remove(index))
        });
        let mut area = pooled.unwrap_or_else(|| vec![Block::default(); blocks]);
        let result = work(&mut area);
        if let Ok(mut pool) = self.0.lock()
            && pool.len() < POOLED_WORK_AREAS
        {
            pool.push(area);
        }
        result
    }
}

/// Hashes new passwords and verifies attempts. Build one per process and share it.
#[derive(Clone)]
pub struct PasswordHasher {
    params: HashingParams,
    argon2: Argon2<'static>,
    argon2_params: Params,
    dummy: StoredPassword,
    legacy_dummy: StoredPassword,
    work_areas: Arc<WorkAreas>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher making Argon2id hashes with `params`.
    ///
    /// It also draws the dummy hash that unknown users are checked against. Building the dummy
    /// costs no hashing: it only needs the same parameters as a real hash, so that verifying
    /// against it costs the same; its output is random bytes that no password produces.
    pub fn new(params: HashingParams, rng: &mut impl Randomness) -> Result<Self, HashError> {
        let argon2_params = params.to_argon2()?;
        let salt: [u8; SALT_BYTES] = rng.bytes()?;
        let output: [u8; Params::DEFAULT_OUTPUT_LEN] = rng.bytes()?;
        let dummy = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&argon2_params)
                .map_err(|e| HashError::InvalidParams(e.to_string()))?,
            salt: Some(Salt::new(&salt).map_err(|e| HashError::Failed(e.to_string()))?),
            hash: Some(Output::new(&output).map_err(|e| HashError::Failed(e.to_string()))?),
        };
        let legacy_salt: [u8; LEGACY_SALT_BYTES] = rng.bytes()?;
        let legacy_key: [u8; LEGACY_KEY_BYTES] = rng.bytes()?;
        Ok(Self {
            params,
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params.clone()),
            argon2_params,
            dummy: StoredPassword::Argon2id {
                phc: dummy.to_string(),
                params,
            },
            legacy_dummy: StoredPassword::LegacyPbkdf2Sha1 {
                iterations: LEGACY_ITERATIONS,
                salt: legacy_salt.to_vec(),
                key: legacy_key.to_vec(),
            },
            work_areas: Arc::new(WorkAreas::default()),
        })
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> HashingParams {
        self.params
    }

    /// Hashes a password being set. CPU-heavy: call it off the async executor.
    pub fn hash(
        &self,
        password: &NewPassword,
        rng: &mut impl Randomness,
    ) -> Result<StoredPassword, HashError> {
        self.hash_text(password.normalized(), rng)
    }

    /// Hashes an attempt that just matched a hash needing replacement (a rehash at login).
    pub fn rehash(
        &self,
        attempt: &PasswordAttempt,
        rng: &mut impl Randomness,
    ) -> Result<StoredPassword, HashError> {
        self.hash_text(attempt.normalized(), rng)
    }

    fn hash_text(
        &self,
        text: &str,
        rng: &mut impl Randomness,
    ) -> Result<StoredPassword, HashError> {
        let salt: [u8; SALT_BYTES] = rng.bytes()?;
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.work_areas
            .with(self.argon2_params.block_count(), |area| {
                self.argon2.hash_password_into_with_memory(
                    text.as_bytes(),
                    &salt,
                    &mut output,
                    area,
                )
            })
            .map_err(|e| HashError::Failed(e.to_string()))?;
        let failed = |e: argon2::password_hash::phc::Error| HashError::Failed(e.to_string());
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.argon2_params)
                .map_err(|e| HashError::InvalidParams(e.to_string()))?,
            salt: Some(Salt::new(&salt).map_err(failed)?),
            hash: Some(Output::new(&output).map_err(failed)?),
        };
        Ok(StoredPassword::Argon2id {
            phc: hash.to_string(),
            params: self.params,
        })
    }

    /// Computes an Argon2id PHC hash again for `password` and compares it in constant time.
    fn verify_argon2(&self, password: &[u8], phc: &str) -> Result<bool, HashError> {
        let malformed = |e: &dyn fmt::Display| HashError::Malformed(e.to_string());
        let hash = PasswordHash::new(phc).map_err(|e| malformed(&e))?;
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
            return Err(HashError::Malformed("salt or hash missing".to_owned()));
        };
        let params = Params::try_from(&hash).map_err(|e| malformed(&e))?;
        let version = hash
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|e| malformed(&e))?
            .unwrap_or_default();
        let blocks = params.block_count();
        let context = Argon2::new(Algorithm::Argon2id, version, params);
        let mut output = vec![0u8; expected.len()];
        self.work_areas
            .with(blocks, |area| {
                context.hash_password_into_with_memory(password, salt, &mut output, area)
            })
            .map_err(|e| HashError::Failed(e.to_string()))?;
        Ok(bool::from(output.as_slice().ct_eq(expected.as_ref())))
    }

    /// Checks an attempt against a stored hash. CPU-heavy: call it off the async executor.
    ///
    /// Argon2id hashes are compared with the NFKC form of the attempt; legacy hashes with the
    /// text exactly as sent, which is what LambdAuth hashed.
    pub fn verify(
        &self,
        attempt: &PasswordAttempt,
        stored: &StoredPassword,
    ) -> Result<PasswordCheck, HashError> {
        let matched = match stored {
            StoredPassword::Argon2id { phc, .. } => {
                self.verify_argon2(attempt.normalized().as_bytes(), phc)?
            }
            StoredPassword::LegacyPbkdf2Sha1 {
                iterations,
                salt,
                key,
            } => {
                let mut derived = vec![0u8; key.len()];
                pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
                    attempt.as_sent().as_bytes(),
                    salt,
                    *iterations,
                    &mut derived,
                );
                bool::from(derived.ct_eq(key))
            }
        };
        Ok(if matched {
            PasswordCheck::Match
        } else {
            PasswordCheck::Mismatch
        })
    }

    /// The whole check of a password attempt against `stored` (`None`: the address has no
    /// account), with the attempt hashed anew when it matched a hash that needs replacing.
    ///
    /// Every path does the same work: one Argon2id computation at today's cost and one PBKDF2
    /// derivation of LambdAuth's shape, whichever of them is real and whichever a dummy. So the
    /// time of the answer tells neither an unknown address, nor a carried-over (PBKDF2) hash,
    /// nor an older Argon2id cost, nor a match from a mismatch. Where the stored hash is the
    /// cheaper one, a dummy pays the difference instead of a second real check: the rest of
    /// today's Argon2id cost after an older one, today's whole cost after a PBKDF2 one.
    pub fn check_attempt(
        &self,
        attempt: &PasswordAttempt,
        stored: Option<&StoredPassword>,
        rng: &mut impl Randomness,
    ) -> Result<(PasswordCheck, Option<StoredPassword>), HashError> {
        let Some(stored) = stored else {
            self.verify(attempt, &self.dummy)?;
            self.verify(attempt, &self.legacy_dummy)?;
            return Ok((PasswordCheck::Mismatch, None));
        };
        let check = self.verify(attempt, stored)?;
        let rehashed = if check.matched() && stored.needs_rehash(&self.params) {
            Some(self.rehash(attempt, rng)?)
        } else {
            None
        };
        let todays_argon2_paid =
            rehashed.is_some() || (!stored.is_legacy() && !stored.costs_less_than(&self.params));
        if !todays_argon2_paid {
            match stored {
                // An older, cheaper Argon2id check was paid: only the rest of today's cost.
                StoredPassword::Argon2id { params, .. } => self.pay_the_rest(attempt, params)?,
                StoredPassword::LegacyPbkdf2Sha1 { .. } => {
                    self.verify(attempt, &self.dummy)?;
                }
            }
        }
        if !stored.is_legacy() {
            self.verify(attempt, &self.legacy_dummy)?;
        }
        Ok((check, rehashed))
    }

    /// Spends, after a check against an Argon2id hash made with `paid`, the rest of what one at
    /// today's cost would have: Argon2id's work grows with memory × passes, so one pass over the
    /// memory the two differ by.
    fn pay_the_rest(
        &self,
        attempt: &PasswordAttempt,
        paid: &HashingParams,
    ) -> Result<(), HashError> {
        let today = u64::from(self.params.memory_kib) * u64::from(self.params.time_cost);
        let spent = u64::from(paid.memory_kib) * u64::from(paid.time_cost);
        let rest = u32::try_from(today.saturating_sub(spent)).unwrap_or(u32::MAX);
        if rest < Params::MIN_M_COST {
            return Ok(());
        }
        let params =
            Params::new(rest, 1, 1, None).map_err(|e| HashError::InvalidParams(e.to_string()))?;
        let context = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.work_areas
            .with(params.block_count(), |area| {
                context.hash_password_into_with_memory(
                    attempt.normalized().as_bytes(),
                    &[0u8; SALT_BYTES],
                    &mut output,
                    area,
                )
            })
            .map_err(|e| HashError::Failed(e.to_string()))
    }

    /// Spends what verifying a real hash would, for an email that has no account, so that the
    /// time of an answer does not tell whether the account exists. Always a mismatch.
    pub fn verify_unknown_user(
        &self,
        attempt: &PasswordAttempt,
    ) -> Result<PasswordCheck, HashError> {
        self.verify(attempt, &self.dummy)?;
        Ok(PasswordCheck::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::testing::CountingRandomness;
    use crate::{Email, PasswordPolicy};

    /// Cheap parameters so the unit tests stay fast; the defaults are covered once below.
    fn cheap() -> HashingParams {
        HashingParams {
            memory_kib: 64,
            time_cost: 1,
            parallelism: 1,
        }
    }

    fn hasher(params: HashingParams) -> PasswordHasher {
        PasswordHasher::new(params, &mut CountingRandomness(7)).unwrap()
    }

    fn new_password(raw: &str) -> NewPassword {
        NewPassword::new(
            raw,
            &Email::parse("x@example.com").unwrap(),
            &PasswordPolicy::default(),
        )
        .unwrap()
    }

    fn attempt(raw: &str) -> PasswordAttempt {
        PasswordAttempt::new(raw).unwrap()
    }

    #[test]
    fn legacy_and_older_argon2_hashes_cost_less_than_todays() {
        let today = HashingParams::default();
        let older = StoredPassword::parse(
            "$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        )
        .unwrap();
        assert!(older.costs_less_than(&today));
        let current = StoredPassword::parse(&format!(
            "$argon2id$v=19$m={},t={},p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
            today.memory_kib, today.time_cost
        ))
        .unwrap();
        assert!(!current.costs_less_than(&today));
        let costlier = HashingParams {
            memory_kib: 4096,
            time_cost: 1,
            ..today
        };
        assert!(!current.costs_less_than(&costlier));
    }

    #[test]
    fn an_argon2id_round_trip_with_the_default_parameters() {
        let hasher = hasher(HashingParams::default());
        let stored = hasher
            .hash(
                &new_password("correct horse battery staple"),
                &mut CountingRandomness(1),
            )
            .unwrap();
        let phc = stored.to_phc();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let parsed = StoredPassword::parse(&phc).unwrap();
        assert_eq!(parsed, stored);
        assert!(!parsed.needs_rehash(&HashingParams::default()));
        assert_eq!(
            hasher
                .verify(&attempt("correct horse battery staple"), &parsed)
                .unwrap(),
            PasswordCheck::Match
        );
        assert_eq!(
            hasher
                .verify(&attempt("correct horse battery stapler"), &parsed)
                .unwrap(),
            PasswordCheck::Mismatch
        );
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crates_own_verifier() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = hasher(cheap());
        let ours = hasher
            .hash(
                &new_password("correct horse battery staple"),
                &mut CountingRandomness(5),
            )
            .unwrap();
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            cheap().to_argon2().unwrap(),
        );
        reference
            .verify_password(b"correct horse battery staple", ours.to_phc().as_str())
            .unwrap();
        let theirs = reference
            .hash_password_with_salt(b"correct horse battery staple", b"somesaltsomesalt")
            .unwrap()
            .to_string();
        let stored = StoredPassword::parse(&theirs).unwrap();
        assert!(
            hasher
                .verify(&attempt("correct horse battery staple"), &stored)
                .unwrap()
                .matched()
        );
        assert!(
            !hasher
                .verify(&attempt("correct horse battery stapler"), &stored)
                .unwrap()
                .matched()
        );
    }

    #[test]
    fn new_hashes_compare_the_normalized_form() {
        let hasher = hasher(cheap());
        let stored = hasher
            .hash(
                &new_password("ｆｕｌｌｗｉｄｔｈ-horse-battery"),
                &mut CountingRandomness(2),
            )
            .unwrap();
        assert!(
            hasher
                .verify(&attempt("fullwidth-horse-battery"), &stored)
                .unwrap()
                .matched()
        );
        assert!(
            hasher
                .verify(&attempt("ｆｕｌｌｗｉｄｔｈ-horse-battery"), &stored)
                .unwrap()
                .matched()
        );
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        let hasher = hasher(cheap());
        let password = new_password("correct horse battery staple");
        let mut rng = CountingRandomness(3);
        let a = hasher.hash(&password, &mut rng).unwrap();
        let b = hasher.hash(&password, &mut rng).unwrap();
        assert_ne!(a.to_phc(), b.to_phc());
    }

    #[test]
    fn other_parameters_need_a_rehash() {
        let stored = hasher(cheap())
            .hash(
                &new_password("correct horse battery staple"),
                &mut CountingRandomness(4),
            )
            .unwrap();
        assert!(stored.needs_rehash(&HashingParams::default()));
        assert!(!stored.needs_rehash(&cheap()));
    }

    #[test]
    fn absurd_stored_costs_are_refused_before_any_work() {
        for phc in [
            "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "$argon2id$v=19$m=19456,t=2,p=64$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "$pbkdf2-sha1$i=100000000,l=128$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "$pbkdf2-sha1$i=4096,l=100000$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
        ] {
            assert_eq!(
                StoredPassword::parse(phc),
                Err(HashError::CostOutOfBounds),
                "{phc}"
            );
        }
    }

    #[test]
    fn configured_costs_are_bounded_too() {
        let too_much = HashingParams {
            memory_kib: MAX_ARGON2_MEMORY_KIB + 1,
            ..HashingParams::default()
        };
        assert_eq!(
            PasswordHasher::new(too_much, &mut CountingRandomness(1)).unwrap_err(),
            HashError::CostOutOfBounds
        );
    }

    #[test]
    fn malformed_and_foreign_hashes_are_refused() {
        assert!(matches!(
            StoredPassword::parse("plaintext"),
            Err(HashError::Malformed(_))
        ));
        assert!(matches!(
            StoredPassword::parse("$pbkdf2-sha1$i=4096$abc$def"),
            Err(HashError::Malformed(_))
        ));
        assert!(matches!(
            StoredPassword::parse(
                "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"
            ),
            Err(HashError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn a_whole_check_answers_as_the_stored_hash_says_and_rehashes_only_what_matched_an_old_one() {
        let hasher = hasher(cheap());
        let mut rng = CountingRandomness(3);
        let today = hasher
            .hash(&new_password("correct horse battery staple"), &mut rng)
            .unwrap();
        let older = PasswordHasher::new(
            HashingParams {
                memory_kib: 32,
                ..cheap()
            },
            &mut rng,
        )
        .unwrap()
        .hash(&new_password("correct horse battery staple"), &mut rng)
        .unwrap();
        let right = attempt("correct horse battery staple");
        let wrong = attempt("correct horse battery stapler");
        let (check, rehashed) = hasher
            .check_attempt(&right, Some(&today), &mut rng)
            .unwrap();
        assert!(check.matched() && rehashed.is_none());
        let (check, rehashed) = hasher
            .check_attempt(&right, Some(&older), &mut rng)
            .unwrap();
        assert!(check.matched());
        assert!(!rehashed.unwrap().needs_rehash(&cheap()));
        for stored in [Some(&today), Some(&older), None] {
            let (check, rehashed) = hasher.check_attempt(&wrong, stored, &mut rng).unwrap();
            assert!(!check.matched() && rehashed.is_none());
        }
        let StoredPassword::LegacyPbkdf2Sha1 {
            iterations, key, ..
        } = &hasher.legacy_dummy
        else {
            panic!("the legacy dummy must be a PBKDF2 hash");
        };
        assert_eq!(
            (*iterations, key.len()),
            (LEGACY_ITERATIONS, LEGACY_KEY_BYTES)
        );
    }

    #[test]
    fn the_dummy_hash_costs_a_verification_and_never_matches() {
        let hasher = hasher(cheap());
        assert_eq!(
            hasher
                .verify_unknown_user(&attempt("anything at all"))
                .unwrap(),
            PasswordCheck::Mismatch
        );
        let StoredPassword::Argon2id { params, .. } = &hasher.dummy else {
            panic!("the dummy must be an Argon2id hash");
        };
        assert_eq!(*params, cheap());
    }

    #[test]
    fn debug_output_hides_salt_and_hash() {
        let stored = StoredPassword::from_legacy("c2FsdA==", &STANDARD.encode([7u8; 128])).unwrap();
        assert_eq!(format!("{stored:?}"), "StoredPassword(pbkdf2-sha1 i=4096)");
    }

    #[test]
    fn a_legacy_hash_survives_a_phc_round_trip() {
        let stored = StoredPassword::from_legacy("c2FsdA==", &STANDARD.encode([7u8; 128])).unwrap();
        let phc = stored.to_phc();
        assert!(phc.starts_with("$pbkdf2-sha1$i=4096,l=128$"), "{phc}");
        assert_eq!(StoredPassword::parse(&phc).unwrap(), stored);
        assert!(stored.needs_rehash(&HashingParams::default()));
    }

    #[test]
    fn legacy_input_that_is_not_a_lambdauth_hash_is_refused() {
        assert!(StoredPassword::from_legacy("salt", "not base64!").is_err());
        assert!(StoredPassword::from_legacy("salt", &STANDARD.encode([1u8; 20])).is_err());
        assert!(StoredPassword::from_legacy("", &STANDARD.encode([1u8; 128])).is_err());
    }
}
