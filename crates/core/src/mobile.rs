//! Mobiles as DingTalk takes them: national digits (state code 86 assumed) or `+CC-NNNN`.

use std::fmt;

/// The state code assumed for a mobile given as bare digits.
pub const DEFAULT_STATE_CODE: &str = "86";

/// A parsed mobile: country calling code and national digits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mobile {
    state_code: String,
    national: String,
}

/// Why a string is not a mobile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MobileError {
    /// Empty or only white space.
    #[error("mobile is empty")]
    Empty,
    /// Not national digits nor `+CC-NNNN`.
    #[error("mobile must be 11 digits starting with 1 (state code 86) or +CC-NNNN")]
    Malformed,
}

impl Mobile {
    /// Parses `15000009144` (state code 86) or `+852-91234567`, exactly: white space around the
    /// digits is malformed (a form body's unescaped `+` arrives as a space).
    ///
    /// Chinese (86) numbers must be 11 digits starting with `1`; other national numbers 4 to 15
    /// digits; state codes 1 to 4 digits without a leading zero.
    pub fn parse(input: &str) -> Result<Self, MobileError> {
        let s = input;
        if s.trim().is_empty() {
            return Err(MobileError::Empty);
        }
        let (state_code, national) = match s.strip_prefix('+') {
            Some(rest) => rest.split_once('-').ok_or(MobileError::Malformed)?,
            None => (DEFAULT_STATE_CODE, s),
        };
        Self::from_parts(state_code, national)
    }

    /// Builds a mobile from a state code and national digits, with the same rules as [`parse`](Self::parse).
    pub fn from_parts(state_code: &str, national: &str) -> Result<Self, MobileError> {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(state_code) || state_code.len() > 4 || state_code.starts_with('0') {
            return Err(MobileError::Malformed);
        }
        if !digits(national) {
            return Err(MobileError::Malformed);
        }
        let ok = if state_code == DEFAULT_STATE_CODE {
            national.len() == 11 && national.starts_with('1')
        } else {
            (4..=15).contains(&national.len())
        };
        if !ok {
            return Err(MobileError::Malformed);
        }
        Ok(Self {
            state_code: state_code.to_owned(),
            national: national.to_owned(),
        })
    }

    /// The country calling code, e.g. `"86"`.
    pub fn state_code(&self) -> &str {
        &self.state_code
    }

    /// The national digits, e.g. `"15000009144"`.
    pub fn national(&self) -> &str {
        &self.national
    }

    /// The national digits masked as DingTalk shows them to third-party enterprise apps:
    /// `155****3240`. Shorter numbers keep proportionally fewer digits, never more than half.
    pub fn masked(&self) -> String {
        let n = self.national.len();
        let (head, tail) = if n >= 11 { (3, 4) } else { (n / 4, n / 4) };
        format!("{}****{}", &self.national[..head], &self.national[n - tail..])
    }

    /// The canonical seed form: bare digits for state code 86, `+CC-NNNN` otherwise.
    pub fn seed_form(&self) -> String {
        if self.state_code == DEFAULT_STATE_CODE {
            self.national.clone()
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}-{}", self.state_code, self.national)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_accepted_forms() {
        let table = [
            ("15000009144", Some(("86", "15000009144"))),
            (" 15000009144 ", None),
            (" 852-91234567", None),
            ("+86-15000009144", Some(("86", "15000009144"))),
            ("+852-91234567", Some(("852", "91234567"))),
            ("+1-4155550100", Some(("1", "4155550100"))),
            ("1500000914", None),
            ("25000009144", None),
            ("+86-1500000914", None),
            ("+852 91234567", None),
            ("+852-", None),
            ("+-123456", None),
            ("+0852-91234567", None),
            ("+12345-91234567", None),
            ("+852-123", None),
            ("+852-1234567890123456", None),
            ("150-0000-9144", None),
            ("1500000914x", None),
            ("１５０００００９１４４", None),
        ];
        for (input, want) in table {
            let got = Mobile::parse(input).ok();
            let got = got.as_ref().map(|m| (m.state_code(), m.national()));
            assert_eq!(got, want, "{input:?}");
        }
        assert_eq!(Mobile::parse("  "), Err(MobileError::Empty));
        assert_eq!(Mobile::parse(""), Err(MobileError::Empty));
    }

    #[test]
    fn masks_like_dingtalk() {
        let table = [
            ("15532403240", "155****3240"),
            ("+852-91234567", "91****67"),
            ("+1-4155550100", "41****00"),
            ("+44-7700900123", "77****23"),
            ("+62-1234", "1****4"),
        ];
        for (input, want) in table {
            assert_eq!(Mobile::parse(input).unwrap().masked(), want, "{input}");
        }
    }

    #[test]
    fn seed_form_round_trips() {
        for input in ["15000009144", "+852-91234567"] {
            let m = Mobile::parse(input).unwrap();
            assert_eq!(m.seed_form(), input);
            assert_eq!(Mobile::parse(&m.seed_form()).unwrap(), m);
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any input parses or is refused, never panics; what parses is short, digits only, and
        /// reads back as itself (so a throttle key or a cache key is bounded and canonical).
        #[test]
        fn any_input_parses_to_a_bounded_canonical_mobile_or_is_refused(input in ".{0,64}") {
            if let Ok(m) = Mobile::parse(&input) {
                prop_assert!(m.national().bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(m.state_code().bytes().all(|b| b.is_ascii_digit()));
                prop_assert!(m.to_string().len() <= 40, "{}", m);
                prop_assert_eq!(Mobile::parse(&m.to_string()).ok(), Some(m.clone()));
                prop_assert_eq!(m.masked().chars().count() <= m.to_string().chars().count() + 4, true);
            }
        }

        /// National digits and `+CC-NNNN` of realistic lengths always parse.
        #[test]
        fn well_formed_mobiles_parse(cc in "[1-9][0-9]{0,2}", national in "1[3-9][0-9]{9}") {
            let m = Mobile::parse(&format!("+{cc}-{national}")).unwrap();
            prop_assert_eq!(m.state_code(), cc.as_str());
            let national = Mobile::parse(&national).unwrap();
            prop_assert_eq!(national.state_code(), "86");
        }
    }
}
