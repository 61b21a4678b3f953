//! Custom group robots and the inbox: add, list and remove robots, and read every message they
//! took, as a test reads the messages it would have had a person look at.

use super::Error;
use super::extract::Json;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dingdir_core::robot::{ChatError, ChatOrder, InboxEntry, InboxQuery, SetupError, WebhookRobot};
use dingdir_proto::admin::{ChatSaid, ChatSay, Cleared, InboxList, InboxMessage, RobotInfo, RobotList, RobotSetup};
use dingdir_proto::ids::CorpId;
use dingdir_proto::ids::{AppKey, UserId};

type PathArg = Result<Path<String>, axum::extract::rejection::PathRejection>;

fn token(path: PathArg) -> Result<String, Error> {
    path.map(|Path(t)| t)
        .map_err(|_| Error::BadRequest("the robot token in the path is not valid UTF-8".to_owned()))
}

fn ok<T: serde::Serialize>(body: &T) -> Response {
    crate::gateway::api::json_response(StatusCode::OK, body)
}

fn info(r: &WebhookRobot) -> RobotInfo {
    RobotInfo {
        token: r.token.clone(),
        corp_id: r.corp_id.0.clone(),
        name: r.name.clone(),
        group: r.group.clone(),
        signed: r.secret.is_some(),
        keywords: r.keywords.clone(),
        ip_ranges: r.ip_ranges.clone(),
        blocked_until: r.blocked_until,
    }
}

fn store_error(e: dingdir_core::StoreError) -> Error {
    Error::Domain(e.into())
}

/// `GET /_dingdir/robots`.
pub(super) async fn list(State(state): State<AppState>) -> Result<Response, Error> {
    let robots = state.service.background().robots().await.map_err(store_error)?;
    Ok(ok(&RobotList {
        robots: robots.iter().map(info).collect(),
    }))
}

/// `PUT /_dingdir/robots/{token}` with a [`RobotSetup`].
pub(super) async fn put(
    State(state): State<AppState>,
    path: PathArg,
    Json(setup): Json<RobotSetup>,
) -> Result<Response, Error> {
    let robot = WebhookRobot {
        token: token(path)?,
        corp_id: CorpId(setup.corp_id),
        name: setup.name,
        group: setup.group,
        secret: setup.secret,
        keywords: setup.keywords,
        ip_ranges: setup.ip_ranges,
        blocked_until: 0,
    };
    state.service.put_robot(&robot).await.map_err(|e| match e {
        SetupError::Invalid(why) => Error::BadRequest(why),
        SetupError::Store(e) => store_error(e),
    })?;
    Ok(ok(&info(&robot)))
}

/// `DELETE /_dingdir/robots/{token}`.
pub(super) async fn remove(State(state): State<AppState>, path: PathArg) -> Result<Response, Error> {
    let token = token(path)?;
    let gone = state
        .service
        .background()
        .remove_robot(&token)
        .await
        .map_err(store_error)?;
    if !gone {
        return Err(Error::Missing(format!("no robot {token:?}")));
    }
    Ok(ok(&Cleared { cleared: 1 }))
}

/// `?conversation=&sender_id=&after=&limit=`.
#[derive(serde::Deserialize)]
pub(super) struct InboxParams {
    conversation: Option<String>,
    sender_id: Option<String>,
    after: Option<i64>,
    limit: Option<u64>,
}

fn view(e: InboxEntry) -> InboxMessage {
    InboxMessage {
        seq: e.seq,
        at: e.at,
        corp_id: e.corp_id.0,
        conversation: e.conversation,
        sender_kind: e.sender_kind,
        sender: e.sender,
        sender_id: e.sender_id,
        msgtype: e.message.msgtype,
        content: e.message.content,
        mentions: e.message.at,
    }
}

/// `GET /_dingdir/inbox`.
pub(super) async fn inbox(State(state): State<AppState>, uri: axum::http::Uri) -> Result<Response, Error> {
    let q: InboxParams = super::extract::query(&uri)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let query = InboxQuery {
        conversation: q.conversation.filter(|c| !c.is_empty()),
        sender_id: q.sender_id.filter(|s| !s.is_empty()),
        after: q.after.unwrap_or(0),
        limit,
    };
    let messages: Vec<InboxMessage> = state
        .service
        .background()
        .messages(&query)
        .await
        .map_err(store_error)?
        .into_iter()
        .map(view)
        .collect();
    let next_cursor = (messages.len() as u64 == limit)
        .then(|| messages.last().map(|m| m.seq))
        .flatten();
    Ok(ok(&InboxList { messages, next_cursor }))
}

/// `POST /_dingdir/chat`: makes the person's message, records it, and sends it to one of the
/// bot's Stream connections subscribed to `/v1.0/im/bot/messages/get`, waiting (at most the ack
/// timeout) for its ack. Bot messages are not sent again (docs/wire/robots.md §B4).
pub(super) async fn chat(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Json(say): Json<ChatSay>,
) -> Result<Response, Error> {
    let host = crate::params::host(&headers).unwrap_or("127.0.0.1");
    let session_base = format!("http://{host}{}", dingdir_proto::oapi::path::ROBOT_SEND_BY_SESSION);
    let order = ChatOrder {
        app_key: AppKey(say.app_key),
        corp_id: say.corp_id.map(CorpId),
        from: UserId(say.from),
        group: say.group,
        text: say.text,
        at_bot: say.at_bot.unwrap_or(true),
    };
    let made = state
        .service
        .person_says(&order, &session_base, state.settings.inbox_max)
        .await
        .map_err(|e| match e {
            ChatError::Invalid(why) => Error::BadRequest(why),
            ChatError::Store(e) => store_error(e),
        })?;
    let pushed = state.stream.push_callback(
        &order.app_key,
        dingdir_proto::stream::topic::BOT_MESSAGES,
        &made.data,
        state.service.now(),
    );
    let (connection, ack) = match pushed {
        None => (None, None),
        Some((conn, message_id, answer)) => {
            let ack = tokio::time::timeout(state.settings.stream.ack_timeout, answer)
                .await
                .ok()
                .and_then(Result::ok);
            if ack.is_none() {
                conn.forget(&message_id);
            }
            (Some(conn.id.clone()), ack)
        }
    };
    Ok(ok(&ChatSaid {
        seq: made.seq,
        conversation: made.conversation,
        message: made.data,
        connection,
        ack,
    }))
}
