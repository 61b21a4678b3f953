//! HTTP event callbacks: an app's registration (URL, token, `aes_key`, the event types it wants),
//! its delivery state in the store, the events' bodies, and DingTalk's callback crypto. The
//! facts, with sources, are in docs/wire/writes-and-callbacks.md §2–4.

use crate::change::{Change, ChangeKind};
use crate::clock::Millis;
use crate::model::{App, AppKind};
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dingdir_proto::ids::{AppKey, CorpId};
use sha1::Digest;

pub use crate::model::{Callback, ReceiveId};

/// Whether the app wants events of this kind.
pub fn wants(cb: &Callback, kind: ChangeKind) -> bool {
    cb.events.is_empty() || cb.events.iter().any(|e| e == kind.event_type())
}

/// The kinds the app wants, for a log query; empty means all.
pub fn kinds(cb: &Callback) -> Vec<ChangeKind> {
    if cb.events.is_empty() {
        return Vec::new();
    }
    ChangeKind::ALL.into_iter().filter(|k| wants(cb, *k)).collect()
}

/// Checks what DingTalk checks when a callback is saved: an absolute `http`/`https` URL, a
/// token of 1 to 64 characters (the console asks 3–32 letters or digits, `register_call_back`
/// 6–64; either passes), and an `aes_key` of exactly 43 letters or digits.
pub fn check(cb: &Callback) -> Result<(), String> {
    let rest = cb
        .url
        .strip_prefix("http://")
        .or_else(|| cb.url.strip_prefix("https://"));
    if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
        return Err(format!("url `{}` is not an absolute http or https URL", cb.url));
    }
    if cb.token.is_empty() || cb.token.len() > 64 || cb.token.chars().any(char::is_whitespace) {
        return Err("token must be 1 to 64 characters without spaces".to_owned());
    }
    Crypto::new(&cb.token, &cb.aes_key)
        .map(|_| ())
        .map_err(|e| e.to_string())?;
    if let Some(bad) = cb
        .events
        .iter()
        .find(|e| e.is_empty() || !e.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    {
        return Err(format!("event type `{bad}` is not a call_back_tag"));
    }
    Ok(())
}

/// Why a callback registration was refused. docs/wire/writes-and-callbacks.md §2.6.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackRefusal {
    /// The app already has one (`register_call_back` a second time).
    #[error("the app already has a callback; update it instead")]
    Exists,
    /// The app has none (`update_call_back`, `get_call_back`, `delete_call_back`).
    #[error("the app has no callback")]
    Missing,
    /// A field is wrong: the URL, token, `aes_key` or an event type.
    #[error("{0}")]
    Invalid(String),
    /// The URL could not be reached, failed, or took longer than 1,500 ms to answer `check_url`.
    #[error("the callback URL did not answer check_url: {0}")]
    Unreachable(String),
    /// The URL answered `check_url` with something other than an encrypted `success`.
    #[error("the callback URL's answer to check_url was not an encrypted success: {0}")]
    NotSuccess(String),
}

/// Whether the app may receive contact events of `corp`: it is installed there and holds a
/// directory scope. **Guess**: DingTalk asks for a contact read permission before it lets an app
/// subscribe to contact events; which scope exactly is not documented.
pub fn permitted(app: &App, corp: &CorpId) -> bool {
    use dingdir_proto::scope::*;
    let installed = match app.kind {
        AppKind::Internal => app.corp_id.as_ref() == Some(corp),
        _ => app.authorized_corps.contains(corp),
    };
    installed
        && [
            QYAPI_GET_MEMBER,
            QYAPI_GET_DEPARTMENT_LIST,
            QYAPI_GET_DEPARTMENT_MEMBER,
            QYAPI_MANAGE_ADDRESSLIST,
            CONTACT_USER_READ,
        ]
        .iter()
        .any(|s| app.has_scope(s))
}

