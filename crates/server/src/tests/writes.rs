//! Directory writes on the legacy gateway (docs/wire/writes-and-callbacks.md §1) and the change
//! log each appends to in its own transaction.

use super::*;
use dingdir_core::change::{ChangeKind, ChangeQuery};

/// An internal app of Demo Co that may write the directory.
const WRITER_APP: &str = "apps:
  - key: dingwriterapp
    name: Writer App
    type: internal
    secret: writer-secret
    corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4
    scopes: [qyapi_get_member, qyapi_get_member_by_mobile, qyapi_get_department_member, qyapi_get_department_list, qyapi_manage_addresslist]
";

fn done() -> Value {
    json!({"errcode": 0, "errmsg": "ok", "request_id": RID})
}

async fn writer() -> (Fixture, String) {
    let fx = fixture_seeded_with("writer.yaml", WRITER_APP).await;
    let token = fx.app_token("dingwriterapp", "writer-secret").await;
    (fx, token)
}

/// The change log after `after`, as (kind, subject).
async fn log_after(fx: &Fixture, after: i64) -> Vec<(ChangeKind, String)> {
    let query = ChangeQuery {
        corps: vec![dingdir_proto::ids::CorpId(DEMO_CORP.to_owned())],
        after,
        limit: 100,
        ..ChangeQuery::default()
    };
    let changes = fx.state.service.changes(&query).await.unwrap();
    let mut seq = after;
    for c in &changes {
        assert_eq!(c.seq, seq + 1, "the log has no gaps");
        seq = c.seq;
    }
    changes.into_iter().map(|c| (c.change.kind, c.change.subject)).collect()
}

async fn last_seq(fx: &Fixture) -> i64 {
    let all = fx
        .state
        .service
        .changes(&ChangeQuery {
            limit: 100_000,
            ..ChangeQuery::default()
        })
        .await
        .unwrap();
    all.last().map_or(0, |c| c.seq)
}

#[tokio::test]
async fn a_member_created_updated_and_deleted_is_read_back_and_logged_in_order() {
    let (fx, token) = writer().await;
    let start = last_seq(&fx).await;
    let a = call(
        &fx,
        "/topapi/v2/user/create",
        &token,
        &json!({"userid": "newbie", "name": "新人", "mobile": "13800001111", "dept_id_list": "100", "title": "实习生"}),
    )
    .await;
    assert_eq!(a.json["errcode"], 0, "{}", a.text());
    assert_eq!(a.json["result"]["userid"], "newbie");
    assert!(
        a.json["result"]["unionId"].as_str().is_some_and(|u| !u.is_empty()),
        "{}",
        a.text()
    );
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "newbie"})).await;
    assert_eq!(a.json["result"]["name"], "新人", "{}", a.text());
    assert_eq!(a.json["result"]["title"], "实习生");
    assert_eq!(a.json["result"]["dept_id_list"], json!([100]));
    let a = call(&fx, "/topapi/user/listid", &token, &json!({"dept_id": 100})).await;
    assert!(
        a.json["result"]["userid_list"]
            .as_array()
            .unwrap()
            .contains(&json!("newbie")),
        "{}",
        a.text()
    );
    // getbymobile finds the new member at once.
    let a = call(
        &fx,
        "/topapi/v2/user/getbymobile",
        &token,
        &json!({"mobile": "13800001111"}),
    )
    .await;
    assert_eq!(a.json["result"]["userid"], "newbie", "{}", a.text());

    let a = call(
        &fx,
        "/topapi/v2/user/update",
        &token,
        &json!({"userid": "newbie", "title": "工程师", "dept_id_list": "100,101"}),
    )
    .await;
    assert_topapi(&a, done());
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "newbie"})).await;
    assert_eq!(a.json["result"]["title"], "工程师");
    assert_eq!(a.json["result"]["dept_id_list"], json!([100, 101]));
    // An update that changes nothing logs nothing.
    let a = call(
        &fx,
        "/topapi/v2/user/update",
        &token,
        &json!({"userid": "newbie", "title": "工程师"}),
    )
    .await;
    assert_topapi(&a, done());

    let a = call(&fx, "/topapi/v2/user/delete", &token, &json!({"userid": "newbie"})).await;
    assert_topapi(&a, done());
    // Departed at once: v2/user/get and getbymobile no longer find the member.
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "newbie"})).await;
    assert_topapi(&a, error(60121, "找不到该用户"));
    let a = call(
        &fx,
        "/topapi/v2/user/getbymobile",
        &token,
        &json!({"mobile": "13800001111"}),
    )
    .await;
    assert_ne!(a.json["errcode"], 0, "{}", a.text());
    // The userid stays taken.
    let a = call(
        &fx,
        "/topapi/v2/user/create",
        &token,
        &json!({"userid": "newbie", "name": "又来", "mobile": "13800002222", "dept_id_list": "1"}),
    )
    .await;
    assert_topapi(&a, error(60102, "UserID在公司中已存在"));
    assert_eq!(
        log_after(&fx, start).await,
        vec![
            (ChangeKind::UserAdd, "newbie".to_owned()),
            (ChangeKind::UserModify, "newbie".to_owned()),
            (ChangeKind::UserLeave, "newbie".to_owned()),
        ]
    );
}

