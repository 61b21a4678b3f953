//! Custom group robots and the inbox of the messages they took.

use super::{Dialect, SqlStore};
use crate::error::map;
use dingdir_core::StoreError;
use dingdir_core::clock::Millis;
use dingdir_core::group::Group;
use dingdir_core::message::{Forbidden, Media, Notice};
use dingdir_core::robot::{ChatSession, InboxEntry, InboxQuery, RobotMessage, WebhookRobot};
use dingdir_core::store::MessageStore;
use dingdir_proto::ids::AppKey;
use dingdir_proto::ids::CorpId;
use dingdir_proto::ids::UserId;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Transaction, Type};

const ROBOT_COLUMNS: &str = "token, corp_id, name, group_name, secret, keywords, ip_ranges, blocked_until";
const INBOX_COLUMNS: &str = "seq, at, corp_id, conversation, sender_kind, sender, sender_id, msgtype, message, at_json, \
     person, task, read_at, recalled_at";

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
    for<'q> Option<i64>: Decode<'q, R::Database> + Type<R::Database>,
{
    let message: String = row.try_get("message").map_err(map)?;
    let at: Option<String> = row.try_get("at_json").map_err(map)?;
    let person: String = row.try_get("person").map_err(map)?;
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
        person: (!person.is_empty()).then_some(UserId(person)),
        task: row.try_get("task").map_err(map)?,
        read_at: row.try_get("read_at").map_err(map)?,
        recalled_at: row.try_get("recalled_at").map_err(map)?,
    })
}

/// Inserts inbox entries in order (with `task` when given, else each entry's own) and answers
/// their positions.
async fn insert_entries<DB>(
    tx: &mut Transaction<'static, DB>,
    entries: &[InboxEntry],
    task: Option<&str>,
) -> Result<Vec<i64>, StoreError>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    let mut seqs = Vec::with_capacity(entries.len());
    for e in entries {
        let at_json = e.message.at.as_ref().map(ToString::to_string);
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO inbox (at, corp_id, conversation, sender_kind, sender, sender_id, msgtype, message, at_json, \
             person, task) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq",
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
        .bind(e.person.as_ref().map_or("", |p| p.0.as_str()))
        .bind(task.unwrap_or(e.task.as_str()))
        .fetch_one(&mut **tx)
        .await
        .map_err(map)?;
        seqs.push(seq);
    }
    Ok(seqs)
}

/// Keeps the newest `keep` inbox entries, the last at `last`.
async fn trim_inbox<DB>(tx: &mut Transaction<'static, DB>, last: Option<i64>, keep: u64) -> Result<(), StoreError>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    let Some(last) = last else { return Ok(()) };
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    sqlx::query("DELETE FROM inbox WHERE seq <= $1")
        .bind(last.saturating_sub(keep))
        .execute(&mut **tx)
        .await
        .map_err(map)?;
    Ok(())
}

fn json_list<T: serde::de::DeserializeOwned>(json: &str) -> Vec<T> {
    serde_json::from_str(json).unwrap_or_default()
}

fn group_from<R: Row>(row: &R) -> Result<Group, StoreError>
where
    for<'c> &'c str: ColumnIndex<R>,
    for<'q> String: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> Option<String>: Decode<'q, R::Database> + Type<R::Database>,
{
    let members: String = row.try_get("members").map_err(map)?;
    let bots: String = row.try_get("bots").map_err(map)?;
    let owner: Option<String> = row.try_get("owner").map_err(map)?;
    Ok(Group {
        corp_id: CorpId(row.try_get("corp_id").map_err(map)?),
        name: row.try_get("name").map_err(map)?,
        conversation_id: row.try_get("conversation_id").map_err(map)?,
        owner: owner.map(UserId),
        members: json_list::<String>(&members).into_iter().map(UserId).collect(),
        bots: json_list::<String>(&bots).into_iter().map(AppKey).collect(),
    })
}

const GROUP_COLUMNS: &str = "corp_id, name, conversation_id, owner, members, bots";
const NOTICE_COLUMNS: &str = "task_id, corp_id, app_key, agent_id, at, msgtype, message, recipients, invalid_users, \
     invalid_depts, forbidden, recalled_at";

