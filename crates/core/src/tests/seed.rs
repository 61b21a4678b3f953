//! The seed's department rules: every reference resolves, in the file or the store, and every
//! department reaches its corp's root.

use super::MemoryDirectory;
use crate::seed::{ApplyError, apply_text};

const CORP: &str = "corps:\n  - id: dingtree\n    name: Tree Co\n    departments:\n";

async fn refusal(store: &MemoryDirectory, text: &str) -> String {
    match apply_text(store, "t.yaml", text).await {
        Err(ApplyError::Invalid(e)) => e.to_string(),
        other => panic!("not refused as invalid: {other:?}"),
    }
}

#[tokio::test]
async fn departments_must_resolve_and_reach_the_root() {
    let store = MemoryDirectory::default();
    let dup = format!("{CORP}      - {{ id: 2, name: a }}\n      - {{ id: 2, name: b }}\n");
    assert_eq!(
        refusal(&store, &dup).await,
        "t.yaml:6:15: corps[0].departments[1].id: duplicate department 2 in corp dingtree (first at line 5)"
    );
    let root = format!("{CORP}      - {{ id: 1, name: again }}\n");
    assert!(
        refusal(&store, &root)
            .await
            .ends_with("must be 2 or more (1 is the root)")
    );
    let unknown_parent = format!("{CORP}      - {{ id: 2, name: a, parent: 9 }}\n");
    assert!(
        refusal(&store, &unknown_parent)
            .await
            .ends_with("unknown department 9 in corp dingtree: not in this file nor in the store")
    );
    let looped = format!("{CORP}      - {{ id: 2, name: a, parent: 3 }}\n      - {{ id: 3, name: b, parent: 2 }}\n");
    assert!(
        refusal(&store, &looped)
            .await
            .contains("does not reach the root: its parents loop")
    );
}

#[tokio::test]
async fn a_loop_through_stored_departments_is_refused_too() {
    let store = MemoryDirectory::default();
    let tree = format!("{CORP}      - {{ id: 2, name: a }}\n      - {{ id: 3, name: b, parent: 2 }}\n");
    apply_text(&store, "t.yaml", &tree).await.unwrap();
    // 2 under 3, while the store keeps 3 under 2.
    let looped = format!("{CORP}      - {{ id: 2, name: a, parent: 3 }}\n");
    assert!(
        refusal(&store, &looped)
            .await
            .contains("does not reach the root: its parents loop")
    );
}

#[tokio::test]
async fn members_name_known_departments_and_managers() {
    let store = MemoryDirectory::default();
    let person = |membership: &str| {
        format!(
            "{CORP}      - {{ id: 2, name: a }}\npeople:\n  - nick: n\n    mobile: \"13000000001\"\n    memberships:\n      - {membership}\n"
        )
    };
    let unknown = person("{ corp: dingtree, userid: u1, departments: [{ id: 7 }] }");
    assert!(
        refusal(&store, &unknown)
            .await
            .ends_with("unknown department 7 in corp dingtree: not in this file nor in the store")
    );
    let twice = person("{ corp: dingtree, userid: u1, departments: [{ id: 2 }, { id: 2 }] }");
    assert!(refusal(&store, &twice).await.ends_with("department 2 is listed twice"));
    let no_manager = person("{ corp: dingtree, userid: u1, manager: boss }");
    assert!(
        refusal(&store, &no_manager)
            .await
            .ends_with("unknown manager boss in corp dingtree: not in this file nor in the store")
    );
    let fine = person("{ corp: dingtree, userid: u1, departments: [{ id: 2, leader: true }, { id: 1 }] }");
    apply_text(&store, "t.yaml", &fine).await.unwrap();
}
