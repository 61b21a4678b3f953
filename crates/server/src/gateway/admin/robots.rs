//! Custom group robots and the inbox: add, list and remove robots, and read every message they
//! took, as a test reads the messages it would have had a person look at.

use super::Error;
use super::extract::Json;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dingdir_core::group::Group;
use dingdir_core::robot::{ChatError, ChatOrder, InboxEntry, InboxQuery, SetupError, WebhookRobot};
use dingdir_proto::admin::{
    ChatSaid, ChatSay, Cleared, GroupInfo, GroupList, InboxFilter, InboxList, InboxMarked, InboxMessage, InboxRead,
    RobotInfo, RobotList, RobotSetup,
};
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

/// The longest a follower's `wait_ms` holds a request open.
const MAX_WAIT_MS: u64 = 60_000;
/// How often a waiting follower asks the store, for messages other nodes took.
const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_millis(250);

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
        person: e.person.map(|p| p.0),
        task: (!e.task.is_empty()).then_some(e.task),
        read_at: e.read_at,
        recalled_at: e.recalled_at,
    }
}

/// `GET /_dingdir/inbox`.
pub(super) async fn inbox(State(state): State<AppState>, uri: axum::http::Uri) -> Result<Response, Error> {
    let q: InboxFilter = super::extract::query(&uri)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let query = InboxQuery {
        conversation: q.conversation.filter(|c| !c.is_empty()),
        sender_id: q.sender_id.filter(|s| !s.is_empty()),
        person: q.person.filter(|s| !s.is_empty()),
        task: q.task.filter(|s| !s.is_empty()),
        after: q.after.unwrap_or(0),
        limit,
    };
    // With `wait_ms`, an empty answer waits for the next message (this node's wake the wait at
    // once; other nodes' are seen within FOLLOW_POLL), so a follower needs no busy loop.
    let deadline =
        tokio::time::Instant::now() + std::time::Duration::from_millis(q.wait_ms.unwrap_or(0).min(MAX_WAIT_MS));
    let mut changes = state.service.inbox_changes();
    let found = loop {
        changes.borrow_and_update();
        let found = state.service.background().messages(&query).await.map_err(store_error)?;
        let now = tokio::time::Instant::now();
        if !found.is_empty() || now >= deadline {
            break found;
        }
        let nap = FOLLOW_POLL.min(deadline - now);
        let _ = tokio::time::timeout(nap, changes.changed()).await;
    };
    let messages: Vec<InboxMessage> = found.into_iter().map(view).collect();
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
        media_id: say.media_id,
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
    // No Stream connection took it: the robot's HTTP callback, when the app has one.
    let http = match (&connection, made_bot(&state, &order.app_key).await?) {
        (None, Some(bot)) => Some(crate::bot_callback::deliver(&state, &bot, &made.data, &made.session).await),
        _ => None,
    };
    Ok(ok(&ChatSaid {
        seq: made.seq,
        conversation: made.conversation,
        message: made.data,
        connection,
        ack,
        http,
    }))
}

/// `POST /_dingdir/inbox/read`: the person reads what they were sent one to one (robot chats,
/// work notifications), so `readStatus` and `getsendresult` show it read.
pub(super) async fn read(State(state): State<AppState>, Json(read): Json<InboxRead>) -> Result<Response, Error> {
    if read.person.trim().is_empty() {
        return Err(Error::BadRequest("person: a userid".to_owned()));
    }
    let marked = state
        .service
        .background()
        .mark_read(
            &UserId(read.person),
            read.through.unwrap_or(i64::MAX),
            state.service.now(),
        )
        .await
        .map_err(store_error)?;
    Ok(ok(&InboxMarked { marked }))
}

fn group_info(g: Group) -> GroupInfo {
    GroupInfo {
        corp_id: g.corp_id.0,
        name: g.name,
        conversation_id: g.conversation_id,
        owner: g.owner.map(|o| o.0),
        members: g.members.into_iter().map(|m| m.0).collect(),
        bots: g.bots.into_iter().map(|b| b.0).collect(),
    }
}

/// `GET /_dingdir/groups`.
pub(super) async fn groups(State(state): State<AppState>) -> Result<Response, Error> {
    let groups = state.service.background().groups().await.map_err(store_error)?;
    Ok(ok(&GroupList {
        groups: groups.into_iter().map(group_info).collect(),
    }))
}

/// `PUT /_dingdir/groups` with a [`GroupInfo`]: creates or replaces the corp's group of that
/// name; answers it with its `openConversationId`.
pub(super) async fn put_group(State(state): State<AppState>, Json(g): Json<GroupInfo>) -> Result<Response, Error> {
    let group = Group::new(
        CorpId(g.corp_id),
        g.name,
        g.owner.map(UserId),
        g.members.into_iter().map(UserId).collect(),
        g.bots.into_iter().map(AppKey).collect(),
    );
    state.service.put_group(&group).await.map_err(|e| match e {
        SetupError::Invalid(why) => Error::BadRequest(why),
        SetupError::Store(e) => store_error(e),
    })?;
    Ok(ok(&group_info(group)))
}

/// The app's robot HTTP callback, if it has one.
async fn made_bot(state: &AppState, app: &AppKey) -> Result<Option<dingdir_core::model::BotCallback>, Error> {
    let app = state.service.background().app(app).await.map_err(store_error)?;
    Ok(app.and_then(|a| a.bot_callback))
}

/// `GET /_dingdir/media/{mediaId}`: an upload's bytes with its content type. Open, as
/// DingTalk's temporary download URLs are: the id is 18 random bytes, known only to whoever
/// uploaded the file or got its `downloadUrl`.
pub(super) async fn media(State(state): State<AppState>, path: PathArg) -> Result<Response, Error> {
    let id = path
        .map(|Path(t)| t)
        .map_err(|_| Error::BadRequest("the media id in the path is not valid UTF-8".to_owned()))?;
    let media = state
        .service
        .background()
        .media(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| Error::Missing(format!("no media {id:?}")))?;
    let content_type = axum::http::HeaderValue::from_str(&media.content_type)
        .unwrap_or(axum::http::HeaderValue::from_static("application/octet-stream"));
    let mut response = Response::new(axum::body::Body::from(media.data));
    response
        .headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, content_type);
    Ok(response)
}
