//! Seed files through the CLI: idempotent apply, byte-stable export, and refusals that name the
//! file, line and field and leave the store unchanged.

use crate::harness::run;
use std::path::{Path, PathBuf};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");

fn db_arg(db: &Path) -> String {
    format!("sqlite:{}", db.display())
}

fn apply(db: &Path, file: &Path) -> std::process::Output {
    run(&["apply", file.to_str().unwrap(), "--db", &db_arg(db)])
}

fn export(db: &Path) -> String {
    let out = run(&["export", "--db", &db_arg(db)]);
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn seeded_db(dir: &Path) -> PathBuf {
    let db = dir.join("store.sqlite");
    let out = apply(&db, Path::new(DEMO));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    db
}

#[test]
fn applying_the_demo_twice_gives_byte_identical_exports() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_db(dir.path());
    let first = export(&db);
    let out = apply(&db, Path::new(DEMO));
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("applied {DEMO}: 2 corps, 5 apps, 8 people, 9 memberships\n")
    );
    assert_eq!(export(&db), first);
    assert!(
        first.contains("secret_hash: $argon2id$"),
        "secrets are exported hashed:\n{first}"
    );
    assert!(!first.contains("demo-internal-secret"));
}

#[test]
fn an_export_applied_to_an_empty_store_exports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_db(dir.path());
    let exported = export(&db);
    let file = dir.path().join("exported.yaml");
    std::fs::write(&file, &exported).unwrap();
    let fresh = dir.path().join("fresh.sqlite");
    let out = apply(&fresh, &file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(export(&fresh), exported);
}

#[test]
fn an_edited_seed_updates_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_db(dir.path());
    let edited = std::fs::read_to_string(DEMO)
        .unwrap()
        .replace("name: Demo Co", "name: Demo Company");
    let file = dir.path().join("edited.yaml");
    std::fs::write(&file, edited).unwrap();
    assert!(apply(&db, &file).status.success());
    let after = export(&db);
    assert!(after.contains("name: Demo Company"));
    assert_eq!(after.matches("- id: ding").count(), 2, "no corp was added:\n{after}");
}

const BASE: &str = "corps:\n  - id: dingdemo\n    name: Demo\n";

/// Each row: a seed (appended to BASE), and what the error must say: `file:line:col: field: message`.
const BAD_SEEDS: &[(&str, &str, &str)] = &[
    ("bad_yaml", "people:\n  - nick: [unclosed\n", ":5:"),
    (
        "unknown_field",
        "people:\n  - nick: x\n    mobile: \"15000000001\"\n    colour: red\n",
        ":7:5: people[0].colour: unknown field `colour`",
    ),
    (
        "duplicate_userid",
        "people:\n  - nick: a\n    mobile: \"15000000001\"\n    memberships: [{corp: dingdemo, userid: same}]\n  - nick: b\n    mobile: \"15000000002\"\n    memberships: [{corp: dingdemo, userid: same}]\n",
        ":10:",
    ),
    (
        "unknown_corp",
        "people:\n  - nick: a\n    mobile: \"15000000001\"\n    memberships:\n      - corp: dingnowhere\n",
        ":8:15: people[0].memberships[0].corp: unknown corp dingnowhere",
    ),
    (
        "malformed_mobile",
        "people:\n  - nick: a\n    mobile: \"1500000\"\n",
        ":6:13: people[0].mobile: `1500000`",
    ),
];

#[test]
fn malformed_seeds_are_refused_whole_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_db(dir.path());
    let before = export(&db);
    for (name, body, want) in BAD_SEEDS {
        let file = dir.path().join(format!("{name}.yaml"));
        // A valid corp first, so a refused file that wrote anything would show in the export.
        std::fs::write(&file, format!("{BASE}{body}")).unwrap();
        let out = apply(&db, &file);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: accepted");
        let line = stderr.lines().find(|l| l.starts_with("dingdir: ")).unwrap_or_default();
        assert!(
            line.starts_with(&format!("dingdir: {}:", file.display())),
            "{name}: {stderr}"
        );
        assert!(line.contains(want), "{name}: want {want:?} in {line:?}");
        assert_eq!(export(&db), before, "{name}: the store changed");
    }
    let dup = std::fs::read_to_string(dir.path().join("duplicate_userid.yaml")).unwrap();
    assert_eq!(
        dup.lines().nth(9),
        Some("    memberships: [{corp: dingdemo, userid: same}]"),
        "line 10 is the second claim"
    );
}