/// A registration with where its delivery stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackState {
    /// The registration.
    pub callback: Callback,
    /// The log position when it was registered: later entries are its events.
    pub registered_seq: i64,
    /// The last entry the receiver acknowledged (or skipped as not wanted).
    pub delivered_seq: i64,
    /// Failed attempts at the next entry since the last success.
    pub failures: u32,
    /// When the next attempt may be made.
    pub next_attempt_at: Millis,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// The node delivering for this app, and until when its lease holds.
    pub lease: Option<(String, Millis)>,
}

/// One attempt to deliver one entry to one app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The app.
    pub app_key: AppKey,
    /// The entry's position in the log.
    pub seq: i64,
    /// When the attempt ended.
    pub at: Millis,
    /// The node that made it.
    pub node: String,
    /// `None` when the receiver acknowledged it, otherwise why not.
    pub error: Option<String>,
}

/// How long to wait after the `failures`-th failure in a row: DingTalk's 10 s and 30 s
/// (docs/wire §2.8), then `schedule`'s later steps, the last one repeated. DingTalk gives up after
/// its second retry and lists the event as failed; dingdir keeps trying, so no event is lost.
pub fn backoff(schedule: &[Millis], failures: u32) -> Millis {
    let i = (failures.max(1) as usize - 1).min(schedule.len().saturating_sub(1));
    schedule.get(i).copied().unwrap_or(10_000)
}

/// DingTalk's schedule, then one minute, five minutes, and ten minutes from then on.
pub const DEFAULT_BACKOFF: [Millis; 5] = [10_000, 30_000, 60_000, 300_000, 600_000];

/// The decrypted body DingTalk sends for a logged change, in the classic shape real receivers
/// parse (docs/wire §3): `EventType`, `CorpId`, `UserId` (strings) or `DeptId` (numbers), and
/// `TimeStamp` (milliseconds, as a string).
pub fn event_body(change: &Change) -> String {
    let c = &change.change;
    let mut body = serde_json::Map::new();
    body.insert("EventType".into(), c.kind.event_type().into());
    body.insert("CorpId".into(), c.corp_id.0.clone().into());
    if c.kind.is_department() {
        let id = c
            .subject
            .parse::<i64>()
            .map_or_else(|_| c.subject.clone().into(), serde_json::Value::from);
        body.insert("DeptId".into(), vec![id].into());
    } else {
        body.insert("UserId".into(), vec![c.subject.clone()].into());
    }
    body.insert("TimeStamp".into(), change.at.to_string().into());
    serde_json::Value::Object(body).to_string()
}

/// What [`Crypto`] refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The `aes_key` is not 43 letters or digits.
    #[error("aes_key must be exactly 43 letters or digits")]
    BadKey,
    /// The signature does not match.
    #[error("signature does not match")]
    BadSignature,
    /// The ciphertext is not base64, not whole blocks, or its padding or length is wrong.
    #[error("encrypt is not a valid ciphertext")]
    BadCipher,
}

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// DingTalk's callback crypto for one token and `aes_key`: AES-256-CBC with the key
/// `base64(aes_key + "=")` and its first 16 bytes as IV, over `random(16) ‖ len (4, big-endian) ‖
/// message ‖ receiveid`, PKCS#7-padded to 32 bytes; signatures are SHA-1 over the sorted token,
/// timestamp, nonce and ciphertext.
#[derive(Clone)]
pub struct Crypto {
    token: String,
    key: [u8; 32],
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypto").finish_non_exhaustive()
    }
}

/// A message as sent on the wire: the query's signature, timestamp and nonce, and the body's
/// `encrypt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// `hex(sha1(sorted(token, timestamp, nonce, encrypt)))`.
    pub signature: String,
    /// The timestamp signed.
    pub timestamp: String,
    /// The nonce signed.
    pub nonce: String,
    /// The ciphertext, base64.
    pub encrypt: String,
}

