//! Identifiers that look like DingTalk's and stay stable: generated ids are derived from what the
//! seed names, and unionIds and openIds are encrypted person numbers, so no table maps them.
//!
//! A unionId is the 128-bit block `(person number, tag)` enciphered with a four-round Feistel
//! network keyed per developer account, written as 22 base62 digits plus DingTalk's usual `iEiE`
//! suffix. Decoding reverses the rounds and checks the tag, so an id that dingdir never issued in
//! that namespace is rejected without a store read. openIds use the same codec keyed per app.

use crate::model::{Developer, PersonId};
use base64::Engine as _;
use dingdir_proto::ids::{AppKey, CorpId, OpenId, UnionId, UserId};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &str = "iEiE";
const BODY_LEN: usize = 22;
const ROUNDS: u8 = 4;

/// The secret from which a store's unionIds and openIds are derived; fixed when the store is made.
#[derive(Clone, PartialEq, Eq)]
pub struct IdSecret([u8; 32]);

impl std::fmt::Debug for IdSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdSecret(<redacted>)")
    }
}

impl IdSecret {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Derives a secret from a passphrase (config `id_secret`, or the fixed one of `dev`).
    pub fn from_passphrase(passphrase: &str) -> Self {
        Self(Sha256::digest(passphrase.as_bytes()).into())
    }

    /// A fresh random secret.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// Lower-case hex, for storage.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Reads the stored hex form.
    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes = unhex(s)?;
        Some(Self(bytes.try_into().ok()?))
    }

    fn namespace(&self, label: &str) -> Codec {
        let mut mac = self.mac();
        mac.update(label.as_bytes());
        Codec(mac.finalize().into_bytes().into())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }

    /// An HMAC-SHA256 tag of `data` under a key derived for `label`: signs the sign-in forms,
    /// so any node sharing the store can check a form another node served.
    pub fn tag(&self, label: &str, data: &[u8]) -> [u8; 32] {
        let key = self.namespace(&format!("tag|{label}"));
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&key.0).unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The unionId of a person under a developer account.
    pub fn union_id(&self, developer: &Developer, person_number: u64) -> UnionId {
        UnionId(self.namespace(&format!("union|{developer}")).encode(person_number))
    }

    /// The person number behind a unionId of a developer account, if dingdir issued it there.
    pub fn person_of_union_id(&self, developer: &Developer, union_id: &str) -> Option<u64> {
        self.namespace(&format!("union|{developer}")).decode(union_id)
    }

    /// The openId of a person in an app.
    pub fn open_id(&self, app: &AppKey, person_number: u64) -> OpenId {
        OpenId(self.namespace(&format!("open|{app}")).encode(person_number))
    }
}

struct Codec([u8; 32]);

impl Codec {
    fn prf(&self, label: u8, x: u64) -> u64 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(&[label]);
        mac.update(&x.to_be_bytes());
        let out = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        u64::from_be_bytes(first)
    }

    fn encode(&self, number: u64) -> String {
        let (mut l, mut r) = (number, self.prf(0xff, number));
        for round in 0..ROUNDS {
            (l, r) = (r, l ^ self.prf(round, r));
        }
        let mut block = (u128::from(l) << 64) | u128::from(r);
        let mut body = [b'0'; BODY_LEN];
        for slot in body.iter_mut().rev() {
            *slot = BASE62[(block % 62) as usize];
            block /= 62;
        }
        let mut out = String::with_capacity(BODY_LEN + SUFFIX.len());
        out.extend(body.iter().map(|&b| char::from(b)));
        out.push_str(SUFFIX);
        out
    }

    fn decode(&self, id: &str) -> Option<u64> {
        let body = id.strip_suffix(SUFFIX)?;
        if body.len() != BODY_LEN {
            return None;
        }
        let mut block: u128 = 0;
        for b in body.bytes() {
            let digit = BASE62.iter().position(|&c| c == b)? as u128;
            block = block.checked_mul(62)?.checked_add(digit)?;
        }
        let (mut l, mut r) = ((block >> 64) as u64, block as u64);
        for round in (0..ROUNDS).rev() {
            (l, r) = (r ^ self.prf(round, l), l);
        }
        (r == self.prf(0xff, l)).then_some(l)
    }
}