fn notice_from<R: Row>(row: &R) -> Result<Notice, StoreError>
where
    for<'c> &'c str: ColumnIndex<R>,
    for<'q> String: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> Option<i64>: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> i64: Decode<'q, R::Database> + Type<R::Database>,
{
    let text = |name: &str| -> Result<String, StoreError> { row.try_get(name).map_err(map) };
    Ok(Notice {
        task_id: row.try_get("task_id").map_err(map)?,
        corp_id: CorpId(text("corp_id")?),
        app_key: AppKey(text("app_key")?),
        agent_id: row.try_get("agent_id").map_err(map)?,
        at: row.try_get("at").map_err(map)?,
        message: RobotMessage {
            msgtype: text("msgtype")?,
            content: serde_json::from_str(&text("message")?).unwrap_or_default(),
            at: None,
        },
        recipients: json_list::<String>(&text("recipients")?)
            .into_iter()
            .map(UserId)
            .collect(),
        invalid_users: json_list(&text("invalid_users")?),
        invalid_depts: json_list(&text("invalid_depts")?),
        forbidden: json_list::<Forbidden>(&text("forbidden")?),
        recalled_at: row.try_get("recalled_at").map_err(map)?,
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
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
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
        let seqs = self.append_messages(std::slice::from_ref(e), keep).await?;
        seqs.first()
            .copied()
            .ok_or_else(|| StoreError::Other("no position".into()))
    }

    async fn append_messages(&self, entries: &[InboxEntry], keep: u64) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write().await?;
        // Writers take turns, so positions commit in order and a reader paging with `after`
        // skips none (PostgreSQL hands out BIGSERIAL values before commit).
        DB::serialize_writers(&mut tx).await?;
        let seqs = insert_entries::<DB>(&mut tx, entries, None).await?;
        trim_inbox::<DB>(&mut tx, seqs.last().copied(), keep).await?;
        tx.commit().await.map_err(map)?;
        Ok(seqs)
    }

    async fn messages(&self, q: &InboxQuery) -> Result<Vec<InboxEntry>, StoreError> {
        sqlx::query(&format!(
            "SELECT {INBOX_COLUMNS} FROM inbox WHERE seq > $1 AND ($2 = '' OR conversation = $2) \
             AND ($3 = '' OR sender_id = $3) AND ($4 = '' OR person = $4 OR sender_id = $4) \
             AND ($5 = '' OR task = $5) ORDER BY seq LIMIT $6"
        ))
        .bind(q.after)
        .bind(q.conversation.as_deref().unwrap_or(""))
        .bind(q.sender_id.as_deref().unwrap_or(""))
        .bind(q.person.as_deref().unwrap_or(""))
        .bind(q.task.as_deref().unwrap_or(""))
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

    async fn put_group(&self, g: &Group) -> Result<(), StoreError> {
        let members: Vec<&str> = g.members.iter().map(|m| m.0.as_str()).collect();
        let bots: Vec<&str> = g.bots.iter().map(|b| b.0.as_str()).collect();
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO chat_groups (corp_id, name, conversation_id, owner, members, bots) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (corp_id, name) DO UPDATE SET conversation_id = excluded.conversation_id, \
             owner = excluded.owner, members = excluded.members, bots = excluded.bots",
        )
        .bind(g.corp_id.0.as_str())
        .bind(g.name.as_str())
        .bind(g.conversation_id.as_str())
        .bind(g.owner.as_ref().map(|o| o.0.as_str()))
        .bind(serde_json::to_string(&members).unwrap_or_default())
        .bind(serde_json::to_string(&bots).unwrap_or_default())
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn group(&self, corp: &CorpId, name: &str) -> Result<Option<Group>, StoreError> {
        sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM chat_groups WHERE corp_id = $1 AND name = $2"
        ))
        .bind(corp.0.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?
        .as_ref()
        .map(group_from)
        .transpose()
    }

    async fn group_by_conversation(&self, conversation_id: &str) -> Result<Option<Group>, StoreError> {
        sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM chat_groups WHERE conversation_id = $1"
        ))
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?
        .as_ref()
        .map(group_from)
        .transpose()
    }

    async fn groups(&self) -> Result<Vec<Group>, StoreError> {
        sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM chat_groups ORDER BY corp_id, name"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(group_from)
        .collect()
    }

    async fn put_notice(&self, n: &Notice, entries: &[InboxEntry], keep: u64) -> Result<i64, StoreError> {
        let recipients: Vec<&str> = n.recipients.iter().map(|u| u.0.as_str()).collect();
        let mut tx = self.write().await?;
        DB::serialize_writers(&mut tx).await?;
        let task_id: i64 = sqlx::query_scalar(
            "INSERT INTO notices (corp_id, app_key, agent_id, at, msgtype, message, recipients, invalid_users, \
             invalid_depts, forbidden) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING task_id",
        )
        .bind(n.corp_id.0.as_str())
        .bind(n.app_key.0.as_str())
        .bind(n.agent_id)
        .bind(n.at)
        .bind(n.message.msgtype.as_str())
        .bind(n.message.content.to_string())
        .bind(serde_json::to_string(&recipients).unwrap_or_default())
        .bind(serde_json::to_string(&n.invalid_users).unwrap_or_default())
        .bind(serde_json::to_string(&n.invalid_depts).unwrap_or_default())
        .bind(serde_json::to_string(&n.forbidden).unwrap_or_default())
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        let task = task_id.to_string();
        let seqs = insert_entries::<DB>(&mut tx, entries, Some(&task)).await?;
        trim_inbox::<DB>(&mut tx, seqs.last().copied(), keep).await?;
        tx.commit().await.map_err(map)?;
        Ok(task_id)
    }

    async fn notice(&self, task_id: i64) -> Result<Option<Notice>, StoreError> {
        sqlx::query(&format!("SELECT {NOTICE_COLUMNS} FROM notices WHERE task_id = $1"))
            .bind(task_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(notice_from)
            .transpose()
    }

    async fn recall(&self, task: &str, at: Millis) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE inbox SET recalled_at = $1 WHERE task = $2 AND recalled_at IS NULL")
            .bind(at)
            .bind(task)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        if let Ok(id) = task.parse::<i64>() {
            sqlx::query("UPDATE notices SET recalled_at = $1 WHERE task_id = $2 AND recalled_at IS NULL")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(DB::rows_affected(&done))
    }

    async fn mark_read(&self, person: &UserId, through: i64, at: Millis) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE inbox SET read_at = $1 WHERE person = $2 AND seq <= $3 AND read_at IS NULL")
            .bind(at)
            .bind(person.0.as_str())
            .bind(through)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(DB::rows_affected(&done))
    }

    async fn put_media(&self, m: &Media, keep: u64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO media (media_id, corp_id, app_key, kind, file_name, content_type, at, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
        )
        .bind(m.media_id.as_str())
        .bind(m.corp_id.0.as_str())
        .bind(m.app_key.0.as_str())
        .bind(m.kind.as_str())
        .bind(m.file_name.as_str())
        .bind(m.content_type.as_str())
        .bind(m.at)
        .bind(m.data.clone())
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        sqlx::query("DELETE FROM media WHERE seq <= $1")
            .bind(seq.saturating_sub(i64::try_from(keep).unwrap_or(i64::MAX)))
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)
    }

    async fn media(&self, media_id: &str) -> Result<Option<Media>, StoreError> {
        let row = sqlx::query(
            "SELECT media_id, corp_id, app_key, kind, file_name, content_type, at, data FROM media WHERE media_id = $1",
        )
        .bind(media_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        row.map(|r| {
            Ok(Media {
                media_id: r.try_get("media_id").map_err(map)?,
                corp_id: CorpId(r.try_get("corp_id").map_err(map)?),
                app_key: AppKey(r.try_get("app_key").map_err(map)?),
                kind: r.try_get("kind").map_err(map)?,
                file_name: r.try_get("file_name").map_err(map)?,
                content_type: r.try_get("content_type").map_err(map)?,
                at: r.try_get("at").map_err(map)?,
                data: r.try_get("data").map_err(map)?,
            })
        })
        .transpose()
    }
}
