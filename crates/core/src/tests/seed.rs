//! The seed's department rules: every reference resolves, in the file or the store, and every
//! department reaches its corp's root.

use super::MemoryDirectory;
use crate::seed::{ApplyError, apply_text};
use crate::store::DirectoryStore;

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
    let person = one_membership;
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

#[tokio::test]
async fn only_departed_members_have_a_departure() {
    let store = MemoryDirectory::default();
    let person = one_membership;
    for field in ["left_at: 1", "leave_reason: leave"] {
        let active = person(&format!("{{ corp: dingtree, userid: u1, {field} }}"));
        let name = field.split(':').next().unwrap();
        assert!(
            refusal(&store, &active).await.ends_with(&format!(
                "memberships[0].{name}: is only for a departed member (status: departed)"
            )),
            "{field}"
        );
    }
    let negative = person("{ corp: dingtree, userid: u1, status: departed, left_at: -1 }");
    assert!(
        refusal(&store, &negative)
            .await
            .ends_with("left_at: must be epoch milliseconds, 0 or more")
    );
    let unknown = person("{ corp: dingtree, userid: u1, status: departed, leave_reason: fired }");
    assert!(refusal(&store, &unknown).await.contains("leave_reason"));
}

#[tokio::test]
async fn extension_attributes_are_bounded_and_never_empty() {
    let store = MemoryDirectory::default();
    let person = |extension: &str| one_membership(&format!("{{ corp: dingtree, userid: u1, extension: {extension} }}"));
    for empty in ["{ a: \"\" }", "{ \"\": b }"] {
        assert!(
            refusal(&store, &person(empty))
                .await
                .ends_with("memberships[0].extension: names and values must not be empty"),
            "{empty}"
        );
    }
    let long = person(&format!("{{ a: {} }}", "x".repeat(2_000)));
    assert!(
        refusal(&store, &long)
            .await
            .ends_with("extension: is 2008 characters as JSON; DingTalk allows 2000")
    );
    apply_text(&store, "t.yaml", &person("{ 爱好: 旅游 }")).await.unwrap();
}

/// Tree Co with department 2 and one person whose single membership is `membership` (YAML flow).
fn one_membership(membership: &str) -> String {
    format!(
        "{CORP}      - {{ id: 2, name: a }}\npeople:\n  - nick: n\n    mobile: \"13000000001\"\n    memberships:\n      - {membership}\n"
    )
}

/// A person of Tree Co in department 2, for the tests that name members.
const MEMBER: &str = "people:\n  - nick: n\n    mobile: \"13000000001\"\n    memberships:\n      - { corp: dingtree, userid: u1, departments: [{ id: 2 }] }\n";

#[tokio::test]
async fn hidden_departments_name_known_departments_and_members_as_permits() {
    let store = MemoryDirectory::default();
    let with = |dept: &str| format!("{CORP}      - {{ id: 2, name: a }}\n      - {dept}\n{MEMBER}");
    let not_hidden = with("{ id: 3, name: b, dept_permits: [2] }");
    assert_eq!(
        refusal(&store, &not_hidden).await,
        "t.yaml:6:41: corps[0].departments[1].dept_permits: only a hidden department (`hide_dept: true`) has permits"
    );
    let unknown_dept = with("{ id: 3, name: b, hide_dept: true, dept_permits: [9] }");
    assert!(
        refusal(&store, &unknown_dept)
            .await
            .ends_with("unknown department 9 in corp dingtree: not in this file nor in the store")
    );
    let unknown_user = with("{ id: 3, name: b, hide_dept: true, user_permits: [nobody] }");
    assert!(
        refusal(&store, &unknown_user)
            .await
            .ends_with("unknown permitted user nobody in corp dingtree: not in this file nor in the store")
    );
    // A permit may name a department defined later in the file, and the root.
    let fine = with("{ id: 3, name: b, hide_dept: true, dept_permits: [4, 1], user_permits: [u1] }")
        .replace(MEMBER, &format!("      - {{ id: 4, name: c }}\n{MEMBER}"));
    apply_text(&store, "t.yaml", &fine).await.unwrap();
    let d = store.department(&"dingtree".into(), 3).await.unwrap().unwrap();
    let hidden = d.hidden.expect("hidden");
    assert_eq!((hidden.departments, hidden.users), (vec![1, 4], vec!["u1".into()]));
}

