//! A robot's HTTP callback (机器人 HTTP 回调, docs/wire/robots.md §B5): a person's message POSTed
//! to the bot's URL with `timestamp` and `sign` headers; a message in the answer's body is the
//! bot's reply, taken into the conversation as its session webhook would take it.

use crate::state::AppState;
use dingdir_core::model::BotCallback;
use dingdir_core::robot::SendError;
use dingdir_proto::admin::BotHttpAnswer;
use serde_json::Value;

/// Sends `data` (the chatbot message) to the bot and takes its synchronous reply, if any,
/// through the message's session `session`.
pub(crate) async fn deliver(state: &AppState, bot: &BotCallback, data: &Value, session: &str) -> BotHttpAnswer {
    let timestamp = state.service.now().to_string();
    let sign = dingdir_core::robot::sign(&bot.secret, &timestamp);
    let timeout = state.settings.stream.ack_timeout;
    let request = state
        .delivery
        .client
        .post(&bot.url)
        .header("timestamp", &timestamp)
        .header("sign", sign)
        .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(data.to_string());
    let (status, body) = match crate::delivery::exchange(request, timeout).await {
        Ok(answer) => answer,
        Err(why) => return failed(None, why),
    };
    let code = Some(status.as_u16());
    if !status.is_success() {
        return failed(code, format!("answered HTTP {status}"));
    }
    // An empty or non-JSON body, or `{"msgtype":"empty"}`, says nothing (§B5).
    let reply = serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(|v| v.get("msgtype").and_then(Value::as_str).is_some_and(|t| t != "empty"));
    let Some(_) = reply else {
        return BotHttpAnswer {
            status: code,
            ..BotHttpAnswer::default()
        };
    };
    match state
        .service
        .send_by_session(Some(session), &body, state.settings.inbox_max)
        .await
    {
        Ok(seq) => BotHttpAnswer {
            status: code,
            reply_seq: Some(seq),
            error: None,
        },
        Err(SendError::Refused(why)) => failed(code, format!("its reply was refused: {}", why.wire().1)),
        Err(SendError::Store(e)) => failed(code, format!("its reply could not be kept: {e}")),
    }
}

fn failed(status: Option<u16>, error: String) -> BotHttpAnswer {
    BotHttpAnswer {
        status,
        reply_seq: None,
        error: Some(error),
    }
}
