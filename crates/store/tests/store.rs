//! One storage suite, run on every backend available (SQLite always; PostgreSQL when
//! `DINGDIR_TEST_POSTGRES_URL` is set, and always in CI).

#![allow(clippy::unwrap_used, reason = "test helpers fail by panicking")]

use dingdir_core::ident::IdSecret;
use dingdir_core::mobile::Mobile;
use dingdir_core::model::{Directory, MemberDept, PersonId};
use dingdir_core::seed;
use dingdir_core::token::{CodeRecord, Grant, StoredAppToken, TokenKind, TokenRecord};
use dingdir_core::{Store, TokenStore};
use dingdir_proto::ids::{AppKey, CorpId, UserId};
use dingdir_store::testing::{Backend, backends, fresh_postgres_database, store_on};
use dingdir_store::{PgStore, SqliteStore, SqliteTarget};
use std::sync::Arc;

const DEMO: &str = include_str!("../../../examples/demo.yaml");

async fn seeded(backend: Backend) -> Arc<dyn Store> {
    let store = store_on(backend).await;
    seed::apply_text(store.as_ref(), "demo.yaml", DEMO).await.unwrap();
    store
}

/// Two independent stores (separate pools, as two nodes have) on one database.
async fn two_nodes(backend: Backend, dir: &std::path::Path) -> (Arc<dyn Store>, Arc<dyn Store>) {
    match backend {
        Backend::Sqlite => {
            let target = SqliteTarget::File(dir.join("shared.sqlite"));
            let a = SqliteStore::open(&target).await.unwrap();
            let b = SqliteStore::open(&target).await.unwrap();
            (Arc::new(a), Arc::new(b))
        }
        Backend::Postgres => {
            let url = fresh_postgres_database().await;
            let (a, b) = tokio::join!(PgStore::open(&url, 4), PgStore::open(&url, 4));
            (Arc::new(a.unwrap()), Arc::new(b.unwrap()))
        }
    }
}

#[tokio::test]
async fn a_seed_round_trips_through_every_backend() {
    let mut exports = Vec::new();
    for backend in backends() {
        let store = seeded(backend).await;
        let dir = store.directory().await.unwrap();
        assert_eq!(
            (dir.corps.len(), dir.apps.len(), dir.people.len()),
            (2, 5, 8),
            "{backend:?}"
        );
        let zhangsan = dir.people.iter().find(|(p, _)| p.id.0 == "zhangsan").unwrap();
        assert_eq!(zhangsan.1.len(), 2, "{backend:?}: both memberships");
        let yaml = seed::to_yaml(&seed::export(&dir)).unwrap();
        // Secrets are hashed with fresh salts per store; compare everything else.
        let scrubbed: String = yaml
            .lines()
            .filter(|l| !l.contains("_hash:"))
            .collect::<Vec<_>>()
            .join("\n");
        exports.push((backend, scrubbed));
    }
    for pair in exports.windows(2) {
        assert_eq!(
            pair[0].1, pair[1].1,
            "{:?} and {:?} export differently",
            pair[0].0, pair[1].0
        );
    }
}

#[tokio::test]
async fn lookups_find_what_the_seed_wrote() {
    for backend in backends() {
        let store = seeded(backend).await;
        let demo = CorpId("ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4".into());
        let app = store.app(&AppKey("dingdemosuite".into())).await.unwrap().unwrap();
        assert_eq!(app.authorized_corps.len(), 2, "{backend:?}");
        assert_eq!(app.suite_ticket.as_deref(), Some("demo-suite-ticket"));
        let mobile = dingdir_core::mobile::Mobile::parse("15000009144").unwrap();
        assert_eq!(
            store.person_by_mobile(&mobile).await.unwrap().unwrap().id.0,
            "zhangsan",
            "{backend:?}"
        );
        let mut found: Vec<String> = store
            .members_by_mobile(&demo, &mobile)
            .await
            .unwrap()
            .into_iter()
            .map(|(m, _)| m.userid.0)
            .collect();
        found.sort();
        assert_eq!(
            found,
            ["zhangsan", "zhaoliu_ex"],
            "{backend:?}: never Other Co's exclusive account"
        );
        let person = store.person(&PersonId("lisi".into())).await.unwrap().unwrap();
        assert_eq!(
            store.person_by_number(person.number).await.unwrap().unwrap().id,
            person.id,
            "{backend:?}"
        );
        assert!(store.person_by_number(u64::MAX).await.unwrap().is_none());
        let other = CorpId("ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01".into());
        let by_login = |corp: CorpId, login: &'static str| {
            let store = store.clone();
            async move { store.person_by_login_id(&corp, login).await.unwrap().map(|p| p.id.0) }
        };
        assert_eq!(
            by_login(demo.clone(), "zhaoliu").await.as_deref(),
            Some("zhaoliu-exclusive")
        );
        assert_eq!(by_login(other, "qianjiu").await.as_deref(), Some("other-exclusive"));
        assert_eq!(
            by_login(demo, "qianjiu").await,
            None,
            "{backend:?}: a login name is per corp"
        );
    }
}