#[tokio::test]
async fn contact_ranges_are_one_per_corp_the_app_is_installed_in() {
    let store = MemoryDirectory::default();
    let app = |kind: &str, range: &str| {
        format!(
            "{CORP}      - {{ id: 2, name: a }}\n  - {{ id: dingelse, name: Else Co }}\napps:\n  - key: dingrange\n    name: r\n    type: {kind}\n    secret: s\n    contact_range: {range}\n{MEMBER}"
        )
    };
    let internal = |range: &str| app("internal\n    corp: dingtree", range);
    let suite = |range: &str| app("third_party_enterprise\n    authorized_corps: [dingtree]", range);
    for (text, want) in [
        (
            internal("[{ corp: dingelse }]"),
            "contact_range[0].corp: an internal app's range is in its own corp",
        ),
        (
            internal("[{ departments: [2] }, { users: [u1] }]"),
            "contact_range[1]: a second range in corp dingtree; give one per corp",
        ),
        (internal("[{ departments: [0] }]"), "must be a department id, 1 or more"),
        (
            internal("[{ departments: [7] }]"),
            "unknown department 7 in corp dingtree: not in this file nor in the store",
        ),
        (
            internal("[{ users: [ghost] }]"),
            "unknown contact-range user ghost in corp dingtree: not in this file nor in the store",
        ),
        (suite("[{ users: [u1] }]"), "missing `corp`: which corp the range is in"),
        (
            suite("[{ corp: dingelse }]"),
            "contact_range[0].corp: not one of the app's `authorized_corps`",
        ),
        (
            app("third_party_personal", "[{ users: [u1] }]"),
            "a third_party_personal app reads no corp's directory",
        ),
    ] {
        let got = refusal(&store, &text).await;
        assert!(got.ends_with(want), "{got}\nwanted: {want}");
    }
    apply_text(
        &store,
        "t.yaml",
        &suite("[{ corp: dingtree, departments: [2, 2], users: [u1] }]"),
    )
    .await
    .unwrap();
    let stored = store.app(&"dingrange".into()).await.unwrap().unwrap();
    let range = stored.contact_range(&"dingtree".into()).expect("a range in Tree Co");
    assert_eq!(
        (range.departments.clone(), range.users.clone()),
        (vec![2], vec!["u1".into()])
    );
    assert!(stored.contact_range(&"dingelse".into()).is_none());
}

/// An exclusive account of `corp` with userid `userid` and, in YAML flow, `login`.
fn exclusive(id: &str, corp: &str, userid: &str, login: &str) -> String {
    format!(
        "  - id: {id}\n    nick: n\n    exclusive_of: {corp}\n    login_id: {login}\n    memberships:\n      - {{ corp: {corp}, userid: {userid} }}\n"
    )
}

const TWO_CORPS: &str = "corps:\n  - { id: dingtree, name: Tree Co }\n  - { id: dingbush, name: Bush Co }\npeople:\n";