#[tokio::test]
async fn member_writes_refuse_bad_input_with_dingtalks_codes_and_change_nothing() {
    let (fx, token) = writer().await;
    let start = last_seq(&fx).await;
    let create = |body: Value| {
        let (fx, token) = (&fx, &token);
        async move { call(fx, "/topapi/v2/user/create", token, &body).await }
    };
    let a = create(json!({"name": "甲", "mobile": "15000009144", "dept_id_list": "1"})).await;
    assert_topapi(&a, error(60104, "手机号码在公司中已存在"));
    let a = create(json!({"name": "甲", "mobile": "12", "dept_id_list": "1"})).await;
    assert_topapi(&a, error(60103, "手机号码不合法"));
    let a = create(json!({"name": "甲", "mobile": "13800003333", "dept_id_list": "999999"})).await;
    assert_topapi(&a, error(60003, "部门不存在"));
    let a = create(json!({"name": "", "mobile": "13800003333", "dept_id_list": "1"})).await;
    assert_topapi(&a, error(400002, "无效的参数：name"));
    let a = create(json!({"userid": "zhangsan", "name": "甲", "mobile": "13800003333", "dept_id_list": "1"})).await;
    assert_topapi(&a, error(60102, "UserID在公司中已存在"));
    let a = call(
        &fx,
        "/topapi/v2/user/update",
        &token,
        &json!({"userid": "nobody", "title": "x"}),
    )
    .await;
    assert_topapi(&a, error(60121, "找不到该用户"));
    // Without the write permission: 88 + 60011 naming it.
    let reader = fx.app_token("dingdemointernal", "demo-internal-secret").await;
    let a = call(&fx, "/topapi/v2/user/delete", &reader, &json!({"userid": "lisi"})).await;
    assert_eq!(a.json["errcode"], 88, "{}", a.text());
    assert_eq!(a.json["sub_code"], "60011");
    assert!(log_after(&fx, start).await.is_empty());
}