/// Two exclusive accounts swap login names in one apply: the unique index never sees both at once.
#[tokio::test]
async fn login_names_move_between_accounts_in_one_apply() {
    let account = |id: &str, login: &str| {
        format!(
            "  - id: {id}\n    nick: n\n    exclusive_of: dingtree\n    login_id: {login}\n    memberships:\n      - {{ corp: dingtree, userid: {id} }}\n"
        )
    };
    let corp = "corps:\n  - { id: dingtree, name: Tree Co }\npeople:\n";
    for backend in backends() {
        let store = store_on(backend).await;
        let before = format!("{corp}{}{}", account("a", "one"), account("b", "two"));
        seed::apply_text(store.as_ref(), "t.yaml", &before).await.unwrap();
        let after = format!("{corp}{}{}", account("a", "two"), account("b", "one"));
        seed::apply_text(store.as_ref(), "t.yaml", &after).await.unwrap();
        let tree = CorpId("dingtree".into());
        let holder = store.person_by_login_id(&tree, "one").await.unwrap().map(|p| p.id.0);
        assert_eq!(holder.as_deref(), Some("b"), "{backend:?}");
        let dir = store.directory().await.unwrap();
        let a = dir.people.iter().find(|(p, _)| p.id.0 == "a").unwrap();
        assert_eq!(a.0.login_id.as_deref(), Some("two"), "{backend:?}");
    }
}

#[tokio::test]
async fn the_id_secret_is_fixed_at_first_use() {
    for backend in backends() {
        let store = store_on(backend).await;
        let first = IdSecret::from_passphrase("one");
        assert_eq!(store.id_secret(&first).await.unwrap(), first);
        assert_eq!(
            store.id_secret(&IdSecret::from_passphrase("two")).await.unwrap(),
            first,
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn two_nodes_racing_for_an_app_token_get_one_token() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = two_nodes(backend, dir.path()).await;
        seed::apply_text(a.as_ref(), "demo.yaml", DEMO).await.unwrap();
        let key = AppKey("dingdemointernal".into());
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let key = key.clone();
            let candidate = StoredAppToken {
                digest: format!("{i:064x}"),
                nonce: Some(format!("{i:032x}")),
            };
            tasks.push(tokio::spawn(async move {
                store
                    .issue_app_token(&key, None, &candidate, 1_000, 9_000, None)
                    .await
                    .unwrap()
            }));
        }
        let mut tokens = Vec::new();
        for t in tasks {
            tokens.push(t.await.unwrap());
        }
        tokens.dedup();
        assert_eq!(tokens.len(), 1, "{backend:?}: {tokens:?}");
        // Expired: the next request replaces it, digest and nonce.
        let fresh = StoredAppToken {
            digest: "f".repeat(64),
            nonce: Some("e".repeat(32)),
        };
        let next = a
            .issue_app_token(&key, None, &fresh, 10_000, 20_000, None)
            .await
            .unwrap();
        assert_eq!(next, fresh, "{backend:?}");
        let kept = b
            .issue_app_token(&key, None, &tokens[0], 11_000, 21_000, None)
            .await
            .unwrap();
        assert_eq!(kept, fresh, "{backend:?}: still valid, so kept");
        // Two callers replacing the same unusable token: the first replaces it, the second keeps
        // the first's.
        let (x, y) = (
            StoredAppToken {
                digest: "1".repeat(64),
                nonce: Some("1".repeat(32)),
            },
            StoredAppToken {
                digest: "2".repeat(64),
                nonce: Some("2".repeat(32)),
            },
        );
        let first = a
            .issue_app_token(&key, None, &x, 12_000, 22_000, Some(&fresh.digest))
            .await
            .unwrap();
        assert_eq!(first, x, "{backend:?}: the unusable one is replaced");
        let second = b
            .issue_app_token(&key, None, &y, 12_000, 22_000, Some(&fresh.digest))
            .await
            .unwrap();
        assert_eq!(second, x, "{backend:?}: already replaced, so kept");
    }
}

