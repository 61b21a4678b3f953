//! The `Store` implementation shared by every SQL backend: one set of queries, `$N`
//! placeholders, and SQL that SQLite and PostgreSQL both take. `store_impl!` instantiates it for
//! a backend's pool type; each backend supplies `write()` (a write transaction) and
//! `serialize_writers()` (what keeps two applies from interleaving).

macro_rules! store_impl {
    ($store:ident, $db:ty, $row:ty) => {
        use dingdir_core::clock::Millis;
        use dingdir_core::ident::IdSecret;
        use dingdir_core::mobile::Mobile;
        use dingdir_core::model::{App, AppKind, Corp, Directory, MemberStatus, Membership, Person, PersonId};
        use dingdir_core::token::{CodeRecord, Grant, RefreshRecord, StoredAppToken, TokenKind, TokenRecord};
        use dingdir_core::{Store, StoreError};
        use dingdir_proto::ids::{AppKey, CorpId, UserId};
        use sqlx::Row;



        impl $store {
            /// Applies pending migrations in one transaction, recorded in `schema_migrations`;
            /// nodes starting at once take turns (`serialize_writers`), so each applies once.
            /// Answers whether stored credentials were rewritten as digests.
            async fn migrate(&self, migrations: &[$crate::migrate::Migration]) -> Result<bool, StoreError> {
                let mut rewrote = false;
                let mut tx = self.write().await?;
                Self::serialize_writers(&mut tx).await?;
                sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)")
                    .execute(&mut *tx)
                    .await
                    .map_err(map)?;
                for m in migrations {
                    let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                        .bind(m.version)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map)?;
                    if done.is_some() {
                        continue;
                    }
                    tracing::info!(migration = m.name, "applying migration");
                    sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(map)?;
                    if m.version == $crate::migrate::CREDENTIAL_DIGESTS {
                        digest_stored_credentials(&mut tx).await?;
                        rewrote = true;
                    }
                    sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                        .bind(m.version)
                        .bind(m.name)
                        .execute(&mut *tx)
                        .await
                        .map_err(map)?;
                }
                tx.commit().await.map_err(map)?;
                Ok(rewrote)
            }

        async fn app_children(&self, key: &str, app: &mut App) -> Result<(), StoreError> {
            app.scopes = sqlx::query_scalar("SELECT scope FROM app_scopes WHERE app_key = $1 ORDER BY scope")
                .bind(key)
                .fetch_all(&self.pool)
                .await
                .map_err(map)?;
            app.redirect_uris = sqlx::query_scalar("SELECT uri FROM app_redirect_uris WHERE app_key = $1 ORDER BY uri")
                .bind(key)
                .fetch_all(&self.pool)
                .await
                .map_err(map)?;
            let corps: Vec<String> =
                sqlx::query_scalar("SELECT corp_id FROM app_corps WHERE app_key = $1 ORDER BY corp_id")
                    .bind(key)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map)?;
            app.authorized_corps = corps.into_iter().map(CorpId).collect();
            Ok(())
        }        }

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn person_from(row: &$row) -> Result<Person, StoreError> {
    let state_code: Option<String> = row.try_get("state_code").map_err(map)?;
    let national: Option<String> = row.try_get("mobile").map_err(map)?;
    let mobile = match (state_code, national) {
        (Some(sc), Some(n)) => Some(Mobile::from_parts(&sc, &n).map_err(|_| corrupt("mobile", &n))?),
        _ => None,
    };
    let number: i64 = row.try_get("number").map_err(map)?;
    Ok(Person {
        id: PersonId(row.try_get("person_id").map_err(map)?),
        number: u64::try_from(number).map_err(|_| corrupt("person number", &number.to_string()))?,
        nick: row.try_get("nick").map_err(map)?,
        mobile,
        email: row.try_get("email").map_err(map)?,
        avatar_url: row.try_get("avatar_url").map_err(map)?,
        password_hash: row.try_get("password_hash").map_err(map)?,
        exclusive_of: row
            .try_get::<Option<String>, _>("exclusive_of")
            .map_err(map)?
            .map(CorpId),
    })
}

fn membership_from(row: &$row) -> Result<Membership, StoreError> {
    let status: String = row.try_get("status").map_err(map)?;
    Ok(Membership {
        corp_id: CorpId(row.try_get("corp_id").map_err(map)?),
        userid: UserId(row.try_get("userid").map_err(map)?),
        person_id: PersonId(row.try_get("member_person_id").map_err(map)?),
        name: row.try_get("name").map_err(map)?,
        status: MemberStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
    })
}