impl Crypto {
    /// The crypto of a registration; fails unless `aes_key` is 43 letters or digits.
    pub fn new(token: &str, aes_key: &str) -> Result<Self, CryptoError> {
        if aes_key.len() != 43 || !aes_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CryptoError::BadKey);
        }
        // DingTalk's keys are random 43-character strings whose last character may carry bits
        // past the 32 bytes; the receivers' decoders (Python's, Java's) ignore them.
        const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        let bytes = LENIENT.decode(format!("{aes_key}=")).map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self {
            token: token.to_owned(),
            key,
        })
    }

    /// The signature of `encrypt` at `timestamp` with `nonce`.
    pub fn sign(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        let digest = sha1::Sha1::digest(parts.concat().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Encrypts `message` for `receive_id` with the given 16-byte prefix.
    pub fn encrypt_with(&self, message: &str, receive_id: &str, prefix: [u8; 16]) -> String {
        let mut plain = Vec::with_capacity(16 + 4 + message.len() + receive_id.len() + 32);
        plain.extend_from_slice(&prefix);
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(receive_id.as_bytes());
        let pad = 32 - plain.len() % 32;
        plain.resize(plain.len() + pad, pad as u8);
        let iv: [u8; 16] = prefix_of(&self.key);
        let cipher = Encryptor::new(&self.key.into(), &iv.into()).encrypt_padded_vec_mut::<NoPadding>(&plain);
        BASE64.encode(cipher)
    }

    /// Encrypts `message` for `receive_id` and signs it: what a sender puts on the wire.
    pub fn seal(&self, message: &str, receive_id: &str, timestamp: &str) -> Sealed {
        let prefix = random_alnum::<16>();
        let nonce = String::from_utf8_lossy(&random_alnum::<16>()).into_owned();
        let encrypt = self.encrypt_with(message, receive_id, prefix);
        Sealed {
            signature: self.sign(timestamp, &nonce, &encrypt),
            timestamp: timestamp.to_owned(),
            nonce,
            encrypt,
        }
    }

    /// Decrypts `encrypt`: the message and the receiveid that closed it.
    pub fn decrypt(&self, encrypt: &str) -> Result<(String, String), CryptoError> {
        let cipher = BASE64.decode(encrypt.trim()).map_err(|_| CryptoError::BadCipher)?;
        if cipher.is_empty() || cipher.len() % 16 != 0 {
            return Err(CryptoError::BadCipher);
        }
        let iv: [u8; 16] = prefix_of(&self.key);
        let plain = Decryptor::new(&self.key.into(), &iv.into())
            .decrypt_padded_vec_mut::<NoPadding>(&cipher)
            .map_err(|_| CryptoError::BadCipher)?;
        let pad = usize::from(*plain.last().ok_or(CryptoError::BadCipher)?);
        if pad == 0 || pad > 32 || pad > plain.len() {
            return Err(CryptoError::BadCipher);
        }
        let body = &plain[..plain.len() - pad];
        let len_bytes: [u8; 4] = body
            .get(16..20)
            .ok_or(CryptoError::BadCipher)?
            .try_into()
            .map_err(|_| CryptoError::BadCipher)?;
        let len = u32::from_be_bytes(len_bytes) as usize;
        let message = body.get(20..20 + len).ok_or(CryptoError::BadCipher)?;
        let receive_id = &body[20 + len..];
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| CryptoError::BadCipher);
        Ok((text(message)?, text(receive_id)?))
    }

    /// Checks a signed message and decrypts it, as a receiver does.
    pub fn open(&self, sealed: &Sealed) -> Result<(String, String), CryptoError> {
        if self.sign(&sealed.timestamp, &sealed.nonce, &sealed.encrypt) != sealed.signature.to_ascii_lowercase() {
            return Err(CryptoError::BadSignature);
        }
        self.decrypt(&sealed.encrypt)
    }
}

fn prefix_of(key: &[u8; 32]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&key[..16]);
    iv
}

