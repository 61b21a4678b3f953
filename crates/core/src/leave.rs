//! Departed members as the new gateway lists them: `GET /v1.0/contact/empLeaveRecords`, a time
//! window paged oldest first. docs/wire/directory-read.md §2.16.

use crate::error::Error;
use crate::ident::{hex, unhex};
use crate::iso_time;
use crate::model::AppKind;
use crate::service::{Caller, Service};
use crate::store::DirectoryStore;
use crate::token::TokenKind;
use dingdir_proto::api::{EmpLeaveRecord, ListEmpLeaveRecordsRequest, ListEmpLeaveRecordsResponse};
use dingdir_proto::ids::UserId;
use dingdir_proto::scope::CONTACT_COMMON_READ;

/// The most records a page holds (the API page's limit).
const MAX_RESULTS: i64 = 50;
/// The longest window, and how far back a window without an end may start: 365 days.
const MAX_SPAN_MS: i64 = 365 * 86_400_000;

/// A page's `nextToken`: the last record's departure time and userid, opaque to the caller.
fn encode_token(at: i64, userid: &UserId) -> String {
    hex(format!("{at}:{}", userid.0).as_bytes())
}

/// The position a `nextToken` names; `None` for a token dingdir did not write.
fn decode_token(token: &str) -> Option<(i64, UserId)> {
    let text = String::from_utf8(unhex(token)?).ok()?;
    let (at, userid) = text.split_once(':')?;
    Some((at.parse().ok()?, UserId(userid.to_owned())))
}

impl Service {
    /// `GET /v1.0/contact/empLeaveRecords`: the caller's corp's members who departed in the
    /// window, by departure time then userid. An internal app's token with `Contact.Common.Read`;
    /// every bad parameter is `入参错误` naming it.
    pub async fn leave_records(
        &self,
        caller: &Caller,
        req: &ListEmpLeaveRecordsRequest,
    ) -> Result<ListEmpLeaveRecordsResponse, Error> {
        let scope = CONTACT_COMMON_READ;
        if caller.kind != TokenKind::App {
            return Err(Error::WrongTokenKind { scope });
        }
        if caller.app.kind != AppKind::Internal {
            return Err(Error::WrongAppType { scope });
        }
        if !caller.app.has_scope(scope) {
            return Err(Error::ScopeMissing { scope });
        }
        let corp = caller.app.corp_id.as_ref().ok_or(Error::WrongAppType { scope })?;
        let bad = |name| Error::IllegalParameter { name };
        let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let start = present(&req.start_time).ok_or(bad("startTime"))?;
        let start = iso_time::parse(&start).ok_or(bad("startTime"))?;
        let size = req.max_results.ok_or(bad("maxResults"))?;
        if !(1..=MAX_RESULTS).contains(&size) {
            return Err(bad("maxResults"));
        }
        let now = self.now();
        let end = match present(&req.end_time) {
            Some(text) => {
                let end = iso_time::parse(&text).ok_or(bad("endTime"))?;
                if end < start || end - start > MAX_SPAN_MS {
                    return Err(bad("endTime"));
                }
                end
            }
            None => {
                if now.saturating_sub(start) > MAX_SPAN_MS {
                    return Err(bad("startTime"));
                }
                now
            }
        };
        let after = match present(&req.next_token).filter(|t| t != "0") {
            Some(t) => Some(decode_token(&t).ok_or(bad("nextToken"))?),
            None => None,
        };
        let take = size.unsigned_abs();
        // One more than asked tells whether another page follows. The window includes its end.
        let mut rows = self
            .store
            .departures(
                corp,
                start,
                end.saturating_add(1),
                after.as_ref().map(|(t, u)| (*t, u)),
                take + 1,
            )
            .await?;
        let more = rows.len() as u64 > take;
        rows.truncate(usize::try_from(take).unwrap_or(usize::MAX));
        let mut next_token = None;
        let mut records = Vec::with_capacity(rows.len());
        for (member, person) in &rows {
            let Some(departure) = member.details.departure else {
                continue;
            };
            let Some(at) = departure.left_at else { continue };
            if more {
                next_token = Some(encode_token(at, &member.membership.userid));
            }
            let (state_code, mobile) = person.mobile.as_ref().map_or((String::new(), String::new()), |m| {
                (m.state_code().to_owned(), m.national().to_owned())
            });
            records.push(EmpLeaveRecord {
                user_id: member.membership.userid.0.clone(),
                name: member.membership.name.clone().unwrap_or_else(|| person.nick.clone()),
                state_code,
                mobile,
                leave_time: iso_time::format_utc(at),
                leave_reason: departure.reason.as_str().to_owned(),
            });
        }
        Ok(ListEmpLeaveRecordsResponse { next_token, records })
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_token, encode_token};
    use dingdir_proto::ids::UserId;

    #[test]
    fn next_tokens_round_trip_and_foreign_ones_are_refused() {
        let u = UserId("wang.wu@x".to_owned());
        let t = encode_token(1_609_933_657_000, &u);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()), "{t}");
        assert_eq!(decode_token(&t), Some((1_609_933_657_000, u)));
        for bad in ["", "zz", "DCCD7A656FFA6F07", &hex_of("no colon"), &hex_of("x:wangwu")] {
            assert_eq!(decode_token(bad), None, "{bad}");
        }
    }

    fn hex_of(s: &str) -> String {
        crate::ident::hex(s.as_bytes())
    }
}