fn app_from(row: &$row) -> Result<App, StoreError> {
    let kind: String = row.try_get("kind").map_err(map)?;
    Ok(App {
        key: AppKey(row.try_get("app_key").map_err(map)?),
        name: row.try_get("name").map_err(map)?,
        secret_hash: row.try_get("secret_hash").map_err(map)?,
        kind: AppKind::parse(&kind).ok_or_else(|| corrupt("app kind", &kind))?,
        corp_id: row.try_get::<Option<String>, _>("corp_id").map_err(map)?.map(CorpId),
        isv: row.try_get("isv").map_err(map)?,
        scopes: Vec::new(),
        redirect_uris: Vec::new(),
        authorized_corps: Vec::new(),
        suite_ticket: row.try_get("suite_ticket").map_err(map)?,
    })
}

/// Creates or updates an app and replaces its scopes, redirect URIs and authorised corps.
async fn write_app(tx: &mut sqlx::Transaction<'static, $db>, a: &App) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO apps (app_key, name, secret_hash, kind, corp_id, isv, suite_ticket) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (app_key) DO UPDATE SET \
         name = excluded.name, secret_hash = excluded.secret_hash, kind = excluded.kind, \
         corp_id = excluded.corp_id, isv = excluded.isv, suite_ticket = excluded.suite_ticket",
    )
    .bind(&a.key.0)
    .bind(&a.name)
    .bind(&a.secret_hash)
    .bind(a.kind.as_str())
    .bind(a.corp_id.as_ref().map(|c| &c.0))
    .bind(&a.isv)
    .bind(&a.suite_ticket)
    .execute(&mut **tx)
    .await
    .map_err(map)?;
    for (table, column, values) in app_child_rows(a) {
        sqlx::query(&format!("DELETE FROM {table} WHERE app_key = $1"))
            .bind(&a.key.0)
            .execute(&mut **tx)
            .await
            .map_err(map)?;
        for v in values {
            sqlx::query(&format!("INSERT INTO {table} (app_key, {column}) VALUES ($1, $2)"))
                .bind(&a.key.0)
                .bind(v)
                .execute(&mut **tx)
                .await
                .map_err(map)?;
        }
    }
    Ok(())
}

/// An app's child rows, as (table, column, values): written the same way by every writer.
fn app_child_rows(a: &App) -> [(&'static str, &'static str, Vec<&str>); 3] {
    [
        ("app_scopes", "scope", a.scopes.iter().map(String::as_str).collect()),
        ("app_redirect_uris", "uri", a.redirect_uris.iter().map(String::as_str).collect()),
        ("app_corps", "corp_id", a.authorized_corps.iter().map(|c| c.0.as_str()).collect()),
    ]
}

fn number_column(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("person number {n} exceeds 63 bits")))
}