#[tokio::test]
async fn login_names_belong_to_exclusive_accounts_and_are_unique_in_their_corp() {
    let store = MemoryDirectory::default();
    let normal = format!("{TWO_CORPS}  - nick: n\n    mobile: \"13000000001\"\n    login_id: n1\n");
    assert!(
        refusal(&store, &normal)
            .await
            .ends_with("people[0].login_id: only an exclusive account (`exclusive_of`) has a login name")
    );
    for bad in ["\"\"", "\"a b\"", &"x".repeat(65)] {
        let text = format!("{TWO_CORPS}{}", exclusive("x1", "dingtree", "u1", bad));
        assert!(
            refusal(&store, &text)
                .await
                .ends_with("people[0].login_id: must be 1 to 64 characters without whitespace"),
            "{bad}"
        );
    }
    let twice = format!(
        "{TWO_CORPS}{}{}",
        exclusive("x1", "dingtree", "u1", "same"),
        exclusive("x2", "dingtree", "u2", "same")
    );
    assert_eq!(
        refusal(&store, &twice).await,
        "t.yaml:14:15: people[1].login_id: duplicate login name same in corp dingtree (first at line 8)"
    );
    // One login name in two corps is two accounts.
    let apart = format!(
        "{TWO_CORPS}{}{}",
        exclusive("x1", "dingtree", "u1", "same"),
        exclusive("x2", "dingbush", "u2", "same")
    );
    apply_text(&store, "t.yaml", &apart).await.unwrap();
    let tree = dingdir_proto::ids::CorpId("dingtree".into());
    let found = store.person_by_login_id(&tree, "same").await.unwrap().map(|p| p.id.0);
    assert_eq!(found.as_deref(), Some("x1"));
    // A stored account's login name is taken, unless the file names that account too.
    let taken = format!("{TWO_CORPS}{}", exclusive("x3", "dingtree", "u3", "same"));
    assert!(
        refusal(&store, &taken)
            .await
            .ends_with("people[0].login_id: login name same in corp dingtree already belongs to person x1")
    );
    let moved = format!(
        "{TWO_CORPS}{}{}",
        exclusive("x1", "dingtree", "u1", "other"),
        exclusive("x3", "dingtree", "u3", "same")
    );
    apply_text(&store, "t.yaml", &moved).await.unwrap();
    let found = store.person_by_login_id(&tree, "same").await.unwrap().map(|p| p.id.0);
    assert_eq!(found.as_deref(), Some("x3"));
}

#[tokio::test]
async fn roles_are_unique_in_their_corp_and_members_hold_known_ones() {
    let store = MemoryDirectory::default();
    let corp = |roles: &str| format!("corps:\n  - id: dingtree\n    name: Tree Co\n    roles: {roles}\n");
    let holder = |roles: &str| {
        format!(
            "people:\n  - nick: n\n    mobile: \"13000000001\"\n    memberships:\n      - {{ corp: dingtree, userid: u1, roles: {roles} }}\n"
        )
    };
    assert_eq!(
        refusal(&store, &corp("[{ id: 7, name: a }, { id: 7, name: b }]")).await,
        "t.yaml:4:39: corps[0].roles[1].id: duplicate role 7 in corp dingtree (first at line 4)"
    );
    assert!(
        refusal(&store, &corp("[{ id: 0, name: a }]"))
            .await
            .ends_with("roles[0].id: must be 1 or more")
    );
    assert!(
        refusal(&store, &corp("[{ id: 7, name: \" \" }]"))
            .await
            .ends_with("roles[0].name: must not be empty")
    );
    let unknown = format!("{}{}", corp("[{ id: 7, name: a }]"), holder("[8]"));
    assert!(
        refusal(&store, &unknown)
            .await
            .ends_with("memberships[0].roles[0]: unknown role 8 in corp dingtree: not in this file nor in the store")
    );
    let twice = format!("{}{}", corp("[{ id: 7, name: a }]"), holder("[7, 7]"));
    assert!(
        refusal(&store, &twice)
            .await
            .ends_with("memberships[0].roles[1]: role 7 is listed twice")
    );
    // A stored role may be held by a member a later file names; the default group is 默认.
    apply_text(&store, "t.yaml", &corp("[{ id: 7, name: a }]"))
        .await
        .unwrap();
    let later = format!("corps:\n  - id: dingtree\n    name: Tree Co\n{}", holder("[7]"));
    apply_text(&store, "t.yaml", &later).await.unwrap();
    let tree = dingdir_proto::ids::CorpId("dingtree".into());
    let roles = store.roles(&tree).await.unwrap();
    assert_eq!(
        roles.iter().map(|r| (r.id, r.group.as_str())).collect::<Vec<_>>(),
        [(7, "默认")]
    );
    let member = store
        .member(&tree, &dingdir_proto::ids::UserId("u1".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(member.details.roles, [7]);
}