#[tokio::test]
async fn a_code_is_redeemed_once_across_nodes() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = two_nodes(backend, dir.path()).await;
        seed::apply_text(a.as_ref(), "demo.yaml", DEMO).await.unwrap();
        let app = AppKey("dingdemointernal".into());
        let grant = Grant {
            app_key: app.clone(),
            person_id: PersonId("zhangsan".into()),
            corp_id: None,
            scope: "openid".into(),
        };
        a.insert_code(&CodeRecord {
            digest: "c".repeat(64),
            grant,
            expires_at: 5_000,
        })
        .await
        .unwrap();
        let code = "c".repeat(64);
        let (x, y) = tokio::join!(a.redeem_code(&code, &app, 1_000), b.redeem_code(&code, &app, 1_000));
        let wins = [x.unwrap(), y.unwrap()].into_iter().flatten().count();
        assert_eq!(wins, 1, "{backend:?}");
        assert!(a.redeem_code(&"c".repeat(64), &app, 1_000).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn codes_refuse_the_wrong_app_and_expire() {
    for backend in backends() {
        let store = seeded(backend).await;
        let app = AppKey("dingdemointernal".into());
        let grant = Grant {
            app_key: app.clone(),
            person_id: PersonId("zhangsan".into()),
            corp_id: None,
            scope: "openid".into(),
        };
        store
            .insert_code(&CodeRecord {
                digest: "d".repeat(32),
                grant,
                expires_at: 5_000,
            })
            .await
            .unwrap();
        let other = AppKey("dingdemoreadonly".into());
        assert!(
            store
                .redeem_code(&"d".repeat(32), &other, 1_000)
                .await
                .unwrap()
                .is_none(),
            "{backend:?}"
        );
        assert!(
            store.redeem_code(&"d".repeat(32), &app, 5_000).await.unwrap().is_none(),
            "{backend:?}: expired"
        );
    }
}

#[tokio::test]
async fn tokens_round_trip_and_purge() {
    for backend in backends() {
        let store = seeded(backend).await;
        let record = TokenRecord {
            digest: "a".repeat(64),
            kind: TokenKind::User,
            app_key: AppKey("dingdemointernal".into()),
            corp_id: Some(CorpId("ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4".into())),
            person_id: Some(PersonId("zhangsan".into())),
            expires_at: 2_000,
        };
        store.insert_token(&record).await.unwrap();
        assert_eq!(
            store.token(&record.digest).await.unwrap(),
            Some(record.clone()),
            "{backend:?}"
        );
        let duplicate = store.insert_token(&record).await.unwrap_err();
        assert!(
            matches!(duplicate, dingdir_core::StoreError::Conflict(_)),
            "{backend:?}: {duplicate:?}"
        );
        store.insert_ticket(&"b".repeat(64), 2_500).await.unwrap();
        assert_eq!(store.purge_expired(3_000).await.unwrap(), 2, "the token and the ticket");
        assert_eq!(store.token(&record.digest).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_consent_ticket_is_spent_once_across_nodes_and_expires() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = two_nodes(backend, dir.path()).await;
        let ticket = "t".repeat(64);
        a.insert_ticket(&ticket, 5_000).await.unwrap();
        let (x, y) = tokio::join!(a.redeem_ticket(&ticket, 1_000), b.redeem_ticket(&ticket, 1_000));
        let wins = [x.unwrap(), y.unwrap()].into_iter().filter(|&won| won).count();
        assert_eq!(wins, 1, "{backend:?}");
        assert!(!a.redeem_ticket(&ticket, 1_000).await.unwrap(), "{backend:?}: spent");
        a.insert_ticket(&"u".repeat(64), 5_000).await.unwrap();
        assert!(
            !b.redeem_ticket(&"u".repeat(64), 5_000).await.unwrap(),
            "{backend:?}: expired"
        );
        assert!(
            !b.redeem_ticket(&"v".repeat(64), 1_000).await.unwrap(),
            "{backend:?}: unknown"
        );
    }
}

#[tokio::test]
async fn migrations_apply_once_on_a_reopened_store() {
    let dir = tempfile::tempdir().unwrap();
    let target = SqliteTarget::File(dir.path().join("m.sqlite"));
    drop(SqliteStore::open(&target).await.unwrap());
    let store = SqliteStore::open(&target).await.unwrap();
    store.ping().await.unwrap();
    if backends().contains(&Backend::Postgres) {
        let url = fresh_postgres_database().await;
        let (a, b) = tokio::join!(PgStore::open(&url, 2), PgStore::open(&url, 2));
        a.unwrap().ping().await.unwrap();
        b.unwrap().ping().await.unwrap();
    }
}

/// A store made before credentials were kept as digests: its tokens, codes and refresh tokens
/// are rewritten as digests when it is opened, so they still work and are no longer stored.
#[tokio::test]
async fn an_upgraded_store_keeps_its_credentials_only_as_digests() {
    use sqlx::ConnectOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    let old = [
        include_str!("../migrations/sqlite/0001_directory.sql"),
        include_str!("../migrations/sqlite/0002_tokens.sql"),
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO schema_migrations VALUES (1, '0001_directory'), (2, '0002_tokens');
         INSERT INTO tokens VALUES ('0123456789abcdef0123456789abcdef', 'user', 'dingdemointernal', NULL, 'zhangsan', 9000000000000);
         INSERT INTO auth_codes VALUES ('fedcba9876543210fedcba9876543210', 'dingdemointernal', 'zhangsan', NULL, 'openid', 9000000000000, NULL);
         INSERT INTO refresh_tokens VALUES ('00112233445566778899aabbccddeeff', 'dingdemointernal', 'zhangsan', NULL, 'openid', 9000000000000, NULL);",
    ];
    for sql in old {
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    }
    drop(conn);
    let store = SqliteStore::open(&SqliteTarget::File(path.clone())).await.unwrap();
    let token = "0123456789abcdef0123456789abcdef";
    let found = store.token(&dingdir_core::secret::digest(token)).await.unwrap();
    assert_eq!(found.map(|t| t.person_id), Some(Some(PersonId("zhangsan".into()))));
    assert_eq!(store.token(token).await.unwrap(), None, "not by the token itself");
    let app = AppKey("dingdemointernal".into());
    let code = dingdir_core::secret::digest("fedcba9876543210fedcba9876543210");
    assert!(store.redeem_code(&code, &app, 1).await.unwrap().is_some());
    let refresh = dingdir_core::secret::digest("00112233445566778899aabbccddeeff");
    assert!(store.redeem_refresh(&refresh, &app, 1).await.unwrap().is_some());
    store.close().await;
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(dir.path().join("old.sqlite-wal")).unwrap_or_default());
    for secret in [
        token,
        "fedcba9876543210fedcba9876543210",
        "00112233445566778899aabbccddeeff",
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is still in the file"
        );
    }
}

#[tokio::test]
async fn a_refused_seed_leaves_every_backend_unchanged() {
    for backend in backends() {
        let store = seeded(backend).await;
        let before = store.directory().await.unwrap();
        let bad = "corps:\n  - id: dingnew\n    name: New\npeople:\n  - nick: x\n    mobile: \"15000009144\"\n    memberships: [{corp: dingnew}]\n";
        let err = seed::apply_text(store.as_ref(), "bad.yaml", bad).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("mobile 15000009144 already belongs to person zhangsan"),
            "{backend:?}: {err}"
        );
        assert_eq!(store.directory().await.unwrap(), before, "{backend:?}");
    }
}