#[tokio::test]
async fn departments_are_created_moved_and_removed_only_when_empty() {
    let (fx, token) = writer().await;
    let start = last_seq(&fx).await;
    let a = call(
        &fx,
        "/topapi/v2/department/create",
        &token,
        &json!({"name": "新部门", "parent_id": 1}),
    )
    .await;
    assert_eq!(a.json["errcode"], 0, "{}", a.text());
    let id = a.json["result"]["dept_id"].as_i64().unwrap();
    let a = call(
        &fx,
        "/topapi/v2/department/create",
        &token,
        &json!({"name": "新部门", "parent_id": 1}),
    )
    .await;
    assert_topapi(&a, error(60021, "父部门下该部门名称已存在"));
    let a = call(
        &fx,
        "/topapi/v2/department/create",
        &token,
        &json!({"name": "孤儿", "parent_id": 424242}),
    )
    .await;
    assert_topapi(&a, error(60004, "父亲部门不存在"));
    let a = call(&fx, "/topapi/v2/department/get", &token, &json!({"dept_id": id})).await;
    assert_eq!(a.json["result"]["name"], "新部门", "{}", a.text());
    assert_eq!(a.json["result"]["parent_id"], 1);
    // Move it under 研发部 (100) and rename it.
    let a = call(
        &fx,
        "/topapi/v2/department/update",
        &token,
        &json!({"dept_id": id, "parent_id": 100, "name": "平台组"}),
    )
    .await;
    assert_topapi(&a, done());
    let a = call(&fx, "/topapi/v2/department/listsubid", &token, &json!({"dept_id": 100})).await;
    assert!(
        a.json["result"]["dept_id_list"]
            .as_array()
            .unwrap()
            .contains(&json!(id)),
        "{}",
        a.text()
    );
    // 研发部 cannot move below its own child.
    let a = call(
        &fx,
        "/topapi/v2/department/update",
        &token,
        &json!({"dept_id": 100, "parent_id": id}),
    )
    .await;
    assert_topapi(&a, error(60010, "部门不能设置为自己的子部门"));
    // A department with members or children stays.
    let a = call(&fx, "/topapi/v2/department/delete", &token, &json!({"dept_id": 100})).await;
    assert_topapi(&a, error(60006, "不允许删除有子部门的部门"));
    let a = call(&fx, "/topapi/v2/department/delete", &token, &json!({"dept_id": 101})).await;
    assert_topapi(&a, error(60005, "不允许删除有成员的部门"));
    let a = call(&fx, "/topapi/v2/department/delete", &token, &json!({"dept_id": 1})).await;
    assert_topapi(&a, error(60007, "不允许删除根部门"));
    let a = call(&fx, "/topapi/v2/department/delete", &token, &json!({"dept_id": id})).await;
    assert_topapi(&a, done());
    let a = call(&fx, "/topapi/v2/department/get", &token, &json!({"dept_id": id})).await;
    assert_topapi(&a, error(60003, "部门不存在"));
    let s = id.to_string();
    assert_eq!(
        log_after(&fx, start).await,
        vec![
            (ChangeKind::DeptCreate, s.clone()),
            (ChangeKind::DeptModify, s.clone()),
            (ChangeKind::DeptRemove, s),
        ]
    );
}

#[tokio::test]
async fn re_applying_a_seed_logs_nothing_and_a_seed_change_logs_its_events() {
    let (fx, _) = writer().await;
    let start = last_seq(&fx).await;
    assert!(start > 0, "applying the seeds logged their members and departments");
    let mut doc = seed::export(&fx.state.service.directory().await.unwrap());
    let text = seed::to_yaml(&doc).unwrap();
    fx.state.service.apply_seed("export.yaml", &text).await.unwrap();
    assert!(log_after(&fx, start).await.is_empty());
    // The same export with 后端组 renamed: one department event, nothing else.
    let corp = doc
        .corps
        .iter_mut()
        .find(|c| c.id.as_deref() == Some(DEMO_CORP))
        .unwrap();
    corp.departments.iter_mut().find(|d| d.id == 101).unwrap().name = "服务端组".to_owned();
    let text = seed::to_yaml(&doc).unwrap();
    fx.state.service.apply_seed("export.yaml", &text).await.unwrap();
    assert_eq!(
        log_after(&fx, start).await,
        vec![(ChangeKind::DeptModify, "101".to_owned())]
    );
}