#[async_trait::async_trait]
impl Store for $store {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(map)?;
        Ok(())
    }

    async fn close(&self) {
        self.close_all().await;
    }

    async fn id_secret(&self, proposed: &IdSecret) -> Result<IdSecret, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('id_secret', $1) ON CONFLICT (key) DO NOTHING")
            .bind(proposed.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'id_secret'")
            .fetch_one(&mut *tx)
            .await
            .map_err(map)?;
        tx.commit().await.map_err(map)?;
        IdSecret::from_hex(&stored).ok_or_else(|| corrupt("id secret", "<redacted>"))
    }

    async fn apply(&self, dir: &Directory) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        Self::serialize_writers(&mut tx).await?;
        for c in &dir.corps {
            sqlx::query("INSERT INTO corps (corp_id, name) VALUES ($1, $2) ON CONFLICT (corp_id) DO UPDATE SET name = excluded.name")
                .bind(&c.id.0)
                .bind(&c.name)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        for a in &dir.apps {
            write_app(&mut tx, a).await?;
        }
        // Memberships go first so that userids and mobiles can move between people in one apply.
        for (p, _) in &dir.people {
            sqlx::query("DELETE FROM memberships WHERE person_id = $1")
                .bind(&p.id.0)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            sqlx::query("UPDATE people SET mobile = NULL, state_code = NULL WHERE person_id = $1")
                .bind(&p.id.0)
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        for (p, _) in &dir.people {
            sqlx::query(
                "INSERT INTO people (person_id, number, nick, state_code, mobile, email, avatar_url, password_hash, exclusive_of) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (person_id) DO UPDATE SET \
                 nick = excluded.nick, state_code = excluded.state_code, mobile = excluded.mobile, \
                 email = excluded.email, avatar_url = excluded.avatar_url, \
                 password_hash = excluded.password_hash, exclusive_of = excluded.exclusive_of",
            )
            .bind(&p.id.0)
            .bind(number_column(p.number)?)
            .bind(&p.nick)
            .bind(p.mobile.as_ref().map(Mobile::state_code))
            .bind(p.mobile.as_ref().map(Mobile::national))
            .bind(&p.email)
            .bind(&p.avatar_url)
            .bind(&p.password_hash)
            .bind(p.exclusive_of.as_ref().map(|c| &c.0))
            .execute(&mut *tx)
            .await
            .map_err(map)?;
        }
        for (_, ms) in &dir.people {
            for m in ms {
                sqlx::query(
                    "INSERT INTO memberships (corp_id, userid, person_id, name, status) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&m.corp_id.0)
                .bind(&m.userid.0)
                .bind(&m.person_id.0)
                .bind(&m.name)
                .bind(m.status.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map)?;
            }
        }
        tx.commit().await.map_err(map)
    }

    async fn insert_directory(&self, dir: &Directory) -> Result<(), StoreError> {
        // Rows per statement: far below both backends' bound-parameter limits.
        const ROWS: usize = 400;
        let mut tx = self.write().await?;
        Self::serialize_writers(&mut tx).await?;
        for chunk in dir.corps.chunks(ROWS) {
            let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO corps (corp_id, name) ");
            q.push_values(chunk, |mut b, c| {
                b.push_bind(&c.id.0).push_bind(&c.name);
            });
            q.build().execute(&mut *tx).await.map_err(map)?;
        }
        // Apps are few: the one app writer serves the bulk insert too.
        for a in &dir.apps {
            write_app(&mut tx, a).await?;
        }
        for chunk in dir.people.chunks(ROWS) {
            let mut q = sqlx::QueryBuilder::<$db>::new(
                "INSERT INTO people (person_id, number, nick, state_code, mobile, email, avatar_url, password_hash, exclusive_of) ",
            );
            let mut numbers = Vec::with_capacity(chunk.len());
            for (p, _) in chunk {
                numbers.push(number_column(p.number)?);
            }
            q.push_values(chunk.iter().zip(&numbers), |mut b, ((p, _), n)| {
                b.push_bind(&p.id.0)
                    .push_bind(*n)
                    .push_bind(&p.nick)
                    .push_bind(p.mobile.as_ref().map(Mobile::state_code))
                    .push_bind(p.mobile.as_ref().map(Mobile::national))
                    .push_bind(&p.email)
                    .push_bind(&p.avatar_url)
                    .push_bind(&p.password_hash)
                    .push_bind(p.exclusive_of.as_ref().map(|c| &c.0));
            });
            q.build().execute(&mut *tx).await.map_err(map)?;
            let members: Vec<&Membership> = chunk.iter().flat_map(|(_, ms)| ms).collect();
            for part in members.chunks(ROWS) {
                let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO memberships (corp_id, userid, person_id, name, status) ");
                q.push_values(part, |mut b, m| {
                    b.push_bind(&m.corp_id.0)
                        .push_bind(&m.userid.0)
                        .push_bind(&m.person_id.0)
                        .push_bind(&m.name)
                        .push_bind(m.status.as_str());
                });
                q.build().execute(&mut *tx).await.map_err(map)?;
            }
        }
        tx.commit().await.map_err(map)
    }

    async fn directory(&self) -> Result<Directory, StoreError> {
        let corps = sqlx::query("SELECT corp_id, name FROM corps ORDER BY corp_id")
            .fetch_all(&self.pool)
            .await
            .map_err(map)?
            .iter()
            .map(|r| {
                Ok(Corp {
                    id: CorpId(r.try_get("corp_id").map_err(map)?),
                    name: r.try_get("name").map_err(map)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let rows = sqlx::query("SELECT * FROM apps ORDER BY app_key")
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let mut apps = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut app = app_from(row)?;
            let key = app.key.0.clone();
            self.app_children(&key, &mut app).await?;
            apps.push(app);
        }
        let people_rows = sqlx::query(concat!("SELECT ", $crate::sql::person_columns!(), " FROM people p ORDER BY p.person_id"))
            .fetch_all(&self.pool)
            .await
            .map_err(map)?;
        let member_rows = sqlx::query(concat!("SELECT ", $crate::sql::member_columns!(), " FROM memberships m ORDER BY m.person_id, m.corp_id"))
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        let mut members = member_rows.iter().map(membership_from).peekable();
        let mut people = Vec::with_capacity(people_rows.len());
        for row in &people_rows {
            let person = person_from(row)?;
            let mut ms = Vec::new();
            while let Some(Ok(m)) = members.peek() {
                if m.person_id != person.id {
                    break;
                }
                if let Some(Ok(m)) = members.next() {
                    ms.push(m);
                }
            }
            if let Some(Err(_)) = members.peek() {
                if let Some(Err(e)) = members.next() {
                    return Err(e);
                }
            }
            people.push((person, ms));
        }
        Ok(Directory { corps, apps, people })
    }

    async fn reset(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for table in [
            "memberships",
            "app_scopes",
            "app_redirect_uris",
            "app_corps",
            "apps",
            "people",
            "corps",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(map)?;
        }
        tx.commit().await.map_err(map)
    }

    async fn corp(&self, id: &CorpId) -> Result<Option<Corp>, StoreError> {
        let row = sqlx::query("SELECT corp_id, name FROM corps WHERE corp_id = $1")
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(|r| {
            Ok(Corp {
                id: CorpId(r.try_get("corp_id").map_err(map)?),
                name: r.try_get("name").map_err(map)?,
            })
        })
        .transpose()
    }

    async fn app(&self, key: &AppKey) -> Result<Option<App>, StoreError> {
        let Some(row) = sqlx::query("SELECT * FROM apps WHERE app_key = $1")
            .bind(&key.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
        else {
            return Ok(None);
        };
        let mut app = app_from(&row)?;
        self.app_children(&key.0, &mut app).await?;
        Ok(Some(app))
    }

    async fn person(&self, id: &PersonId) -> Result<Option<Person>, StoreError> {
        sqlx::query(concat!("SELECT ", $crate::sql::person_columns!(), " FROM people p WHERE p.person_id = $1"))
            .bind(&id.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(person_from)
            .transpose()
    }

    async fn person_by_number(&self, number: u64) -> Result<Option<Person>, StoreError> {
        let Ok(n) = i64::try_from(number) else {
            return Ok(None);
        };
        sqlx::query(concat!("SELECT ", $crate::sql::person_columns!(), " FROM people p WHERE p.number = $1"))
            .bind(n)
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?
            .as_ref()
            .map(person_from)
            .transpose()
    }

    async fn person_by_mobile(&self, mobile: &Mobile) -> Result<Option<Person>, StoreError> {
        sqlx::query(concat!("SELECT ", $crate::sql::person_columns!(), " FROM people p WHERE p.mobile = $1 AND p.state_code = $2 AND p.exclusive_of IS NULL"))
        .bind(mobile.national())
        .bind(mobile.state_code())
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?
        .as_ref()
        .map(person_from)
        .transpose()
    }

    async fn membership(&self, corp: &CorpId, userid: &UserId) -> Result<Option<Membership>, StoreError> {
        sqlx::query(concat!("SELECT ", $crate::sql::member_columns!(), " FROM memberships m WHERE m.corp_id = $1 AND m.userid = $2"))
        .bind(&corp.0)
        .bind(&userid.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(map)?
        .as_ref()
        .map(membership_from)
        .transpose()
    }

    async fn memberships_of(&self, person: &PersonId) -> Result<Vec<Membership>, StoreError> {
        sqlx::query(concat!("SELECT ", $crate::sql::member_columns!(), " FROM memberships m WHERE m.person_id = $1 ORDER BY m.corp_id"))
        .bind(&person.0)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?
        .iter()
        .map(membership_from)
        .collect()
    }

    async fn members_by_mobile(&self, corp: &CorpId, mobile: &Mobile) -> Result<Vec<(Membership, Person)>, StoreError> {
        let rows = sqlx::query($crate::sql::members_by_mobile_sql!())
        .bind(mobile.national())
        .bind(mobile.state_code())
        .bind(&corp.0)
        .fetch_all(&self.pool)
        .await
        .map_err(map)?;
        let mut found = rows
            .iter()
            .map(|r| Ok((membership_from(r)?, person_from(r)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        found.sort_by(|a, b| a.0.userid.cmp(&b.0.userid));
        Ok(found)
    }

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
        .bind(corp.map(|c| &c.0))
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
        .bind(t.corp_id.as_ref().map(|c| &c.0))
        .bind(t.person_id.as_ref().map(|p| &p.0))
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
        insert_grant(&self.pool, "auth_codes", "code", &c.digest, &c.grant, c.expires_at).await
    }

    async fn redeem_code(&self, digest: &str, app: &AppKey, now: Millis) -> Result<Option<CodeRecord>, StoreError> {
        Ok(redeem_grant(&self.pool, "auth_codes", "code", digest, app, now)
            .await?
            .map(|(grant, expires_at)| CodeRecord {
                digest: digest.to_owned(),
                grant,
                expires_at,
            }))
    }

    async fn insert_refresh(&self, r: &RefreshRecord) -> Result<(), StoreError> {
        insert_grant(&self.pool, "refresh_tokens", "token", &r.digest, &r.grant, r.expires_at).await
    }

    async fn redeem_refresh(
        &self,
        digest: &str,
        app: &AppKey,
        now: Millis,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        Ok(redeem_grant(&self.pool, "refresh_tokens", "token", digest, app, now)
            .await?
            .map(|(grant, expires_at)| RefreshRecord {
                digest: digest.to_owned(),
                grant,
                expires_at,
            }))
    }

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
        Ok(done.rows_affected() == 1)
    }

    async fn set_suite_ticket(&self, app: &AppKey, ticket: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE apps SET suite_ticket = $1 WHERE app_key = $2 AND kind = 'third_party_enterprise'")
                .bind(ticket)
                .bind(&app.0)
                .execute(&self.pool)
                .await
                .map_err(map)?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_expired(&self, before: Millis) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let mut n = 0;
        for table in ["tokens", "auth_codes", "refresh_tokens", "consent_tickets"] {
            n += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1"))
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(map)?
                .rows_affected();
        }
        tx.commit().await.map_err(map)?;
        Ok(n)
    }
}

/// Rewrites the tokens, codes and refresh tokens stored before digests as their digests (a
/// stored one is 32 hex, a digest 64), so they keep working and the store no longer holds them.
async fn digest_stored_credentials(tx: &mut sqlx::Transaction<'static, $db>) -> Result<(), StoreError> {
    for (table, column) in [("tokens", "token"), ("auth_codes", "code"), ("refresh_tokens", "token")] {
        let plain: Vec<String> = sqlx::query_scalar(&format!("SELECT {column} FROM {table} WHERE length({column}) = 32"))
            .fetch_all(&mut **tx)
            .await
            .map_err(map)?;
        for value in plain {
            sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2"))
                .bind(dingdir_core::secret::digest(&value))
                .bind(&value)
                .execute(&mut **tx)
                .await
                .map_err(map)?;
        }
    }
    Ok(())
}

async fn insert_grant(
    pool: &sqlx::Pool<$db>,
    table: &str,
    key_column: &str,
    key: &str,
    g: &Grant,
    expires_at: Millis,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO {table} ({key_column}, app_key, person_id, corp_id, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(key)
    .bind(&g.app_key.0)
    .bind(&g.person_id.0)
    .bind(g.corp_id.as_ref().map(|c| &c.0))
    .bind(&g.scope)
    .bind(expires_at)
    .execute(pool)
    .await
    .map_err(map)?;
    Ok(())
}

/// Marks a code or refresh token used in one statement, so two redeemers cannot both win.
async fn redeem_grant(
    pool: &sqlx::Pool<$db>,
    table: &str,
    key_column: &str,
    key: &str,
    app: &AppKey,
    now: Millis,
) -> Result<Option<(Grant, Millis)>, StoreError> {
    let row = sqlx::query(&format!(
        "UPDATE {table} SET used_at = $1 WHERE {key_column} = $2 AND app_key = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING app_key, person_id, corp_id, scope, expires_at"
    ))
    .bind(now)
    .bind(key)
    .bind(&app.0)
    .fetch_optional(pool)
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
    };
}

pub(crate) use store_impl;

/// The person columns every person read selects (`p` is `people`).
macro_rules! person_columns {
    () => {
        "p.person_id, p.number, p.nick, p.state_code, p.mobile, p.email, p.avatar_url, p.password_hash, p.exclusive_of"
    };
}

/// The membership columns every membership read selects (`m` is `memberships`).
macro_rules! member_columns {
    () => {
        "m.corp_id, m.userid, m.person_id AS member_person_id, m.name, m.status"
    };
}

/// The mobile lookup. People by mobile drive the join (CROSS JOIN fixes SQLite's loop order;
/// PostgreSQL plans it freely): driven from the corp's memberships instead, a large corp is
/// scanned per lookup. The few rows are sorted by the caller, so no ORDER BY tempts the planner.
macro_rules! members_by_mobile_sql {
    () => {
        concat!(
            "SELECT ",
            $crate::sql::member_columns!(),
            ", ",
            $crate::sql::person_columns!(),
            " FROM people p CROSS JOIN memberships m \
             WHERE p.mobile = $1 AND p.state_code = $2 AND m.person_id = p.person_id AND m.corp_id = $3"
        )
    };
}

pub(crate) use {member_columns, members_by_mobile_sql, person_columns};
