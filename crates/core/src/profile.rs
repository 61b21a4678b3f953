//! What GetUser answers for one person and one app, serialised once: the cached form of
//! [`crate::contact`]'s answer.

use dingdir_proto::api::GetUserResponse;

/// A person as GetUser shows them to one app: the wire answer, and its JSON. A profile is cached
/// and served many times, so it is serialised once, when it is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserProfile {
    answer: GetUserResponse,
    json: Box<[u8]>,
}

impl UserProfile {
    pub(crate) fn new(answer: GetUserResponse) -> Self {
        // Strings and a bool into a Vec: serde_json cannot fail here.
        let json = serde_json::to_vec(&answer).unwrap_or_default().into_boxed_slice();
        Self { answer, json }
    }

    /// The answer. Empty fields are `None` and left off the wire; `mobile` and `state_code`
    /// need `Contact.User.mobile`, and a third-party enterprise app sees the mobile masked.
    pub fn answer(&self) -> &GetUserResponse {
        &self.answer
    }

    /// The answer serialised, as the wire carries it.
    pub fn json(&self) -> &[u8] {
        &self.json
    }
}