/// The old 1.0 write paths the community SDK calls (docs/wire/old-writes.md): camelCase fields
/// and JSON-typed lists in, flat answers out (no `request_id`), the same rules, codes and events
/// as the v2 writes.
#[tokio::test]
async fn the_old_user_and_department_paths_write_like_v2_and_answer_flat() {
    let (fx, token) = writer().await;
    let start = last_seq(&fx).await;
    let ok = |extra: Value| {
        let mut body = json!({"errcode": 0, "errmsg": "ok"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let get = |path: String| {
        let fx = &fx;
        async move { fx.send(community_get(&path)).await }
    };

    let a = call(
        &fx,
        "/department/create",
        &token,
        &json!({"name": "旧部门", "parentid": "1", "order": "7"}),
    )
    .await;
    let id = a.json["id"].as_i64().unwrap_or_else(|| panic!("{}", a.text()));
    assert_legacy(&a, ok(json!({"id": id})));
    let a = call(
        &fx,
        "/department/update",
        &token,
        &json!({"id": id, "name": "旧部门二"}),
    )
    .await;
    assert_legacy(&a, ok(json!({"id": id})));
    let a = call(&fx, "/topapi/v2/department/get", &token, &json!({"dept_id": id})).await;
    assert_eq!(a.json["result"]["name"], "旧部门二", "{}", a.text());
    assert_eq!(a.json["result"]["order"], 7);
    let a = call(&fx, "/department/update", &token, &json!({"name": "无名"})).await;
    assert_legacy(&a, json!({"errcode": 400002, "errmsg": "无效的参数：id"}));

    let a = call(
        &fx,
        "/user/create",
        &token,
        &json!({"userid": "olduser", "name": "老用户", "mobile": "13800003333", "department": [1, id],
                "position": "老师", "orderInDepts": format!("{{\"{id}\": 5}}"), "jobnumber": "J9",
                "workPlace": "杭州", "isSenior": "true", "extattr": {"爱好": "读书"}}),
    )
    .await;
    let union = a.json["unionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", a.text()))
        .to_owned();
    assert_legacy(&a, ok(json!({"userid": "olduser", "unionId": union})));
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "olduser"})).await;
    let r = &a.json["result"];
    assert_eq!(r["title"], "老师", "{}", a.text());
    assert_eq!(r["dept_id_list"], json!([1, id]));
    assert_eq!(
        r["dept_order_list"],
        json!([{"dept_id": 1, "order": 0}, {"dept_id": id, "order": 5}])
    );
    assert_eq!(
        (r["job_number"].clone(), r["work_place"].clone()),
        (json!("J9"), json!("杭州"))
    );
    assert_eq!(r["senior"], true);
    assert_eq!(r["extension"], json!({"爱好": "读书"}).to_string());
    // Taken, refused in the flat form and with the old field's name.
    let a = call(
        &fx,
        "/user/create",
        &token,
        &json!({"userid": "olduser", "name": "重", "mobile": "13800004444", "department": [1]}),
    )
    .await;
    assert_legacy(&a, json!({"errcode": 60102, "errmsg": "UserID在公司中已存在"}));
    let a = call(
        &fx,
        "/user/create",
        &token,
        &json!({"name": "坏", "mobile": "13800004444", "department": "[1,"}),
    )
    .await;
    assert_legacy(&a, json!({"errcode": 400002, "errmsg": "无效的参数：department"}));

    let a = call(
        &fx,
        "/user/update",
        &token,
        &json!({"userid": "olduser", "position": "校长", "department": [id]}),
    )
    .await;
    assert_legacy(&a, ok(json!({})));
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "olduser"})).await;
    assert_eq!(
        (
            a.json["result"]["title"].clone(),
            a.json["result"]["dept_id_list"].clone()
        ),
        (json!("校长"), json!([id]))
    );
    // The bare-key form of the 1.0 pages and of /user/get's own answer.
    let a = call(
        &fx,
        "/user/update",
        &token,
        &json!({"userid": "olduser", "orderInDepts": format!("{{{id}:9}}")}),
    )
    .await;
    assert_legacy(&a, ok(json!({})));
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "olduser"})).await;
    assert_eq!(
        a.json["result"]["dept_order_list"],
        json!([{"dept_id": id, "order": 9}]),
        "{}",
        a.text()
    );
    let a = call(
        &fx,
        "/user/update",
        &token,
        &json!({"userid": "olduser", "orderInDepts": "{1:}"}),
    )
    .await;
    assert_legacy(&a, json!({"errcode": 400002, "errmsg": "无效的参数：orderInDepts"}));

    for (userid, mobile) in [("second", "13800005555"), ("third", "13800006666")] {
        let a = call(
            &fx,
            "/user/create",
            &token,
            &json!({"userid": userid, "name": userid, "mobile": mobile, "department": [id]}),
        )
        .await;
        assert_eq!(a.json["errcode"], 0, "{}", a.text());
    }
    // The batch: its length and shape are checked, and a stranger in it removes nobody.
    let a = call(&fx, "/user/batchdelete", &token, &json!({"useridlist": []})).await;
    assert_legacy(
        &a,
        json!({"errcode": 40032, "errmsg": "useridlist must hold 1 to 20 userids"}),
    );
    let a = call(
        &fx,
        "/user/batchdelete",
        &token,
        &json!({"useridlist": vec!["olduser"; 21]}),
    )
    .await;
    assert_legacy(
        &a,
        json!({"errcode": 40032, "errmsg": "useridlist must hold 1 to 20 userids"}),
    );
    let a = call(&fx, "/user/batchdelete", &token, &json!({"useridlist": "olduser"})).await;
    assert_legacy(
        &a,
        json!({"errcode": 40031, "errmsg": "useridlist must be a JSON array of userids"}),
    );
    let a = call(
        &fx,
        "/user/delete",
        &token,
        &json!({"useridlist": ["olduser", "nobody"]}),
    )
    .await;
    assert_legacy(&a, json!({"errcode": 60121, "errmsg": "找不到该用户"}));
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "olduser"})).await;
    assert_eq!(a.json["errcode"], 0, "nobody left: {}", a.text());
    // The community SDK's batchdelete: a POST to /user/delete with `useridlist`.
    let a = call(
        &fx,
        "/user/delete",
        &token,
        &json!({"useridlist": ["olduser", "second", "olduser"]}),
    )
    .await;
    assert_legacy(&a, ok(json!({})));
    let a = get(format!("/user/delete?access_token={token}&userid=third")).await;
    assert_legacy(&a, ok(json!({})));
    for userid in ["olduser", "second", "third"] {
        let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": userid})).await;
        assert_topapi(&a, error(60121, "找不到该用户"));
    }
    let a = get(format!("/department/delete?access_token={token}&id=1")).await;
    assert_legacy(&a, json!({"errcode": 60007, "errmsg": "不允许删除根部门"}));
    let a = get(format!("/department/delete?access_token={token}&id={id}")).await;
    assert_legacy(&a, ok(json!({})));

    let s = id.to_string();
    let user = |kind, u: &str| (kind, u.to_owned());
    assert_eq!(
        log_after(&fx, start).await,
        vec![
            (ChangeKind::DeptCreate, s.clone()),
            (ChangeKind::DeptModify, s.clone()),
            user(ChangeKind::UserAdd, "olduser"),
            user(ChangeKind::UserModify, "olduser"),
            user(ChangeKind::UserModify, "olduser"),
            user(ChangeKind::UserAdd, "second"),
            user(ChangeKind::UserAdd, "third"),
            user(ChangeKind::UserLeave, "olduser"),
            user(ChangeKind::UserLeave, "second"),
            user(ChangeKind::UserLeave, "third"),
            (ChangeKind::DeptRemove, s),
        ]
    );
}