/// A store made before departments upgrades in place: every corp gets its root department, named
/// after it, and every member sits in it; nothing else changes.
#[tokio::test]
async fn a_store_from_before_departments_gets_roots_and_keeps_its_members() {
    use dingdir_core::DirectoryStore;
    use sqlx::ConnectOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    let old = [
        include_str!("../migrations/sqlite/0001_directory.sql"),
        include_str!("../migrations/sqlite/0002_tokens.sql"),
        include_str!("../migrations/sqlite/0003_credential_digests.sql"),
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO schema_migrations VALUES (1, '0001_directory'), (2, '0002_tokens'), (3, '0003_credential_digests');
         INSERT INTO corps VALUES ('dingold', 'Old Co');
         INSERT INTO people (person_id, number, nick) VALUES ('p1', 1, 'old one');
         INSERT INTO memberships VALUES ('dingold', 'u1', 'p1', '老一', 'active');
         INSERT INTO people (person_id, number, nick) VALUES ('p2', 2, 'old two');
         INSERT INTO memberships VALUES ('dingold', 'u2', 'p2', '老二', 'departed');",
    ];
    for sql in old {
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    }
    drop(conn);
    let store = SqliteStore::open(&SqliteTarget::File(path.clone())).await.unwrap();
    let corp = CorpId("dingold".into());
    let root = store.department(&corp, 1).await.unwrap().unwrap();
    assert_eq!((root.name.as_str(), root.parent_id), ("Old Co", None));
    let member = store.member(&corp, &UserId("u1".into())).await.unwrap().unwrap();
    assert_eq!(member.membership.name.as_deref(), Some("老一"));
    assert_eq!(
        member.details.departments,
        [MemberDept {
            dept_id: 1,
            order: 0,
            leader: false
        }]
    );
    assert_eq!(store.department_members(&corp, 1).await.unwrap(), [UserId("u1".into())]);
    let page = store.department_page(&corp, 1, 0, 10).await.unwrap();
    assert_eq!(page.len(), 1, "the upgrade numbers the members it places in the root");
    // A member who departed before departures were recorded keeps no time and reason `unknown`.
    let gone = store.member(&corp, &UserId("u2".into())).await.unwrap().unwrap();
    assert_eq!(gone.membership.status, dingdir_core::model::MemberStatus::Departed);
    assert_eq!(
        gone.details.departure,
        Some(dingdir_core::model::Departure {
            left_at: None,
            reason: dingdir_core::model::LeaveReason::Unknown
        })
    );
    assert!(store.departures(&corp, 0, i64::MAX, None, 10).await.unwrap().is_empty());
    store.close().await;
}

