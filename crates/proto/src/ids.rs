//! DingTalk's identifiers as newtypes, so that a [`UserId`] cannot go where a [`UnionId`] is due.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The identifier as it goes on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

id_newtype!(
    /// An organisation's id: `ding` followed by 32 lower-case hex digits.
    CorpId
);
id_newtype!(
    /// A member's id inside one corp; unique there and never changed.
    UserId
);
id_newtype!(
    /// A person's id across the apps of one developer account (a corp or an ISV).
    UnionId
);
id_newtype!(
    /// A person's id inside one app.
    OpenId
);
id_newtype!(
    /// An app's key, which is also its OAuth `client_id` (and a suite's `suiteKey`).
    AppKey
);
