//! Custom group robots and the inbox of the messages they took.

use super::{Dialect, SqlStore};
use crate::error::map;
use dingdir_core::StoreError;
use dingdir_core::clock::Millis;
use dingdir_core::robot::{ChatSession, InboxEntry, InboxQuery, RobotMessage, WebhookRobot};
use dingdir_core::store::MessageStore;
use dingdir_proto::ids::AppKey;
use dingdir_proto::ids::CorpId;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

const ROBOT_COLUMNS: &str = "token, corp_id, name, group_name, secret, keywords, ip_ranges, blocked_until";
const INBOX_COLUMNS: &str = "seq, at, corp_id, conversation, sender_kind, sender, sender_id, msgtype, message, at_json";

fn list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn robot_from<R: Row>(row: &R) -> Result<WebhookRobot, StoreError>
where
    for<'c> &'c str: ColumnIndex<R>,
    for<'q> String: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> Option<String>: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> i64: Decode<'q, R::Database> + Type<R::Database>,
{
    let keywords: String = row.try_get("keywords").map_err(map)?;
    let ip_ranges: String = row.try_get("ip_ranges").map_err(map)?;
    Ok(WebhookRobot {
        token: row.try_get("token").map_err(map)?,
        corp_id: CorpId(row.try_get("corp_id").map_err(map)?),
        name: row.try_get("name").map_err(map)?,
        group: row.try_get("group_name").map_err(map)?,
        secret: row.try_get("secret").map_err(map)?,
        keywords: list(&keywords),
        ip_ranges: list(&ip_ranges),
        blocked_until: row.try_get("blocked_until").map_err(map)?,
    })
}

fn entry_from<R: Row>(row: &R) -> Result<InboxEntry, StoreError>
where
    for<'c> &'c str: ColumnIndex<R>,
    for<'q> String: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> Option<String>: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> i64: Decode<'q, R::Database> + Type<R::Database>,
{
    let message: String = row.try_get("message").map_err(map)?;
    let at: Option<String> = row.try_get("at_json").map_err(map)?;
    Ok(InboxEntry {
        seq: row.try_get("seq").map_err(map)?,
        at: row.try_get("at").map_err(map)?,
        corp_id: CorpId(row.try_get("corp_id").map_err(map)?),
        conversation: row.try_get("conversation").map_err(map)?,
        sender_kind: row.try_get("sender_kind").map_err(map)?,
        sender: row.try_get("sender").map_err(map)?,
        sender_id: row.try_get("sender_id").map_err(map)?,
        message: RobotMessage {
            msgtype: row.try_get("msgtype").map_err(map)?,
            content: serde_json::from_str(&message).unwrap_or_default(),
            at: at.and_then(|a| serde_json::from_str(&a).ok()),
        },
    })
}

#[async_trait::async_trait]
impl<DB> MessageStore for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn put_robot(&self, robot: &WebhookRobot) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO webhook_robots (token, corp_id, name, group_name, secret, keywords, ip_ranges) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (token) DO UPDATE SET corp_id = excluded.corp_id, \
             name = excluded.name, group_name = excluded.group_name, secret = excluded.secret, \
             keywords = excluded.keywords, ip_ranges = excluded.ip_ranges",
        )
        .bind(robot.token.as_str())
        .bind(robot.corp_id.0.as_str())
        .bind(robot.name.as_str())
        .bind(robot.group.as_str())
        .bind(robot.secret.as_deref())
        .bind(serde_json::to_string(&robot.keywords).unwrap_or_default())
        .bind(serde_json::to_string(&robot.ip_ranges).unwrap_or_default())
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn robot(&self, token: &str) -> Result<Option<WebhookRobot>, StoreError> {
        sqlx::query(&format!("SELECT {ROBOT_COLUMNS} FROM webhook_robots WHERE token = $1"))
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(robot_from)
            .transpose()
    }

    async fn robots(&self) -> Result<Vec<WebhookRobot>, StoreError> {
        sqlx::query(&format!("SELECT {ROBOT_COLUMNS} FROM webhook_robots ORDER BY token"))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?
            .iter()
            .map(robot_from)
            .collect()
    }

    async fn remove_robot(&self, token: &str) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM webhook_robots WHERE token = $1")
            .bind(token)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn block_robot(&self, token: &str, until: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE webhook_robots SET blocked_until = $1 WHERE token = $2 AND blocked_until < $1")
            .bind(until)
            .bind(token)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn append_message(&self, e: &InboxEntry, keep: u64) -> Result<i64, StoreError> {
        let at_json = e.message.at.as_ref().map(ToString::to_string);
        let mut tx = self.write().await?;
        // Writers take turns, so positions commit in order and a reader paging with `after`
        // skips none (PostgreSQL hands out BIGSERIAL values before commit).
        DB::serialize_writers(&mut tx).await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO inbox (at, corp_id, conversation, sender_kind, sender, sender_id, msgtype, message, at_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
        )
        .bind(e.at)
        .bind(e.corp_id.0.as_str())
        .bind(e.conversation.as_str())
        .bind(e.sender_kind.as_str())
        .bind(e.sender.as_str())
        .bind(e.sender_id.as_str())
        .bind(e.message.msgtype.as_str())
        .bind(e.message.content.to_string())
        .bind(at_json.as_deref())
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        sqlx::query("DELETE FROM inbox WHERE seq <= $1")
            .bind(seq.saturating_sub(keep))
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(seq)
    }

    async fn messages(&self, q: &InboxQuery) -> Result<Vec<InboxEntry>, StoreError> {
        sqlx::query(&format!(
            "SELECT {INBOX_COLUMNS} FROM inbox WHERE seq > $1 AND ($2 = '' OR conversation = $2) \
             AND ($3 = '' OR sender_id = $3) ORDER BY seq LIMIT $4"
        ))
        .bind(q.after)
        .bind(q.conversation.as_deref().unwrap_or(""))
        .bind(q.sender_id.as_deref().unwrap_or(""))
        .bind(i64::try_from(q.limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(entry_from)
        .collect()
    }

    async fn put_session(&self, session: &ChatSession) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO chat_sessions (token, app_key, corp_id, conversation, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.token.as_str())
        .bind(session.app_key.0.as_str())
        .bind(session.corp_id.0.as_str())
        .bind(session.conversation.as_str())
        .bind(session.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn session(&self, token: &str) -> Result<Option<ChatSession>, StoreError> {
        let row =
            sqlx::query("SELECT token, app_key, corp_id, conversation, expires_at FROM chat_sessions WHERE token = $1")
                .bind(token)
                .fetch_optional(&self.pool)
                .await
                .map_err(map)?;
        row.map(|r| {
            Ok(ChatSession {
                token: r.try_get("token").map_err(map)?,
                app_key: AppKey(r.try_get("app_key").map_err(map)?),
                corp_id: CorpId(r.try_get("corp_id").map_err(map)?),
                conversation: r.try_get("conversation").map_err(map)?,
                expires_at: r.try_get("expires_at").map_err(map)?,
            })
        })
        .transpose()
    }
}