/// The department tree and the member record, as the demo seed writes them, on every backend.
#[tokio::test]
async fn departments_and_member_records_read_back_in_order() {
    for backend in backends() {
        let store = seeded(backend).await;
        let demo = CorpId("ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4".into());
        let root = store.department(&demo, 1).await.unwrap().unwrap();
        assert_eq!((root.name.as_str(), root.parent_id), ("Demo Co", None), "{backend:?}");
        let top: Vec<i64> = store
            .sub_departments(&demo, 1)
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(top, [100, 200], "{backend:?}: by order");
        let rd: Vec<i64> = store
            .sub_departments(&demo, 100)
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(rd, [101, 102], "{backend:?}");
        assert!(store.sub_departments(&demo, 101).await.unwrap().is_empty());
        // wangwu's departure as the demo seeds it; keyset paging past it finds nothing.
        let gone = store.departures(&demo, 0, i64::MAX, None, 10).await.unwrap();
        let gone: Vec<(&str, Option<i64>)> = gone
            .iter()
            .map(|(m, _)| {
                (
                    m.membership.userid.0.as_str(),
                    m.details.departure.and_then(|d| d.left_at),
                )
            })
            .collect();
        assert_eq!(gone, [("wangwu", Some(1_793_583_000_000))], "{backend:?}");
        let wangwu = UserId("wangwu".into());
        let after = store
            .departures(&demo, 0, i64::MAX, Some((1_793_583_000_000, &wangwu)), 10)
            .await
            .unwrap();
        assert!(after.is_empty(), "{backend:?}");
        assert!(
            store
                .departures(&demo, 0, 1_793_583_000_000, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // The whole tree in one read, by order then id (the root's order is 0; 101's too).
        let all: Vec<(i64, Option<i64>)> = store
            .departments(&demo)
            .await
            .unwrap()
            .iter()
            .map(|d| (d.id, d.parent_id))
            .collect();
        assert_eq!(
            all,
            [
                (1, None),
                (101, Some(100)),
                (100, Some(1)),
                (102, Some(100)),
                (200, Some(1))
            ],
            "{backend:?}"
        );
        let other = CorpId("ding0b7e4d2a6c8f1e3b5d7a9c2e4f6b8d01".into());
        assert!(
            store
                .departments(&other)
                .await
                .unwrap()
                .iter()
                .all(|d| d.corp_id == other)
        );
        let backend_team = store.department_members(&demo, 101).await.unwrap();
        let want = [UserId("zhangsan".into()), UserId("lisi".into())];
        assert_eq!(backend_team, want, "{backend:?}: by member order");
        assert!(store.department_leaders(&demo, 101).await.unwrap().is_empty());
        let rd_leads = store.department_leaders(&demo, 100).await.unwrap();
        assert_eq!(rd_leads, [UserId("zhangsan".into())], "{backend:?}");
        let zhangsan = store.member(&demo, &UserId("zhangsan".into())).await.unwrap().unwrap();
        let d = &zhangsan.details;
        assert_eq!(
            d.departments,
            [
                MemberDept {
                    dept_id: 100,
                    order: 0,
                    leader: true
                },
                MemberDept {
                    dept_id: 101,
                    order: 1,
                    leader: false
                }
            ],
            "{backend:?}"
        );
        assert_eq!(
            (
                d.title.as_deref(),
                d.job_number.as_deref(),
                d.hired_date,
                d.admin,
                d.boss
            ),
            (Some("研发总监"), Some("0001"), Some(1_577_836_800_000), true, false),
            "{backend:?}"
        );
        let lisi = store.member(&demo, &UserId("lisi".into())).await.unwrap().unwrap();
        assert_eq!(
            lisi.details.manager_userid,
            Some(UserId("zhangsan".into())),
            "{backend:?}"
        );
        assert_eq!(store.member(&demo, &UserId("nobody".into())).await.unwrap(), None);
    }
}

/// A seed of `n` members of department 2 of one corp: order `n - i` (so the list reverses the
/// file), every tenth departed.
fn big_department_seed(n: usize) -> String {
    let mut y = String::from(
        "corps:\n  - id: dingpagecorp\n    name: Page Co\n    departments:\n      - { id: 2, name: 大部门 }\npeople:\n",
    );
    for i in 0..n {
        let status = if i % 10 == 9 { "departed" } else { "active" };
        y.push_str(&format!(
            "  - id: p{i}\n    nick: n{i}\n    mobile: \"139{i:08}\"\n    memberships:\n      - {{ corp: dingpagecorp, userid: u{i:04}, status: {status}, departments: [{{ id: 2, order: {} }}] }}\n",
            n - i
        ));
    }
    y
}

/// Every active member of a department exactly once across pages, in custom order, on every
/// backend: after a seed apply, after an apply that moves one member to the front, and after a
/// bulk insert once its members are numbered.
#[tokio::test]
async fn department_pages_cover_every_active_member_once_in_order() {
    let corp = CorpId("dingpagecorp".into());
    let collect = |store: Arc<dyn Store>| {
        let corp = corp.clone();
        async move {
            let mut seen = Vec::new();
            for offset in (0..300).step_by(100) {
                let page = store.department_page(&corp, 2, offset, 100).await.unwrap();
                seen.extend(page.into_iter().map(|(m, _)| m.membership.userid.0));
            }
            seen
        }
    };
    // Order n - i reverses the file; departed (i % 10 == 9) are left out.
    let want: Vec<String> = (0..250)
        .rev()
        .filter(|i| i % 10 != 9)
        .map(|i| format!("u{i:04}"))
        .collect();
    for backend in backends() {
        let store = store_on(backend).await;
        seed::apply_text(store.as_ref(), "big.yaml", &big_department_seed(250))
            .await
            .unwrap();
        assert_eq!(collect(store.clone()).await, want, "{backend:?}");
        assert_eq!(store.department_members(&corp, 2).await.unwrap().len(), 225);
        assert_eq!(store.member_count(&corp).await.unwrap(), 225, "{backend:?}");
        // u0100 moves to the front; everyone behind it shifts by one.
        let moved = "people:\n  - id: p100\n    nick: n100\n    mobile: \"13900000100\"\n    memberships:\n      - { corp: dingpagecorp, userid: u0100, departments: [{ id: 2, order: 0 }] }\n";
        seed::apply_text(store.as_ref(), "move.yaml", moved).await.unwrap();
        let mut moved_want = vec!["u0100".to_owned()];
        moved_want.extend(want.iter().filter(|u| *u != "u0100").cloned());
        assert_eq!(collect(store.clone()).await, moved_want, "{backend:?}");
        // The move marked the department: pages counted from the order index until it is
        // renumbered, then seeks on the numbers, with the same answers either way.
        store.number_members().await.unwrap();
        assert_eq!(collect(store.clone()).await, moved_want, "{backend:?}");
        let leaves = "people:\n  - id: p100\n    nick: n100\n    mobile: \"13900000100\"\n    memberships:\n      - { corp: dingpagecorp, userid: u0100, status: departed, departments: [{ id: 2, order: 0 }] }\n";
        seed::apply_text(store.as_ref(), "leave.yaml", leaves).await.unwrap();
        assert_eq!(
            collect(store.clone()).await,
            want.iter().filter(|u| *u != "u0100").cloned().collect::<Vec<_>>(),
            "{backend:?}"
        );
        seed::apply_text(store.as_ref(), "move.yaml", moved).await.unwrap();
        store.number_members().await.unwrap();

        // The bulk path: the same pages before number_members (counted) and after (seeked).
        let dir = store.directory().await.unwrap();
        let bulk = store_on(backend).await;
        bulk.insert_directory(&dir).await.unwrap();
        assert_eq!(collect(bulk.clone()).await, moved_want, "{backend:?}");
        bulk.number_members().await.unwrap();
        assert_eq!(collect(bulk.clone()).await, moved_want, "{backend:?}");

        // The import, in two batches (the first with the corps and departments): the same
        // directory, the same pages, seeking at once, and its dropped indexes back.
        let imported = store_on(backend).await;
        let mut first = dir.clone();
        let rest = first.people.split_off(first.people.len() / 2);
        let second = Directory {
            people: rest,
            ..Directory::default()
        };
        imported.import(&mut vec![first, second].into_iter()).await.unwrap();
        assert_eq!(imported.directory().await.unwrap(), dir, "{backend:?}");
        assert_eq!(collect(imported.clone()).await, moved_want, "{backend:?}");
        let mobile = Mobile::from_parts("86", "13900000100").unwrap();
        assert_eq!(
            imported.members_by_mobile(&corp, &mobile).await.unwrap().len(),
            1,
            "{backend:?}"
        );
        // A second import of the same people conflicts and leaves the store as it was.
        let again = Directory {
            people: dir.people.clone(),
            ..Directory::default()
        };
        assert!(
            imported.import(&mut std::iter::once(again)).await.is_err(),
            "{backend:?}"
        );
        assert_eq!(imported.directory().await.unwrap(), dir, "{backend:?}");
        store.close().await;
        bulk.close().await;
        imported.close().await;
    }
}

#[tokio::test]
async fn rate_windows_count_concurrent_hits_exactly_and_limits_round_trip() {
    use dingdir_proto::admin::{RateLimit, RateWindow};
    for backend in backends() {
        let store = store_on(backend).await;
        assert!(store.rate_limits().await.unwrap().is_empty(), "{backend:?}");
        let limits = vec![
            RateLimit {
                app: Some("dingx".into()),
                endpoint: None,
                limit: 20,
                per: RateWindow::Minute,
                all_apps: false,
            },
            RateLimit {
                app: None,
                endpoint: Some("GetUser".into()),
                limit: 1,
                per: RateWindow::Second,
                all_apps: true,
            },
        ];
        store.set_rate_limits(&limits).await.unwrap();
        assert_eq!(store.rate_limits().await.unwrap(), limits, "{backend:?}");

        // 40 hits from 8 tasks on one window: each count from 1 to 40 handed out once.
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..5 {
                    got.push(store.hit_window("w|a|e|0", 10_000).await.unwrap());
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(all, (1..=40).collect::<Vec<u64>>(), "{backend:?}");
        assert_eq!(
            store.hit_window("w|a|e|1000", 10_000).await.unwrap(),
            1,
            "another window"
        );
        // Purged once expired; reset forgets the limits too.
        store.purge_expired(20_000).await.unwrap();
        assert_eq!(store.hit_window("w|a|e|0", 30_000).await.unwrap(), 1, "{backend:?}");
        store.reset().await.unwrap();
        assert!(store.rate_limits().await.unwrap().is_empty(), "{backend:?}");
    }
}

/// A write carries the memberships it read its person with; the store applies it only while the
/// person still has exactly those, and refuses it as stale (changing nothing) otherwise.
#[tokio::test]
async fn a_write_read_from_stale_memberships_is_refused_and_changes_nothing() {
    use dingdir_core::StoreError;
    use dingdir_core::change::{Write, membership_keys};
    use dingdir_core::mobile::Mobile;
    for backend in backends() {
        let store = seeded(backend).await;
        let person = store
            .person_by_mobile(&Mobile::parse("15000009144").unwrap())
            .await
            .unwrap()
            .unwrap();
        let mut members = Vec::new();
        for m in store.memberships_of(&person.id).await.unwrap() {
            members.push(store.member(&m.corp_id, &m.userid).await.unwrap().unwrap());
        }
        assert!(!members.is_empty(), "{backend:?}");
        let renamed = |name: &str| {
            let mut ms = members.clone();
            ms[0].membership.name = Some(name.to_owned());
            ms
        };
        let first = (
            members[0].membership.corp_id.clone(),
            members[0].membership.userid.clone(),
        );
        let name_of = |store: Arc<dyn Store>| {
            let first = first.clone();
            async move { store.member(&first.0, &first.1).await.unwrap().unwrap().membership.name }
        };
        // Read as a new person (no memberships), as a create racing another create would.
        let stale = Write {
            directory: dingdir_core::model::Directory {
                people: vec![(person.clone(), renamed("stale"))],
                ..Default::default()
            },
            people_as_read: vec![(person.id.clone(), Vec::new())],
            ..Write::default()
        };
        assert!(
            matches!(store.apply(&stale).await, Err(StoreError::Stale(_))),
            "{backend:?}"
        );
        assert_ne!(name_of(store.clone()).await.as_deref(), Some("stale"), "{backend:?}");
        let fresh = Write {
            directory: dingdir_core::model::Directory {
                people: vec![(person.clone(), renamed("fresh"))],
                ..Default::default()
            },
            people_as_read: vec![(person.id.clone(), membership_keys(&members))],
            ..Write::default()
        };
        store.apply(&fresh).await.unwrap();
        assert_eq!(name_of(store.clone()).await.as_deref(), Some("fresh"), "{backend:?}");
        store.close().await;
    }
}

#[tokio::test]
async fn robots_round_trip_and_the_inbox_keeps_the_newest() {
    use dingdir_core::robot::{InboxEntry, InboxQuery, RobotMessage, WebhookRobot};
    use dingdir_proto::ids::CorpId;
    for backend in backends() {
        let store = store_on(backend).await;
        let robot = WebhookRobot {
            token: "tok".into(),
            corp_id: CorpId("dingcorp".into()),
            name: "Bot".into(),
            group: "Ops".into(),
            secret: Some("SECx".into()),
            keywords: vec!["告警".into()],
            ip_ranges: vec!["10.0.0.0/8".into()],
            blocked_until: 0,
        };
        store.put_robot(&robot).await.unwrap();
        assert_eq!(store.robot("tok").await.unwrap(), Some(robot.clone()), "{backend:?}");
        store.block_robot("tok", 5_000).await.unwrap();
        store.block_robot("tok", 1_000).await.unwrap();
        let renamed = WebhookRobot {
            name: "Bot 2".into(),
            ..robot.clone()
        };
        store.put_robot(&renamed).await.unwrap();
        let kept = store.robot("tok").await.unwrap().unwrap();
        assert_eq!(
            (kept.name.as_str(), kept.blocked_until),
            ("Bot 2", 5_000),
            "a replace keeps the block"
        );
        assert_eq!(store.robots().await.unwrap().len(), 1);

        let entry = |n: i64, conversation: &str| InboxEntry {
            seq: 0,
            at: n,
            corp_id: CorpId("dingcorp".into()),
            conversation: conversation.into(),
            sender_kind: "webhook_robot".into(),
            sender: "Bot".into(),
            sender_id: "tok".into(),
            message: RobotMessage {
                msgtype: "text".into(),
                content: serde_json::json!({"content": format!("m{n}")}),
                at: (n == 1).then(|| serde_json::json!({"isAtAll": true})),
            },
            person: None,
            task: String::new(),
            read_at: None,
            recalled_at: None,
        };
        let mut seqs = Vec::new();
        for n in 1..=5 {
            seqs.push(
                store
                    .append_message(&entry(n, if n % 2 == 0 { "B" } else { "A" }), 3)
                    .await
                    .unwrap(),
            );
        }
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        let all = store
            .messages(&InboxQuery {
                limit: 100,
                ..InboxQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(
            all.iter().map(|e| e.at).collect::<Vec<_>>(),
            [3, 4, 5],
            "the newest 3, {backend:?}"
        );
        let a = store
            .messages(&InboxQuery {
                conversation: Some("A".into()),
                limit: 100,
                ..InboxQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(a.iter().map(|e| e.at).collect::<Vec<_>>(), [3, 5]);
        assert_eq!(a[0].message.content, serde_json::json!({"content": "m3"}));
        assert!(store.remove_robot("tok").await.unwrap());
        assert!(!store.remove_robot("tok").await.unwrap());
        store.reset().await.unwrap();
        assert!(
            store
                .messages(&InboxQuery {
                    limit: 10,
                    ..InboxQuery::default()
                })
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn groups_notices_reads_recalls_and_media_round_trip() {
    use dingdir_core::group::Group;
    use dingdir_core::message::{Forbidden, Media, Notice};
    use dingdir_core::robot::{InboxEntry, InboxQuery, RobotMessage};
    for backend in backends() {
        let store = store_on(backend).await;
        let corp = CorpId("dingcorp".into());
        let group = Group::new(
            corp.clone(),
            "Ops".into(),
            Some(UserId("amy".into())),
            vec![UserId("bob".into())],
            vec![AppKey("bot1".into())],
        );
        store.put_group(&group).await.unwrap();
        assert_eq!(store.group(&corp, "Ops").await.unwrap(), Some(group.clone()));
        assert_eq!(
            store.group_by_conversation(&group.conversation_id).await.unwrap(),
            Some(group.clone()),
            "{backend:?}"
        );
        assert_eq!(store.groups().await.unwrap().len(), 1);

        let entry = |user: &str| InboxEntry {
            seq: 0,
            at: 10,
            corp_id: corp.clone(),
            conversation: format!("notice:bot1:{user}"),
            sender_kind: "work_notice".into(),
            sender: "Bot".into(),
            sender_id: "bot1".into(),
            message: RobotMessage {
                msgtype: "text".into(),
                content: serde_json::json!({"content": "hi"}),
                at: None,
            },
            person: Some(UserId(user.into())),
            task: String::new(),
            read_at: None,
            recalled_at: None,
        };
        let notice = Notice {
            task_id: 0,
            corp_id: corp.clone(),
            app_key: AppKey("bot1".into()),
            agent_id: 77,
            at: 10,
            message: entry("amy").message,
            recipients: vec![UserId("amy".into()), UserId("bob".into())],
            invalid_users: vec!["nobody".into()],
            invalid_depts: vec![404],
            forbidden: vec![Forbidden {
                code: "143106".into(),
                count: 1,
                userid: "cat".into(),
            }],
            recalled_at: None,
        };
        let task = store
            .put_notice(&notice, &[entry("amy"), entry("bob")], 100)
            .await
            .unwrap();
        let kept = store.notice(task).await.unwrap().unwrap();
        assert_eq!(
            kept,
            Notice {
                task_id: task,
                ..notice.clone()
            }
        );
        let of_task = |t: String| InboxQuery {
            task: Some(t),
            limit: 10,
            ..InboxQuery::default()
        };
        let sent = store.messages(&of_task(task.to_string())).await.unwrap();
        assert_eq!(sent.len(), 2);
        assert!(sent.iter().all(|e| e.task == task.to_string()));
        let amy = store
            .messages(&InboxQuery {
                person: Some("amy".into()),
                limit: 10,
                ..InboxQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(amy.len(), 1);
        assert_eq!(store.mark_read(&UserId("amy".into()), amy[0].seq, 20).await.unwrap(), 1);
        assert_eq!(
            store.mark_read(&UserId("amy".into()), amy[0].seq, 30).await.unwrap(),
            0,
            "read once"
        );
        assert_eq!(store.recall(&task.to_string(), 40).await.unwrap(), 2);
        let after = store.messages(&of_task(task.to_string())).await.unwrap();
        assert_eq!(
            after.iter().map(|e| (e.read_at, e.recalled_at)).collect::<Vec<_>>(),
            [(Some(20), Some(40)), (None, Some(40))]
        );
        assert_eq!(store.notice(task).await.unwrap().unwrap().recalled_at, Some(40));

        let media = |id: &str| Media {
            media_id: id.into(),
            corp_id: corp.clone(),
            app_key: AppKey("bot1".into()),
            kind: "image".into(),
            file_name: "a.png".into(),
            content_type: "image/png".into(),
            at: 5,
            data: vec![0, 159, 146, 150, 255],
        };
        store.put_media(&media("@a"), 2).await.unwrap();
        store.put_media(&media("@b"), 2).await.unwrap();
        assert_eq!(store.media("@a").await.unwrap(), Some(media("@a")));
        store.put_media(&media("@c"), 2).await.unwrap();
        assert_eq!(store.media("@a").await.unwrap(), None, "only the newest 2 are kept");
        assert!(store.media("@c").await.unwrap().is_some());

        let hits = [("w1".to_owned(), 3), ("w2".to_owned(), 1), ("w1".to_owned(), 2)];
        assert_eq!(store.hit_windows(&hits, i64::MAX).await.unwrap(), [3, 1, 5]);

        store.reset().await.unwrap();
        assert!(store.groups().await.unwrap().is_empty());
        assert!(store.notice(task).await.unwrap().is_none());
        assert!(store.media("@c").await.unwrap().is_none());
    }
}

/// A seed applied to a store that holds no directory takes the bulk path (`load`): the rows,
/// the change log, the callbacks and the member lists are those the same seed writes when
/// applied to a store that already holds something.
#[tokio::test]
async fn a_seed_into_an_empty_store_loads_what_applying_it_writes() {
    use dingdir_core::change::ChangeQuery;
    const AT: i64 = 1_700_000_000_000;
    let demo = DEMO.replacen(
        "    agent_id: 3000000001\n",
        "    agent_id: 3000000001\n    callback: { url: \"http://127.0.0.1:9/events\", token: tok, aes_key: \"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\" }\n",
        1,
    );
    assert_ne!(demo, DEMO, "the demo seed's first app moved");
    let other = CorpId("dingffffffffffffffffffffffffffffffff".to_owned());
    let first = format!("corps:\n  - id: {}\n    name: Before\n", other.0);
    let log = |store: Arc<dyn Store>| async move {
        let query = ChangeQuery {
            limit: 1_000_000,
            ..ChangeQuery::default()
        };
        let entries = store.changes(&query).await.unwrap();
        entries.into_iter().map(|c| (c.at, c.change)).collect::<Vec<_>>()
    };
    for backend in backends() {
        let loaded = store_on(backend).await;
        seed::apply_text_at(loaded.as_ref(), "demo.yaml", &demo, AT)
            .await
            .unwrap();
        let applied = store_on(backend).await;
        seed::apply_text_at(applied.as_ref(), "first.yaml", &first, AT)
            .await
            .unwrap();
        let before = log(applied.clone()).await.len();
        seed::apply_text_at(applied.as_ref(), "demo.yaml", &demo, AT)
            .await
            .unwrap();

        // Plain secrets are hashed with a fresh salt each time.
        let scrub = |mut d: Directory| {
            d.apps.iter_mut().for_each(|a| a.secret_hash.clear());
            d.people.iter_mut().for_each(|(p, _)| p.password_hash = None);
            d
        };
        let mut want = scrub(applied.directory().await.unwrap());
        want.corps.retain(|c| c.id != other);
        want.departments.retain(|d| d.corp_id != other);
        let got = scrub(loaded.directory().await.unwrap());
        assert_eq!(got, want, "{backend:?}");
        assert!(!got.people.is_empty(), "{backend:?}");
        let want_log = log(applied.clone()).await.split_off(before);
        let got_log = log(loaded.clone()).await;
        assert!(!got_log.is_empty(), "{backend:?}: the load logs the members it adds");
        assert_eq!(got_log, want_log, "{backend:?}");
        let callbacks =
            |s: Vec<dingdir_core::callback::CallbackState>| s.into_iter().map(|c| c.callback).collect::<Vec<_>>();
        let got_callbacks = callbacks(loaded.callbacks().await.unwrap());
        assert_eq!(got_callbacks.len(), 1, "{backend:?}");
        assert_eq!(
            got_callbacks,
            callbacks(applied.callbacks().await.unwrap()),
            "{backend:?}"
        );
        // The registration starts after the load's own entries, as after an apply.
        let state = loaded.callbacks().await.unwrap().remove(0);
        assert_eq!(state.registered_seq, got_log.len() as i64, "{backend:?}");
        for d in &want.departments {
            assert_eq!(
                loaded.department_members(&d.corp_id, d.id).await.unwrap(),
                applied.department_members(&d.corp_id, d.id).await.unwrap(),
                "{backend:?}: department {} of {}",
                d.id,
                d.corp_id
            );
        }
        // The load left the store as any other: the same seed again changes nothing.
        seed::apply_text_at(loaded.as_ref(), "demo.yaml", &demo, AT)
            .await
            .unwrap();
        assert_eq!(log(loaded.clone()).await.len(), got_log.len(), "{backend:?}");
        loaded.close().await;
        applied.close().await;
    }
}
