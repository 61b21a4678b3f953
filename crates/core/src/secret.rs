//! Secrets at rest (Argon2id), digests of the tokens the store keeps, and fresh random tokens.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Why a secret could not be hashed or read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The operating system's random source failed.
    #[error("random source failed: {0}")]
    Random(String),
    /// Hashing failed, or a stored hash is not an Argon2 PHC string.
    #[error("{0}")]
    Hash(String),
}

/// Hashes `secret` with Argon2id and a fresh salt, as a PHC string.
pub fn hash(secret: &str) -> Result<String, SecretError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| SecretError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| SecretError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// Whether `hash` is an Argon2 PHC string that [`verify`] can read.
pub fn is_valid_hash(hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| h.algorithm.as_str().starts_with("argon2"))
}

/// Checks `secret` against a PHC string in constant time; a malformed hash never matches.
pub fn verify(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok())
}

/// [`verify`] with Argon2's working memory from `blocks` (grown to what the hash's parameters
/// need, and kept): a thread that checks many secrets allocates its 19 MiB once.
pub fn verify_reusing(secret: &str, hash: &str, blocks: &mut Vec<argon2::Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = argon2::Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(secret.as_bytes(), salt, &mut out, &mut blocks[..needed])
        .is_ok()
        && same(&out, expected.as_bytes())
}

/// Compares two byte strings without an early exit, so timing does not reveal where they differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// HMAC-SHA256 of `message` under `key`, labelled so one key's tags for two purposes differ:
/// 64 lower-case hex.
pub fn tag(key: &[u8], label: &str, message: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(label.as_bytes());
    mac.update(b"\0");
    mac.update(message);
    crate::ident::hex(&mac.finalize().into_bytes())
}

/// The stored form of a token, code or refresh token: SHA-256 as 64 lower-case hex. The store
/// keeps only this, so a copy of it holds nothing a client could present; lookups are by digest.
/// A token carries 128 random bits, so no salt or slow hash is needed.
pub fn digest(token: &str) -> String {
    crate::ident::hex(&Sha256::digest(token.as_bytes()))
}

/// The key an internal app's tokens are derived with: Argon2id of its secret, salted with its
/// key. Slow on purpose: the store holds a token's digest and nonce, and with a fast key a reader
/// could test guesses of the secret at hash speed; with this one, only at Argon2's.
pub fn app_token_key(app_secret: &str, app_key: &str, blocks: &mut Vec<argon2::Block>) -> Option<[u8; 32]> {
    let salt = Sha256::digest(format!("dingdir app token key\0{app_key}").as_bytes());
    let params = argon2::Params::default();
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, argon2::Block::default());
    }
    let mut out = [0u8; 32];
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into_with_memory(app_secret.as_bytes(), &salt[..16], &mut out, &mut blocks[..needed])
        .ok()?;
    Some(out)
}

/// An internal app's token, derived from its [`app_token_key`] and the nonce stored beside the
/// token's digest: any node can give a renewing app the same string, and a reader of the store,
/// who lacks the secret, cannot.
pub fn app_token(key: &[u8; 32], nonce: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(b"dingdir app token\0");
    mac.update(nonce.as_bytes());
    crate::ident::hex(&mac.finalize().into_bytes()[..16])
}

/// `n` random bytes as lower-case hex: `random_hex(16)` is a DingTalk-shaped token. WIRE.md §C5.
pub fn random_hex(n: usize) -> Result<String, SecretError> {
    Ok(crate::ident::hex(&random_bytes(n)?))
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, SecretError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash("s3cr3t/+=中").unwrap();
        let b = hash("s3cr3t/+=中").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(is_valid_hash(&a));
        assert!(verify("s3cr3t/+=中", &a));
        assert!(!verify("s3cr3t", &a));
        let mut blocks = Vec::new();
        assert!(verify_reusing("s3cr3t/+=中", &a, &mut blocks));
        assert!(!verify_reusing("s3cr3t", &a, &mut blocks));
        assert!(verify_reusing("s3cr3t/+=中", &b, &mut blocks), "the memory is reused");
        assert!(!verify_reusing("x", "not a hash", &mut blocks));
        assert!(!verify("x", "not a hash"));
        assert!(!is_valid_hash("$2b$12$abcdefghijklmnopqrstuv"));
    }

    #[test]
    fn digests_and_app_tokens_are_fixed_and_distinct() {
        let d = digest("0123456789abcdef0123456789abcdef");
        assert_eq!(d.len(), 64);
        assert_eq!(d, digest("0123456789abcdef0123456789abcdef"));
        assert_ne!(d, digest("0123456789abcdef0123456789abcdee"));
        let mut blocks = Vec::new();
        let key = app_token_key("secret", "dingapp", &mut blocks).unwrap();
        assert_eq!(Some(key), app_token_key("secret", "dingapp", &mut blocks));
        let other_secret = app_token_key("secret2", "dingapp", &mut blocks).unwrap();
        let other_app = app_token_key("secret", "dingapp2", &mut blocks).unwrap();
        assert_ne!(key, other_secret);
        assert_ne!(key, other_app, "salted with the app key");
        let t = app_token(&key, "nonce");
        assert_eq!(t.len(), 32);
        assert_eq!(t, app_token(&key, "nonce"));
        assert_ne!(t, app_token(&other_secret, "nonce"), "a new secret gives a new token");
        assert_ne!(t, app_token(&key, "nonce2"));
    }

    #[test]
    fn tokens_are_lower_hex() {
        let t = random_hex(16).unwrap();
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
}