/// `N` random letters and digits, as both DingTalk samples make prefixes and nonces.
fn random_alnum<const N: usize>() -> [u8; N] {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; N];
    // The OS generator failing is not recoverable anyway; a fixed prefix would still decrypt.
    let _ = getrandom::fill(&mut bytes);
    bytes.map(|b| ALPHABET[usize::from(b) % ALPHABET.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vector A of docs/wire/writes-and-callbacks.md §2.7: a reply DingTalk's docs show.
    const A_KEY: &str = "1234567890123456789012345678901234567890123";
    const A_ENCRYPT: &str = "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==";

    #[test]
    fn dingtalks_own_vector_verifies_and_decrypts() {
        let crypto = Crypto::new("123456", A_KEY).unwrap();
        let sealed = Sealed {
            signature: "9a95a004dd16f5c307e849b994173f76aa26e5eb".into(),
            timestamp: "1614767836".into(),
            nonce: "A7Co0cJLMzIDtMMI".into(),
            encrypt: A_ENCRYPT.into(),
        };
        assert_eq!(
            crypto.open(&sealed).unwrap(),
            ("success".to_owned(), "dingsnotzck6pm5veliw".to_owned())
        );
        let tampered = Sealed {
            nonce: "A7Co0cJLMzIDtMMJ".into(),
            ..sealed
        };
        assert_eq!(crypto.open(&tampered), Err(CryptoError::BadSignature));
    }

    #[test]
    fn keys_with_trailing_bits_are_read_as_dingtalk_reads_them() {
        // Vector C's key (DingTalk's Python sample) ends in a character with bits past 32 bytes.
        assert!(Crypto::new("mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7").is_ok());
    }

    #[test]
    fn sealing_round_trips_and_pads_to_32_byte_blocks() {
        let crypto = Crypto::new("tok", A_KEY).unwrap();
        for len in [0usize, 1, 11, 12, 13, 44, 100] {
            let msg = "x".repeat(len);
            let sealed = crypto.seal(&msg, "dingapp", "1700000000000");
            let raw = BASE64.decode(&sealed.encrypt).unwrap();
            assert_eq!(raw.len() % 32, 0, "{len}");
            assert_eq!(crypto.open(&sealed).unwrap(), (msg, "dingapp".to_owned()));
        }
    }

    #[test]
    fn bad_keys_and_ciphertexts_are_refused() {
        assert_eq!(Crypto::new("t", "short").unwrap_err(), CryptoError::BadKey);
        assert_eq!(Crypto::new("t", &"-".repeat(43)).unwrap_err(), CryptoError::BadKey);
        let crypto = Crypto::new("t", A_KEY).unwrap();
        for bad in ["", "!!!", "AAAA", &BASE64.encode([0u8; 32])] {
            assert_eq!(crypto.decrypt(bad), Err(CryptoError::BadCipher), "{bad}");
        }
    }

    #[test]
    fn bodies_use_the_classic_keys() {
        let change = |kind, subject: &str| Change {
            seq: 1,
            at: 1_700_000_000_123,
            change: crate::change::NewChange {
                corp_id: CorpId("dingcorp".into()),
                kind,
                subject: subject.into(),
            },
        };
        let user: serde_json::Value =
            serde_json::from_str(&event_body(&change(ChangeKind::UserAdd, "zhangsan"))).unwrap();
        assert_eq!(
            user,
            serde_json::json!({"EventType":"user_add_org","CorpId":"dingcorp","UserId":["zhangsan"],"TimeStamp":"1700000000123"})
        );
        let dept: serde_json::Value =
            serde_json::from_str(&event_body(&change(ChangeKind::DeptRemove, "103"))).unwrap();
        assert_eq!(dept["DeptId"], serde_json::json!([103]));
    }

    #[test]
    fn backoff_starts_with_dingtalks_retries_and_keeps_its_last_step() {
        assert_eq!(backoff(&DEFAULT_BACKOFF, 1), 10_000);
        assert_eq!(backoff(&DEFAULT_BACKOFF, 2), 30_000);
        assert_eq!(backoff(&DEFAULT_BACKOFF, 40), 600_000);
        assert_eq!(backoff(&[], 3), 10_000);
    }
}
