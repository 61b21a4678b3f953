//! dingdir's own admin API (`/_dingdir/...`), for tests that script a dingdir server: fault
//! rules, the request journal and rate limits. It has no DingTalk counterpart, so it is reached through [`Client::admin`] on a
//! client whose new-gateway base URL is the dingdir server.

use crate::client::Client;
use crate::error::{Error, decode_api};
use crate::signin::join;
use dingdir_proto::admin::{
    ChatSaid, ChatSay, Cleared, FaultList, FaultRule, FaultView, InboxFilter, InboxList, JournalCount, JournalEntry,
    JournalFilter, JournalPage, RateLimit, RateLimits, path,
};

/// The admin API of one dingdir server, with its admin token.
#[derive(Clone, Debug)]
pub struct Admin {
    client: Client,
    token: String,
}

impl Client {
    /// The admin API of the dingdir server at [`Client::api_base`], called with `admin_token`
    /// (the one `dingdir dev` and `serve` print at start or take from `DINGDIR_ADMIN_TOKEN`).
    pub fn admin(&self, admin_token: impl Into<String>) -> Admin {
        Admin {
            client: self.clone(),
            token: admin_token.into(),
        }
    }
}

impl Admin {
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
    ) -> Result<T, Error> {
        self.call_with(method, path, body, None::<&()>).await
    }

    async fn call_with<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
        query: Option<&impl serde::Serialize>,
    ) -> Result<T, Error> {
        let url = join(self.client.api_base(), path);
        let mut req = self.client.http.request(method, url).bearer_auth(&self.token);
        if let Some(query) = query {
            req = req.query(query);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let (status, id, bytes) = self.client.send(req, None).await?;
        // An answer with no body (204) reads as JSON `null`.
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        decode_api(status, id, bytes)
    }

    /// The server's fault rules, in the order they are tried, with their counters:
    /// `GET /_dingdir/faults`.
    pub async fn faults(&self) -> Result<FaultList, Error> {
        self.call(reqwest::Method::GET, path::FAULTS, None::<&()>).await
    }

    /// Arms a fault rule after the others: `POST /_dingdir/faults`. A rule that could never work
    /// (an unknown endpoint, an errcode on the new gateway) is refused as `BadRequest`.
    pub async fn add_fault(&self, rule: &FaultRule) -> Result<FaultView, Error> {
        self.call(reqwest::Method::POST, path::FAULTS, Some(rule)).await
    }

    /// Disarms one rule: `DELETE /_dingdir/faults/{id}`; `NotFound` when there is none.
    pub async fn remove_fault(&self, id: u64) -> Result<(), Error> {
        let path = path::FAULT.replace("{id}", &id.to_string());
        self.call(reqwest::Method::DELETE, &path, None::<&()>).await
    }

    /// Disarms every rule: `DELETE /_dingdir/faults`.
    pub async fn clear_faults(&self) -> Result<Cleared, Error> {
        self.call(reqwest::Method::DELETE, path::FAULTS, None::<&()>).await
    }
}

impl Admin {
    /// The newest journal entries that pass `filter`, oldest first: `GET /_dingdir/journal`.
    /// A server started without the journal answers `Disabled`.
    pub async fn journal(&self, filter: &JournalFilter) -> Result<JournalPage, Error> {
        self.call_with(reqwest::Method::GET, path::JOURNAL, None::<&()>, Some(filter))
            .await
    }

    /// How many journal entries pass `filter` (its `limit` is ignored):
    /// `GET /_dingdir/journal/count`.
    pub async fn journal_count(&self, filter: &JournalFilter) -> Result<u64, Error> {
        let count: JournalCount = self
            .call_with(reqwest::Method::GET, path::JOURNAL_COUNT, None::<&()>, Some(filter))
            .await?;
        Ok(count.count)
    }

    /// Forgets every journal entry: `DELETE /_dingdir/journal`.
    pub async fn clear_journal(&self) -> Result<Cleared, Error> {
        self.call(reqwest::Method::DELETE, path::JOURNAL, None::<&()>).await
    }