/// `generate` writes a directory `serve` can answer from, a sample of it beside the file, and
/// leaves no write-ahead log behind (it closes the store, so SQLite checkpoints into the file).
#[tokio::test]
async fn generate_writes_a_servable_directory_and_a_clean_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gen.sqlite");
    let out = run(&["generate", "--people", "2000", "--db", &db_arg(&db)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let wal = dir.path().join("gen.sqlite-wal");
    let wal_bytes = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_bytes, 0, "{} left with {wal_bytes} bytes", wal.display());
    let sample: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("gen.sqlite.sample.json")).unwrap()).unwrap();
    let members = sample["members"].as_array().unwrap();
    assert!(!members.is_empty(), "{sample}");

    let server = crate::harness::Server::serve(&db, &[]);
    let r = crate::harness::http()
        .get(server.url("/gettoken"))
        .query(&[
            ("appkey", sample["app_key"].as_str().unwrap()),
            ("appsecret", sample["app_secret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    let token: serde_json::Value = r.json().await.unwrap();
    assert_eq!(token["errcode"], 0, "{token}");
    let r = crate::harness::http()
        .post(server.url("/topapi/v2/user/getbymobile"))
        .query(&[("access_token", token["access_token"].as_str().unwrap())])
        .json(&serde_json::json!({ "mobile": members[0]["mobile"] }))
        .send()
        .await
        .unwrap();
    let found: serde_json::Value = r.json().await.unwrap();
    assert_eq!(found["errcode"], 0, "{found}");
    assert_eq!(found["result"]["userid"], members[0]["userid"], "{found}");

    // The generated tree: departments below the root, members placed in them with managers,
    // and the sample's largest department paged to exactly its member count.
    let token = token["access_token"].as_str().unwrap();
    let call = |path: &'static str, body: serde_json::Value| {
        let url = server.url(path);
        async move {
            let r = crate::harness::http()
                .post(url)
                .query(&[("access_token", token)])
                .json(&body)
                .send()
                .await
                .unwrap();
            let v: serde_json::Value = r.json().await.unwrap();
            assert_eq!(v["errcode"], 0, "{path}: {v}");
            v["result"].clone()
        }
    };
    let subs = call("/topapi/v2/department/listsub", serde_json::json!({ "dept_id": 1 })).await;
    assert!(subs.as_array().is_some_and(|s| !s.is_empty()), "{subs}");
    let mut managed = 0;
    for m in members.iter().take(20) {
        let user = call("/topapi/v2/user/get", serde_json::json!({ "userid": m["userid"] })).await;
        let depts = user["dept_id_list"].as_array().unwrap();
        assert!((1..=2).contains(&depts.len()), "{user}");
        managed += usize::from(user["manager_userid"].is_string());
    }
    assert!(managed >= 15, "{managed} of 20 have a manager");
    // About one member in twenty holds one of the corp's roles.
    let mut holders = 0;
    for m in members {
        let user = call("/topapi/v2/user/get", serde_json::json!({ "userid": m["userid"] })).await;
        if let Some(roles) = user["role_list"].as_array() {
            assert!(
                roles.len() == 1 && roles[0]["group_name"] == "职务" && roles[0]["id"].as_i64() > Some(4_000_000_000),
                "{user}"
            );
            holders += 1;
        }
    }
    assert!(
        (1..=members.len() / 5).contains(&holders),
        "{holders} of {} hold a role",
        members.len()
    );
    let largest = &sample["largest_department"];
    let expected = largest["members"].as_u64().unwrap();
    assert!(expected > 0, "{sample}");
    let (mut cursor, mut seen, mut pages) = (0, std::collections::HashSet::new(), 0);
    loop {
        let page = call(
            "/topapi/v2/user/list",
            serde_json::json!({ "dept_id": largest["id"], "cursor": cursor, "size": 100 }),
        )
        .await;
        for u in page["list"].as_array().unwrap() {
            assert!(seen.insert(u["userid"].as_str().unwrap().to_owned()), "{u} twice");
        }
        pages += 1;
        assert!(pages <= expected / 100 + 1, "more pages than {expected} members need");
        if page["has_more"] != true {
            break;
        }
        cursor = page["next_cursor"].as_i64().unwrap();
    }
    assert_eq!(seen.len() as u64, expected, "{largest}");
}
