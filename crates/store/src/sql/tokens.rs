//! Tokens, authorisation codes, refresh tokens and consent tickets: each stored as a digest,
//! the one-use ones spent in a single statement so two redeemers cannot both win.

use super::{Dialect, SqlStore, corrupt};
use crate::error::map;
use dingdir_core::StoreError;
use dingdir_core::clock::Millis;
use dingdir_core::model::PersonId;
use dingdir_core::store::{SignInStore, TokenStore};
use dingdir_core::token::{CodeRecord, Grant, RefreshRecord, StoredAppToken, TokenKind, TokenRecord};
use dingdir_proto::ids::{AppKey, CorpId};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

/// A one-use grant's table: authorisation codes or refresh tokens.
#[derive(Clone, Copy)]
struct GrantTable {
    table: &'static str,
    key: &'static str,
}

const CODES: GrantTable = GrantTable {
    table: "auth_codes",
    key: "code",
};

const REFRESH: GrantTable = GrantTable {
    table: "refresh_tokens",
    key: "token",
};

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
    async fn insert_grant(&self, t: GrantTable, key: &str, g: &Grant, expires_at: Millis) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO {} ({}, app_key, person_id, corp_id, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            t.table, t.key
        ))
        .bind(key)
        .bind(&g.app_key.0)
        .bind(&g.person_id.0)
        .bind(g.corp_id.as_ref().map(|c| c.0.as_str()))
        .bind(&g.scope)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    /// Marks a code or refresh token used in one statement, so two redeemers cannot both win.
    async fn redeem_grant(
        &self,
        t: GrantTable,
        key: &str,
        app: &AppKey,
        now: Millis,
    ) -> Result<Option<(Grant, Millis)>, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE {} SET used_at = $1 WHERE {} = $2 AND app_key = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING app_key, person_id, corp_id, scope, expires_at",
            t.table, t.key
        ))
        .bind(now)
        .bind(key)
        .bind(&app.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?;
        let Some(row) = row else { return Ok(None) };
        let grant = Grant {
            app_key: AppKey(row.try_get("app_key").map_err(map)?),
            person_id: PersonId(row.try_get("person_id").map_err(map)?),
            corp_id: row.try_get::<Option<String>, _>("corp_id").map_err(map)?.map(CorpId),
            scope: row.try_get("scope").map_err(map)?,
        };
        Ok(Some((grant, row.try_get("expires_at").map_err(map)?)))
    }
}

#[async_trait::async_trait]
impl<DB> TokenStore for SqlStore<DB>
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
    async fn issue_app_token(
        &self,
        app: &AppKey,
        corp: Option<&CorpId>,
        candidate: &StoredAppToken,
        now: Millis,
        expires_at: Millis,
        unusable: Option<&str>,
    ) -> Result<StoredAppToken, StoreError> {
        let row = sqlx::query(
            "INSERT INTO tokens (token, kind, app_key, corp_id, person_id, expires_at, nonce) \
             VALUES ($1, 'app', $2, $3, NULL, $4, $6) \
             ON CONFLICT (app_key) WHERE kind = 'app' DO UPDATE SET \
             token = CASE WHEN tokens.expires_at > $5 AND tokens.token <> COALESCE($7, '') THEN tokens.token ELSE excluded.token END, \
             nonce = CASE WHEN tokens.expires_at > $5 AND tokens.token <> COALESCE($7, '') THEN tokens.nonce ELSE excluded.nonce END, \
             corp_id = excluded.corp_id, expires_at = excluded.expires_at \
             RETURNING token, nonce",
        )
        .bind(&candidate.digest)
        .bind(&app.0)
        .bind(corp.map(|c| c.0.as_str()))
        .bind(expires_at)
        .bind(now)
        .bind(candidate.nonce.as_deref())
        .bind(unusable)
        .fetch_one(&self.pool)
        .await
        .map_err(map)?;
        Ok(StoredAppToken {
            digest: row.try_get("token").map_err(map)?,
            nonce: row.try_get("nonce").map_err(map)?,
        })
    }

    async fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (token, kind, app_key, corp_id, person_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.digest)
        .bind(t.kind.as_str())
        .bind(&t.app_key.0)
        .bind(t.corp_id.as_ref().map(|c| c.0.as_str()))
        .bind(t.person_id.as_ref().map(|p| p.0.as_str()))
        .bind(t.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(())
    }

    async fn token(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError> {
        let Some(row) =
            sqlx::query("SELECT token, kind, app_key, corp_id, person_id, expires_at FROM tokens WHERE token = $1")
                .bind(digest)
                .fetch_optional(&self.pool)
                .await
                .map_err(map)?
        else {
            return Ok(None);
        };
        let kind: String = row.try_get("kind").map_err(map)?;
        Ok(Some(TokenRecord {
            digest: row.try_get("token").map_err(map)?,
            kind: TokenKind::parse(&kind).ok_or_else(|| corrupt("token kind", &kind))?,
            app_key: AppKey(row.try_get("app_key").map_err(map)?),
            corp_id: row.try_get::<Option<String>, _>("corp_id").map_err(map)?.map(CorpId),
            person_id: row
                .try_get::<Option<String>, _>("person_id")
                .map_err(map)?
                .map(PersonId),
            expires_at: row.try_get("expires_at").map_err(map)?,
        }))
    }

    async fn insert_code(&self, c: &CodeRecord) -> Result<(), StoreError> {
        self.insert_grant(CODES, &c.digest, &c.grant, c.expires_at).await
    }

    async fn redeem_code(&self, digest: &str, app: &AppKey, now: Millis) -> Result<Option<CodeRecord>, StoreError> {
        Ok(self
            .redeem_grant(CODES, digest, app, now)
            .await?
            .map(|(grant, expires_at)| CodeRecord {
                digest: digest.to_owned(),
                grant,
                expires_at,
            }))
    }

    async fn insert_refresh(&self, r: &RefreshRecord) -> Result<(), StoreError> {
        self.insert_grant(REFRESH, &r.digest, &r.grant, r.expires_at).await
    }

    async fn redeem_refresh(
        &self,
        digest: &str,
        app: &AppKey,
        now: Millis,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        Ok(self
            .redeem_grant(REFRESH, digest, app, now)
            .await?
            .map(|(grant, expires_at)| RefreshRecord {
                digest: digest.to_owned(),
                grant,
                expires_at,
            }))
    }
}

#[async_trait::async_trait]
impl<DB> SignInStore for SqlStore<DB>
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
    async fn insert_ticket(&self, digest: &str, expires_at: Millis) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO consent_tickets (digest, expires_at) VALUES ($1, $2)")
            .bind(digest)
            .bind(expires_at)
            .execute(&self.pool)
            .await
            .map_err(map)?;
        Ok(())
    }

    async fn redeem_ticket(&self, digest: &str, now: Millis) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE consent_tickets SET used_at = $1 WHERE digest = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(digest)
        .execute(&self.pool)
        .await
        .map_err(map)?;
        Ok(DB::rows_affected(&done) == 1)
    }
}
