//! The request journal ([`crate::journal`]): query, count, follow and clear it.

use super::Error;
use crate::journal::Journal;
use crate::journal::Recorded;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use dingdir_proto::admin::{Cleared, JournalCount, JournalEntry, JournalFilter, JournalPage};
use futures_util::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often a follower with nothing to read gets a comment, so proxies and the idle timeout
/// keep its connection.
const FOLLOW_KEEP_ALIVE: Duration = Duration::from_secs(15);

fn journal(state: &AppState) -> Result<&Journal, Error> {
    state
        .journal
        .as_deref()
        .ok_or(Error::Disabled("the journal is off: start dingdir with --journal true"))
}

fn filter(uri: &Uri) -> Result<JournalFilter, Error> {
    super::extract::query(uri)
}

/// `GET /_dingdir/journal?endpoint=&app=&corp=&user=&status=&code=&since_ms=&until_ms=&after=&faulted=&limit=`:
/// the newest matching entries, oldest first.
pub(super) async fn list(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let filter = filter(&uri)?;
    let (entries, evicted) = journal(&state)?.query(&filter);
    Ok(crate::gateway::api::json_response(
        StatusCode::OK,
        &JournalPage { entries, evicted },
    ))
}

/// `GET /_dingdir/journal/count?...`: how many entries match, for "called N times" assertions.
pub(super) async fn count(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let filter = filter(&uri)?;
    let count = journal(&state)?.count(&filter);
    Ok(crate::gateway::api::json_response(
        StatusCode::OK,
        &JournalCount { count },
    ))
}

/// `DELETE /_dingdir/journal`: forgets every entry.
pub(super) async fn clear(State(state): State<AppState>) -> Result<Response, Error> {
    let cleared = journal(&state)?.clear() as u64;
    Ok(crate::gateway::api::json_response(StatusCode::OK, &Cleared { cleared }))
}

/// `GET /_dingdir/journal/follow?...`: matching entries as server-sent events (`event: entry`,
/// `id:` its seq, `data:` the entry as JSON) as they are recorded; with `after`, the kept entries
/// after that seq first. A follower that falls behind gets `event: lagged` with how many it
/// missed.
pub(super) async fn follow(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let mut filter = filter(&uri)?;
    filter.limit = None;
    let journal = journal(&state)?;
    // Subscribe before reading the backlog, so nothing falls between the two.
    let live = journal.subscribe();
    let backlog = match filter.after {
        Some(_) => {
            let (entries, _) = journal.query(&JournalFilter {
                limit: Some(crate::journal::MAX_LIMIT),
                ..filter.clone()
            });
            entries
        }
        None => Vec::new(),
    };
    let seen = backlog.last().map(|e| e.seq).or(filter.after).unwrap_or(0);
    Ok(Sse::new(events(backlog, live, filter, seen))
        .keep_alive(KeepAlive::new().interval(FOLLOW_KEEP_ALIVE))
        .into_response())
}

fn entry_event(entry: &JournalEntry) -> Event {
    Event::default()
        .event("entry")
        .id(entry.seq.to_string())
        .data(String::from_utf8_lossy(&crate::body::to_json(entry)))
}

fn events(
    backlog: Vec<JournalEntry>,
    live: tokio::sync::broadcast::Receiver<Arc<Recorded>>,
    filter: JournalFilter,
    seen: u64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let backlog = futures_util::stream::iter(backlog.into_iter().map(|e| Ok(entry_event(&e))));
    let live = futures_util::stream::unfold((live, filter, seen), |(mut live, filter, seen)| async move {
        loop {
            match live.recv().await {
                Ok(entry) if entry.seq > seen && crate::journal::matches(&filter, entry.view()) => {
                    return Some((Ok(entry_event(entry.view())), (live, filter, seen)));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    let event = Event::default()
                        .event("lagged")
                        .data(format!(r#"{{"missed":{missed}}}"#));
                    return Some((Ok(event), (live, filter, seen)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    futures_util::StreamExt::chain(backlog, live)
}
