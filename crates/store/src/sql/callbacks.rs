//! Callback registrations and their delivery state: the lease one node at a time holds on an
//! app's delivery, the position it has reached, and every attempt.

use super::{Dialect, SqlStore, corrupt};
use crate::error::map;
use dingdir_core::StoreError;
use dingdir_core::callback::{Attempt, Callback, CallbackState, ReceiveId};
use dingdir_core::clock::Millis;
use dingdir_core::store::CallbackStore;
use dingdir_core::stream::StreamCursor;
use dingdir_proto::ids::AppKey;
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Transaction, Type};

const STATE_COLUMNS: &str = "app_key, url, token, aes_key, events, receive_id, registered_seq, delivered_seq, \
                             failures, next_attempt_at, last_error, lease_owner, lease_until";

impl<DB> SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    /// Creates or updates registrations inside a write; a new one starts after the log's last
    /// entry, which the caller has already appended.
    pub(crate) async fn write_callbacks(
        tx: &mut Transaction<'static, DB>,
        callbacks: &[Callback],
    ) -> Result<(), StoreError> {
        if callbacks.is_empty() {
            return Ok(());
        }
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM change_log")
            .fetch_one(&mut **tx)
            .await
            .map_err(map)?;
        for c in callbacks {
            sqlx::query(
                "INSERT INTO callbacks (app_key, url, token, aes_key, events, receive_id, registered_seq, delivered_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (app_key) DO UPDATE SET \
                 url = excluded.url, token = excluded.token, aes_key = excluded.aes_key, \
                 events = excluded.events, receive_id = excluded.receive_id",
            )
            .bind(c.app_key.0.as_str())
            .bind(c.url.as_str())
            .bind(c.token.as_str())
            .bind(c.aes_key.as_str())
            .bind(c.events.join(","))
            .bind(receive_id_str(c.receive_id))
            .bind(last.unwrap_or(0))
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        }
        Ok(())
    }

    fn callback_state_from(row: &DB::Row) -> Result<CallbackState, StoreError> {
        let events: String = row.try_get("events").map_err(map)?;
        let receive_id: String = row.try_get("receive_id").map_err(map)?;
        let owner: Option<String> = row.try_get("lease_owner").map_err(map)?;
        let until: i64 = row.try_get("lease_until").map_err(map)?;
        let failures: i64 = row.try_get("failures").map_err(map)?;
        Ok(CallbackState {
            callback: Callback {
                app_key: AppKey(row.try_get("app_key").map_err(map)?),
                url: row.try_get("url").map_err(map)?,
                token: row.try_get("token").map_err(map)?,
                aes_key: row.try_get("aes_key").map_err(map)?,
                events: events.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
                receive_id: match receive_id.as_str() {
                    "app_key" => ReceiveId::AppKey,
                    "corp_id" => ReceiveId::CorpId,
                    other => return Err(corrupt("callback receive_id", other)),
                },
            },
            registered_seq: row.try_get("registered_seq").map_err(map)?,
            delivered_seq: row.try_get("delivered_seq").map_err(map)?,
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            next_attempt_at: row.try_get("next_attempt_at").map_err(map)?,
            last_error: row.try_get("last_error").map_err(map)?,
            lease: owner.map(|o| (o, until)),
        })
    }

    /// Every registration, for [`DirectoryStore::directory`](dingdir_core::DirectoryStore::directory).
    pub(crate) async fn all_callbacks(&self) -> Result<Vec<CallbackState>, StoreError> {
        sqlx::query(&format!("SELECT {STATE_COLUMNS} FROM callbacks ORDER BY app_key"))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?
            .iter()
            .map(Self::callback_state_from)
            .collect()
    }
    /// Takes or renews the lease on one app's delivery row in `d`, as
    /// [`CallbackStore::lease_callback`] describes; the row as leased.
    async fn lease_row(
        &self,
        d: Deliveries,
        app: &AppKey,
        node: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Option<DB::Row>, StoreError> {
        let mut tx = self.write().await?;
        let row = sqlx::query(&format!(
            "UPDATE {} SET lease_owner = $1, lease_until = $2 WHERE app_key = $3 \
             AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until <= $4) RETURNING {}",
            d.state, d.columns
        ))
        .bind(node)
        .bind(until)
        .bind(app.0.as_str())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(row)
    }

    /// Records attempts in `d`, as [`CallbackStore::record_attempts`] describes.
    async fn record_in(&self, d: Deliveries, attempts: &[Attempt], retry_at: Millis) -> Result<bool, StoreError> {
        let Some(last) = attempts.last() else {
            return Ok(true);
        };
        let (app, node) = (last.app_key.0.as_str(), last.node.as_str());
        let mut tx = self.write().await?;
        if let Some(seq) = attempts.iter().filter(|a| a.error.is_none()).map(|a| a.seq).max() {
            let done = sqlx::query(&format!(
                "UPDATE {} SET delivered_seq = $1, failures = 0, next_attempt_at = 0, last_error = NULL \
                 WHERE app_key = $2 AND lease_owner = $3 AND delivered_seq < $1",
                d.state
            ))
            .bind(seq)
            .bind(app)
            .bind(node)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
            if DB::rows_affected(&done) != 1 {
                return Ok(false);
            }
        }
        if let Some(error) = &last.error {
            let done = sqlx::query(&format!(
                "UPDATE {} SET failures = failures + 1, next_attempt_at = $1, last_error = $2 \
                 WHERE app_key = $3 AND lease_owner = $4 AND delivered_seq < $5",
                d.state
            ))
            .bind(retry_at)
            .bind(error.as_str())
            .bind(app)
            .bind(node)
            .bind(last.seq)
            .execute(&mut *tx)
            .await
            .map_err(map)?;
            if DB::rows_affected(&done) != 1 {
                return Ok(false);
            }
        }
        let insert = format!(
            "INSERT INTO {} (app_key, seq, at, node, error) VALUES ($1, $2, $3, $4, $5)",
            d.attempts
        );
        for a in attempts {
            sqlx::query(&insert)
                .bind(a.app_key.0.as_str())
                .bind(a.seq)
                .bind(a.at)
                .bind(a.node.as_str())
                .bind(a.error.as_deref())
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)?;
        Ok(true)
    }

    fn stream_cursor_from(row: &DB::Row) -> Result<StreamCursor, StoreError> {
        let owner: Option<String> = row.try_get("lease_owner").map_err(map)?;
        let until: i64 = row.try_get("lease_until").map_err(map)?;
        let failures: i64 = row.try_get("failures").map_err(map)?;
        Ok(StreamCursor {
            app_key: AppKey(row.try_get("app_key").map_err(map)?),
            registered_seq: row.try_get("registered_seq").map_err(map)?,
            delivered_seq: row.try_get("delivered_seq").map_err(map)?,
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            next_attempt_at: row.try_get("next_attempt_at").map_err(map)?,
            last_error: row.try_get("last_error").map_err(map)?,
            lease: owner.map(|o| (o, until)),
        })
    }

    fn attempt_from(row: &DB::Row) -> Result<Attempt, StoreError> {
        Ok(Attempt {
            app_key: AppKey(row.try_get("app_key").map_err(map)?),
            seq: row.try_get("seq").map_err(map)?,
            at: row.try_get("at").map_err(map)?,
            node: row.try_get("node").map_err(map)?,
            error: row.try_get("error").map_err(map)?,
        })
    }
}