fn sha256(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize().into()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Bytes from lower- or upper-case hex; `None` if malformed.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The corp id derived from a corp's name, for seeds that leave the id out: `ding` + 32 hex.
pub fn corp_id_for(name: &str) -> CorpId {
    CorpId(format!("ding{}", &hex(&sha256(&["corp", name]))[..32]))
}

/// The app key derived from an app's name, for seeds that leave the key out: `ding` + 16 of `[a-z0-9]`.
pub fn app_key_for(name: &str) -> AppKey {
    const ALNUM: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let digest = sha256(&["app", name]);
    let tail: String = digest[..16]
        .iter()
        .map(|b| char::from(ALNUM[usize::from(*b) % 36]))
        .collect();
    AppKey(format!("ding{tail}"))
}

/// The person id derived from what identifies a person in a seed: the mobile of a normal account,
/// or the owning corp and userid of an exclusive account.
pub fn person_id_for(natural_key: &[&str]) -> PersonId {
    let mut parts = vec!["person"];
    parts.extend_from_slice(natural_key);
    PersonId(format!("p{}", &hex(&sha256(&parts))[..20]))
}

/// The 64-bit number behind a person's unionIds and openIds.
pub fn person_number(id: &PersonId) -> u64 {
    let digest = sha256(&["number", &id.0]);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // Kept below 2^63 so every store can hold it in a signed 64-bit column.
    u64::from_be_bytes(first) >> 1
}

/// A system-made userid: 17 digits, as DingTalk makes when none is given. WIRE.md §C5.
pub fn userid_for(corp: &CorpId, person: &PersonId) -> UserId {
    let digest = sha256(&["userid", &corp.0, &person.0]);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let n = u64::from_be_bytes(first) % 90_000_000_000_000_000 + 10_000_000_000_000_000;
    UserId(n.to_string())
}

/// The `downloadCode` a person's file message carries: the upload's id, sealed in base64.
pub fn download_code(media_id: &str) -> String {
    format!(
        "dc{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(media_id)
    )
}

/// The upload a [`download_code`] names, when it is one.
pub fn media_of_download_code(code: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(code.strip_prefix("dc")?)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> IdSecret {
        IdSecret::from_passphrase("test")
    }

    #[test]
    fn union_ids_round_trip_and_look_like_dingtalk() {
        let dev = Developer::Corp(corp_id_for("Demo"));
        for n in [0, 1, 42, u64::MAX >> 1, u64::MAX] {
            let id = secret().union_id(&dev, n);
            assert_eq!(id.0.len(), 26, "{id}");
            assert!(id.0.ends_with("iEiE"));
            assert!(id.0.bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(secret().person_of_union_id(&dev, &id.0), Some(n));
        }
    }

    #[test]
    fn union_ids_are_scoped_per_developer_and_secret() {
        let a = Developer::Corp(corp_id_for("A"));
        let b = Developer::Isv("isv-b".into());
        let id = secret().union_id(&a, 7);
        assert_ne!(id, secret().union_id(&b, 7));
        assert_eq!(secret().person_of_union_id(&b, &id.0), None);
        assert_ne!(id, IdSecret::from_passphrase("other").union_id(&a, 7));
        assert_eq!(secret().union_id(&a, 7), id, "stable");
    }

    #[test]
    fn foreign_or_garbled_ids_decode_to_nothing() {
        let dev = Developer::Isv("x".into());
        let good = secret().union_id(&dev, 99).0;
        let mut flipped = good.clone().into_bytes();
        flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [
            "",
            "me",
            "iEiE",
            "zzzzzzzzzzzzzzzzzzzzzziEiE",
            "a b/c?d",
            &flipped,
            &good[..20],
        ] {
            assert_eq!(secret().person_of_union_id(&dev, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn open_ids_differ_per_app() {
        let one = secret().open_id(&AppKey("dingone".into()), 5);
        let two = secret().open_id(&AppKey("dingtwo".into()), 5);
        assert_ne!(one, two);
    }

    #[test]
    fn derived_ids_have_dingtalk_shapes() {
        let corp = corp_id_for("Demo Co");
        assert_eq!(corp.0.len(), 36);
        assert!(corp.0.starts_with("ding"));
        let key = app_key_for("Demo App");
        assert_eq!(key.0.len(), 20);
        let userid = userid_for(&corp, &person_id_for(&["15000009144"]));
        assert_eq!(userid.0.len(), 17);
        assert!(userid.0.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(IdSecret::from_hex(&secret().to_hex()), Some(secret()));
    }
}
