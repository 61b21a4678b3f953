//! What a node keeps for delivering HTTP event callbacks ([`crate::callbacks`]): its settings,
//! its HTTP client, and which apps it is delivering right now.

use dingdir_core::callback;
use dingdir_core::clock::Millis;
use dingdir_proto::ids::AppKey;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// How this node delivers.
#[derive(Clone, Debug)]
pub struct CallbackSettings {
    /// This node's name in leases and attempts; unique per running node.
    pub node: String,
    /// How long a lease holds without renewal: how soon another node takes over a stopped one.
    pub lease: Duration,
    /// How often the log is read for entries other nodes wrote (this node's own writes wake the
    /// deliverer at once).
    pub poll: Duration,
    /// How long a receiver may take to answer: 1,500 ms on DingTalk.
    pub timeout: Duration,
    /// The waits after the first, second, ... failure in a row, the last one repeated.
    pub backoff: Vec<Millis>,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        Self {
            node: format!("node-{:08x}", random_u32()),
            lease: Duration::from_secs(10),
            poll: Duration::from_millis(250),
            timeout: Duration::from_millis(1500),
            backoff: callback::DEFAULT_BACKOFF.to_vec(),
        }
    }
}

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    u32::from_be_bytes(b)
}

/// The deliverer's shared parts: the HTTP client and the apps being delivered right now.
pub(crate) struct Delivery {
    pub(crate) client: reqwest::Client,
    busy: Mutex<HashSet<AppKey>>,
}

impl Delivery {
    pub(crate) fn new() -> Self {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            client,
            busy: Mutex::new(HashSet::new()),
        }
    }
}

/// Marks an app as being delivered for as long as it lives.
pub(crate) struct Busy<'a>(&'a Delivery, AppKey);

impl<'a> Busy<'a> {
    pub(crate) fn take(d: &'a Delivery, app: &AppKey) -> Option<Self> {
        let mut busy = d.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        busy.insert(app.clone()).then(|| Self(d, app.clone()))
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.1);
    }
}

/// Sends `request` and reads its whole answer within `timeout`: the status and the body, or why
/// not (`timed out after N ms`, `request failed: …` with the error's causes).
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<(reqwest::StatusCode, axum::body::Bytes), String> {
    let answer = async {
        let response = request.timeout(timeout).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, body))
    };
    let timed_out = || format!("timed out after {} ms", timeout.as_millis());
    match tokio::time::timeout(timeout, answer).await {
        Err(_) => Err(timed_out()),
        Ok(Err(e)) if e.is_timeout() => Err(timed_out()),
        Ok(Err(e)) => Err(format!("request failed: {}", error_chain(&e))),
        Ok(Ok(answer)) => Ok(answer),
    }
}

/// An error with its causes, `: `-joined.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