/// Creates racing for one mobile or one userid: exactly one wins, and each loser hears what it
/// lost to (`60104` for the mobile, `60102` for the userid), whether its check or its commit
/// found the winner.
#[tokio::test]
async fn racing_creates_get_one_winner_and_the_code_of_what_collided() {
    let (fx, token) = writer().await;
    let start = last_seq(&fx).await;
    // Eight creates at once; the index of the one that answered 0, after checking every loser's code.
    let race = |bodies: Vec<Value>, loser: i64| {
        let (fx, token) = (&fx, &token);
        async move {
            let answers =
                futures_util::future::join_all(bodies.iter().map(|b| call(fx, "/topapi/v2/user/create", token, b)))
                    .await;
            let codes: Vec<i64> = answers
                .iter()
                .map(|a| a.json["errcode"].as_i64().unwrap_or(-999))
                .collect();
            assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
            assert!(codes.iter().all(|c| *c == 0 || *c == loser), "{codes:?}");
            codes.iter().position(|c| *c == 0).unwrap()
        }
    };
    let winner = race(
        (0..8)
            .map(|i| json!({"userid": format!("racer{i}"), "name": "赛", "mobile": "13800007777", "dept_id_list": "1"}))
            .collect(),
        60104,
    )
    .await;
    // The winner's membership is the one that persisted.
    let a = call(
        &fx,
        "/topapi/v2/user/getbymobile",
        &token,
        &json!({"mobile": "13800007777"}),
    )
    .await;
    assert_eq!(a.json["result"]["userid"], format!("racer{winner}"), "{}", a.text());
    race(
        (0..8)
            .map(
                |i| json!({"userid": "onlyone", "name": "赛", "mobile": format!("1380000780{i}"), "dept_id_list": "1"}),
            )
            .collect(),
        60102,
    )
    .await;
    assert_eq!(
        log_after(&fx, start).await,
        vec![
            (ChangeKind::UserAdd, format!("racer{winner}")),
            (ChangeKind::UserAdd, "onlyone".to_owned()),
        ],
        "one event per winner, none for the losers"
    );
}