/// One delivery channel's tables: HTTP callbacks' or Stream mode's.
#[derive(Clone, Copy)]
struct Deliveries {
    state: &'static str,
    columns: &'static str,
    attempts: &'static str,
}

impl Deliveries {
    const HTTP: Self = Self {
        state: "callbacks",
        columns: STATE_COLUMNS,
        attempts: "callback_attempts",
    };
    const STREAM: Self = Self {
        state: "stream_cursors",
        columns: CURSOR_COLUMNS,
        attempts: "stream_attempts",
    };
}

const CURSOR_COLUMNS: &str =
    "app_key, registered_seq, delivered_seq, failures, next_attempt_at, last_error, lease_owner, lease_until";

fn receive_id_str(r: ReceiveId) -> &'static str {
    match r {
        ReceiveId::AppKey => "app_key",
        ReceiveId::CorpId => "corp_id",
    }
}

#[async_trait::async_trait]
impl<DB> CallbackStore for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'c> &'c str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    async fn callbacks(&self) -> Result<Vec<CallbackState>, StoreError> {
        self.all_callbacks().await
    }

    async fn remove_callback(&self, app: &AppKey) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM callback_attempts WHERE app_key = $1")
            .bind(app.0.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        let done = sqlx::query("DELETE FROM callbacks WHERE app_key = $1")
            .bind(app.0.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn lease_callback(
        &self,
        app: &AppKey,
        node: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Option<CallbackState>, StoreError> {
        let row = self.lease_row(Deliveries::HTTP, app, node, now, until).await?;
        row.as_ref().map(Self::callback_state_from).transpose()
    }

    async fn record_attempts(&self, attempts: &[Attempt], retry_at: Millis) -> Result<bool, StoreError> {
        self.record_in(Deliveries::HTTP, attempts, retry_at).await
    }

    async fn attempts(&self, after: i64, upto: i64) -> Result<Vec<Attempt>, StoreError> {
        sqlx::query(
            "SELECT app_key, seq, at, node, error FROM callback_attempts WHERE seq > $1 AND seq <= $2 \
             ORDER BY seq, app_key, at",
        )
        .bind(after)
        .bind(upto)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(Self::attempt_from)
        .collect()
    }

    async fn open_stream_cursor(&self, app: &AppKey) -> Result<StreamCursor, StoreError> {
        let mut tx = self.write().await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM change_log")
            .fetch_one(&mut *tx)
            .await
            .map_err(map)?;
        sqlx::query(
            "INSERT INTO stream_cursors (app_key, registered_seq, delivered_seq) VALUES ($1, $2, $2) \
             ON CONFLICT (app_key) DO NOTHING",
        )
        .bind(app.0.as_str())
        .bind(last.unwrap_or(0))
        .execute(&mut *tx)
        .await
        .map_err(map)?;
        let row = sqlx::query(&format!(
            "SELECT {CURSOR_COLUMNS} FROM stream_cursors WHERE app_key = $1"
        ))
        .bind(app.0.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(map)?;
        let cursor = Self::stream_cursor_from(&row)?;
        tx.commit().await.map_err(map)?;
        Ok(cursor)
    }

    async fn stream_cursors(&self) -> Result<Vec<StreamCursor>, StoreError> {
        sqlx::query(&format!("SELECT {CURSOR_COLUMNS} FROM stream_cursors ORDER BY app_key"))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?
            .iter()
            .map(Self::stream_cursor_from)
            .collect()
    }

    async fn lease_stream(
        &self,
        app: &AppKey,
        node: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Option<StreamCursor>, StoreError> {
        let row = self.lease_row(Deliveries::STREAM, app, node, now, until).await?;
        row.as_ref().map(Self::stream_cursor_from).transpose()
    }

    async fn record_stream_attempts(&self, attempts: &[Attempt], retry_at: Millis) -> Result<bool, StoreError> {
        self.record_in(Deliveries::STREAM, attempts, retry_at).await
    }

    async fn stream_attempts(&self, app: &AppKey, after: i64, limit: u64) -> Result<Vec<Attempt>, StoreError> {
        sqlx::query(
            "SELECT app_key, seq, at, node, error FROM stream_attempts WHERE app_key = $1 AND seq > $2 \
             ORDER BY seq, at LIMIT $3",
        )
        .bind(app.0.as_str())
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(Self::attempt_from)
        .collect()
    }
}