    /// Entries that pass `filter` as the server records them (`GET /_dingdir/journal/follow`,
    /// server-sent events); with `filter.after`, the kept entries after that seq first. The
    /// client's request timeout applies to the whole stream, so build the client with a long one.
    pub async fn follow_journal(&self, filter: &JournalFilter) -> Result<JournalFollow, Error> {
        let url = join(self.client.api_base(), path::JOURNAL_FOLLOW);
        let resp = self
            .client
            .http
            .get(url)
            .bearer_auth(&self.token)
            .query(filter)
            .send()
            .await
            .map_err(Error::Transport)?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let id = resp
                .headers()
                .get(dingdir_proto::api::REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = resp.bytes().await.map_err(Error::Transport)?;
            // An error answer always decodes to `Err`; `()` only names a type for the success arm.
            return decode_api::<()>(status, id, &body)
                .and_then(|()| Err(Error::decode(status, "a 2xx status was expected", &body)));
        }
        Ok(JournalFollow { resp, buf: Vec::new() })
    }
}

/// What a journal follower reads.
#[derive(Clone, Debug, PartialEq)]
pub enum JournalEvent {
    /// An entry.
    Entry(Box<JournalEntry>),
    /// The follower fell behind and missed this many entries.
    Lagged(u64),
}

/// A live journal, read with [`JournalFollow::next`].
#[derive(Debug)]
pub struct JournalFollow {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl JournalFollow {
    /// The next event; `None` when the server ended the stream.
    pub async fn next(&mut self) -> Result<Option<JournalEvent>, Error> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                if let Some(event) = parse_event(&block)? {
                    return Ok(Some(event));
                }
                continue;
            }
            match self.resp.chunk().await.map_err(Error::Transport)? {
                Some(chunk) => self.buf.extend_from_slice(&chunk),
                None => return Ok(None),
            }
        }
    }
}

/// One server-sent event block; `None` for a comment (the keep-alive) or an unknown event.
fn parse_event(block: &[u8]) -> Result<Option<JournalEvent>, Error> {
    let text = String::from_utf8_lossy(block);
    let (mut event, mut data) = ("message", String::new());
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            event = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    match event {
        "entry" => serde_json::from_str(&data)
            .map(|e| Some(JournalEvent::Entry(Box::new(e))))
            .map_err(|e| Error::decode(200, e, data.as_bytes())),
        "lagged" => {
            let v: serde_json::Value =
                serde_json::from_str(&data).map_err(|e| Error::decode(200, e, data.as_bytes()))?;
            Ok(Some(JournalEvent::Lagged(v["missed"].as_u64().unwrap_or(0))))
        }
        _ => Ok(None),
    }
}

impl Admin {
    /// The rate limits the server enforces: `GET /_dingdir/rate-limits`.
    pub async fn rate_limits(&self) -> Result<Vec<RateLimit>, Error> {
        let limits: RateLimits = self.call(reqwest::Method::GET, path::RATE_LIMITS, None::<&()>).await?;
        Ok(limits.limits)
    }

    /// Replaces the rate limits of every node sharing the server's store:
    /// `PUT /_dingdir/rate-limits`.
    pub async fn set_rate_limits(&self, limits: Vec<RateLimit>) -> Result<Vec<RateLimit>, Error> {
        let body = RateLimits { limits };
        let set: RateLimits = self.call(reqwest::Method::PUT, path::RATE_LIMITS, Some(&body)).await?;
        Ok(set.limits)
    }

    /// Lifts every rate limit: `DELETE /_dingdir/rate-limits`.
    pub async fn clear_rate_limits(&self) -> Result<Cleared, Error> {
        self.call(reqwest::Method::DELETE, path::RATE_LIMITS, None::<&()>).await
    }
}

impl Admin {
    /// The inbox's messages that pass `filter`, by position: `GET /_dingdir/inbox`. With
    /// `filter.wait_ms`, an empty page waits that long for the next message; build the client
    /// with a request timeout longer than the wait.
    pub async fn inbox(&self, filter: &InboxFilter) -> Result<InboxList, Error> {
        self.call_with(reqwest::Method::GET, path::INBOX, None::<&()>, Some(filter))
            .await
    }

    /// A person writes to a bot, which gets DingTalk's chatbot message over Stream mode:
    /// `POST /_dingdir/chat`.
    pub async fn chat(&self, say: &ChatSay) -> Result<ChatSaid, Error> {
        self.call(reqwest::Method::POST, path::CHAT, Some(say)).await
    }
}
