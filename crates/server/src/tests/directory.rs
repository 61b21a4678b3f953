//! The directory as integrations read it on the legacy gateway (docs/wire/directory-read.md §2):
//! the member record, unionId lookup, department member pages and ids, the count and the
//! administrators, departments, their children and paths. Every expected body is written out.

use super::*;

const FORM: &str = "application/x-www-form-urlencoded;charset=utf-8";

fn ok(result: Value) -> Value {
    let mut body = json!({"errcode": 0, "errmsg": "ok", "result": null, "request_id": RID});
    body["result"] = result;
    body
}

fn no_permission(scope: &str) -> Value {
    let sub_msg = format!("应用尚未开通所需的权限：[{scope}]");
    json!({
        "errcode": 88,
        "errmsg": format!("ding talk error[subcode=60011,submsg={sub_msg}]"),
        "sub_code": "60011",
        "sub_msg": sub_msg,
        "request_id": RID,
    })
}

fn bad_token() -> Value {
    json!({
        "errcode": 88,
        "errmsg": "ding talk error[subcode=40014,submsg=不合法的access_token]",
        "sub_code": "40014",
        "sub_msg": "不合法的access_token",
        "request_id": RID,
    })
}

async fn internal(fx: &Fixture) -> String {
    fx.app_token("dingdemointernal", "demo-internal-secret").await
}

/// zhangsan as `/topapi/v2/user/get` shows him to an internal app with the mobile permission:
/// a member of two departments, leading one, the main administrator.
fn zhangsan_record(unionid: &str) -> Value {
    json!({
        "active": true,
        "admin": true,
        "avatar": "https://static.example.com/avatar/zhangsan.png",
        "boss": false,
        "dept_id_list": [100, 101],
        "dept_order_list": [{"dept_id": 100, "order": 0}, {"dept_id": 101, "order": 1}],
        "email": "zhangsan@example.com",
        "exclusive_account": false,
        "hide_mobile": false,
        "hired_date": 1_577_836_800_000_i64,
        "job_number": "0001",
        "leader_in_dept": [{"dept_id": 100, "leader": true}, {"dept_id": 101, "leader": false}],
        "mobile": "15000009144",
        "name": "张三",
        "real_authed": true,
        "senior": false,
        "state_code": "86",
        "telephone": "8001",
        "title": "研发总监",
        "unionid": unionid,
        "userid": "zhangsan",
        "work_place": "杭州",
    })
}

#[tokio::test]
async fn user_get_answers_the_full_record_of_a_member_of_two_departments() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let unionid = fx.union_id_in_corp(DEMO_CORP, "zhangsan");
    let a = call(
        &fx,
        "/topapi/v2/user/get",
        &token,
        &json!({"userid": "zhangsan", "language": "zh_CN"}),
    )
    .await;
    assert_topapi(&a, ok(zhangsan_record(&unionid)));
    // Keys inside `result` in alphabetical order, as real answers have them.
    let text = a.text();
    let keys = [
        "\"active\"",
        "\"admin\"",
        "\"avatar\"",
        "\"boss\"",
        "\"dept_id_list\"",
        "\"userid\"",
        "\"work_place\"",
    ];
    let at: Vec<usize> = keys.iter().map(|k| text.find(k).expect(k)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "keys out of order: {text}");
    // A form body, as DingTalk's own curl samples send it.
    let a = fx
        .send(legacy_post(
            "/topapi/v2/user/get",
            FORM,
            &format!("access_token={token}&userid=zhangsan"),
        ))
        .await;
    assert_topapi(&a, ok(zhangsan_record(&unionid)));
}

#[tokio::test]
async fn user_get_a_managed_member_and_an_exclusive_account() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "lisi"})).await;
    assert_topapi(
        &a,
        ok(json!({
            "active": true,
            "admin": false,
            "avatar": "https://static.example.com/avatar/lisi.png",
            "boss": false,
            "dept_id_list": [101],
            "dept_order_list": [{"dept_id": 101, "order": 2}],
            "email": "lisi@example.com",
            "exclusive_account": false,
            "hide_mobile": false,
            "leader_in_dept": [{"dept_id": 101, "leader": false}],
            "manager_userid": "zhangsan",
            "mobile": "15532403240",
            "name": "李四",
            "real_authed": true,
            "role_list": [
                {"group_name": "职务", "id": 4_000_000_002_i64, "name": "项目经理"},
                {"group_name": "职务", "id": 4_000_000_001_i64, "name": "财务"},
            ],
            "senior": false,
            "state_code": "86",
            "title": "工程师",
            "unionid": fx.union_id_in_corp(DEMO_CORP, "lisi"),
            "userid": "lisi",
        })),
    );
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "zhaoliu_ex"})).await;
    assert_topapi(
        &a,
        ok(json!({
            "active": true,
            "admin": false,
            "avatar": "",
            "boss": false,
            "dept_id_list": [1],
            "dept_order_list": [{"dept_id": 1, "order": 0}],
            "email": "zhaoliu@example.com",
            "exclusive_account": true,
            "exclusive_account_corp_id": DEMO_CORP,
            "exclusive_account_type": "dingtalk",
            "hide_mobile": false,
            "leader_in_dept": [{"dept_id": 1, "leader": false}],
            "login_id": "zhaoliu",
            "mobile": "15000009144",
            "name": "赵六",
            "real_authed": true,
            "senior": false,
            "state_code": "86",
            "unionid": fx.union_id_in_corp(DEMO_CORP, "zhaoliu-exclusive"),
            "userid": "zhaoliu_ex",
        })),
    );
}

/// An exclusive account the corp created is found by its login name, which wins over `userid`;
/// another corp's login name, or one nobody holds, is an unknown user.
#[tokio::test]
async fn user_get_finds_an_exclusive_account_by_its_login_name() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let path = "/topapi/v2/user/get";
    let by_userid = call(&fx, path, &token, &json!({"userid": "zhaoliu_ex"})).await;
    assert_eq!(
        by_userid.json["result"]["login_id"],
        json!("zhaoliu"),
        "{}",
        by_userid.text()
    );
    let record = ok(by_userid.json["result"].clone());
    for body in [
        json!({"login_id": "zhaoliu"}),
        json!({"userid": "no such userid", "login_id": "zhaoliu"}),
        json!({"userid": "", "login_id": "zhaoliu"}),
    ] {
        let a = call(&fx, path, &token, &body).await;
        assert_topapi(&a, record.clone());
    }
    // The Java TOP SDK's form body carries it too.
    let a = fx
        .send(legacy_post(
            path,
            FORM,
            &format!("access_token={token}&login_id=zhaoliu"),
        ))
        .await;
    assert_topapi(&a, record.clone());
    // An empty login name falls back to the userid.
    let a = call(&fx, path, &token, &json!({"userid": "lisi", "login_id": ""})).await;
    assert_eq!(a.json["result"]["userid"], json!("lisi"), "{}", a.text());
    assert!(a.json["result"].get("login_id").is_none(), "{}", a.text());
    // qianjiu is Other Co's login name; login names are case-sensitive.
    for login_id in ["qianjiu", "nobody", "ZHAOLIU"] {
        let a = call(&fx, path, &token, &json!({"userid": "zhangsan", "login_id": login_id})).await;
        assert_topapi(&a, error(60121, "找不到该用户"));
    }
    // In v2/user/list the exclusive account's item carries it for an internal app only.
    let list = call(
        &fx,
        "/topapi/v2/user/list",
        &token,
        &json!({"dept_id": 1, "cursor": 0, "size": 10}),
    )
    .await;
    let items = list.json["result"]["list"].as_array().cloned().unwrap_or_default();
    let login_ids: Vec<(Value, Value)> = items
        .iter()
        .map(|i| (i["userid"].clone(), i.get("login_id").cloned().unwrap_or(Value::Null)))
        .collect();
    assert_eq!(
        login_ids,
        [
            (json!("solo_ex"), Value::Null),
            (json!("sunqi"), Value::Null),
            (json!("zhaoliu_ex"), json!("zhaoliu")),
        ],
        "{}",
        list.text()
    );
}

#[tokio::test]
async fn user_get_hides_contact_and_hr_fields_from_a_third_party_app() {
    let fx = fixture().await;
    let token = fx.corp_token(DEMO_CORP).await;
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "zhangsan"})).await;
    assert_topapi(
        &a,
        ok(json!({
            "active": true,
            "admin": true,
            "avatar": "https://static.example.com/avatar/zhangsan.png",
            "boss": false,
            "dept_id_list": [100, 101],
            "dept_order_list": [{"dept_id": 100, "order": 0}, {"dept_id": 101, "order": 1}],
            "exclusive_account": false,
            "hide_mobile": false,
            "job_number": "0001",
            "leader_in_dept": [{"dept_id": 100, "leader": true}, {"dept_id": 101, "leader": false}],
            "name": "张三",
            "real_authed": true,
            "senior": false,
            "title": "研发总监",
            "unionid": fx.union_id_in_isv(DEMO_ISV, "zhangsan"),
            "userid": "zhangsan",
        })),
    );
    // The suite in Other Co sees Other Co's member, not Demo Co's userid.
    let other = fx.corp_token(OTHER_CORP).await;
    let a = call(&fx, "/topapi/v2/user/get", &other, &json!({"userid": "zhangsan"})).await;
    assert_topapi(&a, error(60121, "找不到该用户"));
    let a = call(&fx, "/topapi/v2/user/get", &other, &json!({"userid": "zs001"})).await;
    assert_eq!(a.json["result"]["name"], json!("张三"), "{}", a.text());
}

#[tokio::test]
async fn user_get_errors() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let path = "/topapi/v2/user/get";
    // Departed, in another corp, unknown: one answer.
    for userid in ["wangwu", "zs001", "nobody"] {
        let a = call(&fx, path, &token, &json!({"userid": userid})).await;
        assert_topapi(&a, error(60121, "找不到该用户"));
    }
    for body in [json!({}), json!({"userid": ""}), json!({"userid": "x".repeat(65)})] {
        let a = call(&fx, path, &token, &body).await;
        assert_topapi(&a, error(400002, "无效的参数：userid"));
    }
    // Without qyapi_get_member; a user token; a garbage token.
    let no_read = fx.app_token("dingnoreadapp", "no-read-secret").await;
    let a = call(&fx, path, &no_read, &json!({"userid": "zhangsan"})).await;
    assert_topapi(&a, no_permission("qyapi_get_member"));
    let user = fx.user_token("dingdemointernal", "15000009144").await;
    let a = call(&fx, path, &user, &json!({"userid": "zhangsan"})).await;
    assert_topapi(&a, bad_token());
    let a = call(
        &fx,
        path,
        "0123456789abcdef0123456789abcdef",
        &json!({"userid": "zhangsan"}),
    )
    .await;
    assert_topapi(&a, bad_token());
    // The permission is checked before the input.
    let a = call(&fx, path, &no_read, &json!({})).await;
    assert_topapi(&a, no_permission("qyapi_get_member"));
}

#[tokio::test]
async fn getbyunionid_maps_a_developers_unionid_to_the_userid() {
    let fx = fixture().await;
    let path = "/topapi/user/getbyunionid";
    let token = internal(&fx).await;
    let unionid = fx.union_id_in_corp(DEMO_CORP, "zhangsan");
    let a = call(&fx, path, &token, &json!({"unionid": unionid})).await;
    assert_topapi(&a, ok(json!({"contact_type": 0, "userid": "zhangsan"})));
    // The suite's unionIds live under its ISV: the corp's unionId is unknown to it.
    let suite = fx.corp_token(DEMO_CORP).await;
    let a = call(
        &fx,
        path,
        &suite,
        &json!({"unionid": fx.union_id_in_isv(DEMO_ISV, "lisi")}),
    )
    .await;
    assert_topapi(&a, ok(json!({"contact_type": 0, "userid": "lisi"})));
    let a = call(&fx, path, &suite, &json!({"unionid": unionid})).await;
    assert_topapi(&a, error(60121, "找不到该用户"));
    // A departed member, and a member of another corp only.
    for person in ["wangwu", "zhouba"] {
        let a = call(
            &fx,
            path,
            &token,
            &json!({"unionid": fx.union_id_in_corp(DEMO_CORP, person)}),
        )
        .await;
        assert_topapi(&a, error(60121, "找不到该用户"));
    }
    let a = call(&fx, path, &token, &json!({})).await;
    assert_topapi(&a, error(400002, "无效的参数：unionid"));
}

#[tokio::test]
async fn listid_lists_a_departments_direct_active_members_in_order() {
    let fx = fixture().await;
    let path = "/topapi/user/listid";
    let token = internal(&fx).await;
    for (dept, want) in [
        (json!(101), json!(["zhangsan", "lisi"])),
        // The Java TOP SDK's string form.
        (json!("101"), json!(["zhangsan", "lisi"])),
        (json!(100), json!(["zhangsan"])),
        // Departed wangwu is left out; order 0 everywhere, so by userid.
        (json!(1), json!(["solo_ex", "sunqi", "zhaoliu_ex"])),
        (json!(102), json!([])),
    ] {
        let a = call(&fx, path, &token, &json!({"dept_id": dept})).await;
        assert_topapi(&a, ok(json!({"userid_list": want})));
    }
    for dept in [json!(999), json!(0), json!(-7)] {
        let a = call(&fx, path, &token, &json!({"dept_id": dept})).await;
        assert_topapi(&a, error(60003, "部门不存在"));
    }
    for body in [json!({}), json!({"dept_id": "abc"}), json!({"dept_id": 1.5})] {
        let a = call(&fx, path, &token, &body).await;
        assert_topapi(&a, error(400002, "无效的参数：dept_id"));
    }
    let no_read = fx.app_token("dingnoreadapp", "no-read-secret").await;
    let a = call(&fx, path, &no_read, &json!({"dept_id": 1})).await;
    assert_topapi(&a, no_permission("qyapi_get_member"));
}

/// lisi as a `/topapi/v2/user/list` item of department 101.
fn lisi_item(unionid: &str) -> Value {
    json!({
        "active": true,
        "admin": false,
        "avatar": "https://static.example.com/avatar/lisi.png",
        "boss": false,
        "dept_id_list": [101],
        "dept_order": 2,
        "email": "lisi@example.com",
        "exclusive_account": false,
        "hide_mobile": false,
        "leader": false,
        "mobile": "15532403240",
        "name": "李四",
        "state_code": "86",
        "title": "工程师",
        "unionid": unionid,
        "userid": "lisi",
    })
}

#[tokio::test]
async fn user_list_pages_full_records_with_the_members_place_in_the_department() {
    let fx = fixture().await;
    let path = "/topapi/v2/user/list";
    let token = internal(&fx).await;
    let a = call(&fx, path, &token, &json!({"dept_id": 101, "cursor": 0, "size": 1})).await;
    let mut zhangsan = zhangsan_record(&fx.union_id_in_corp(DEMO_CORP, "zhangsan"));
    let z = zhangsan.as_object_mut().unwrap();
    for key in ["dept_order_list", "leader_in_dept", "real_authed", "senior"] {
        z.remove(key);
    }
    z.insert("dept_order".into(), json!(1));
    z.insert("leader".into(), json!(false));
    assert_topapi(&a, ok(json!({"has_more": true, "list": [zhangsan], "next_cursor": 1})));
    // The Java TOP SDK's strings; the last page has no next_cursor.
    let a = call(
        &fx,
        path,
        &token,
        &json!({"dept_id": "101", "cursor": "1", "size": "1", "contain_access_limit": "false"}),
    )
    .await;
    let lisi = lisi_item(&fx.union_id_in_corp(DEMO_CORP, "lisi"));
    assert_topapi(&a, ok(json!({"has_more": false, "list": [lisi]})));
    // Past the end: an empty last page. Every documented order is taken.
    let a = call(&fx, path, &token, &json!({"dept_id": 101, "cursor": 5, "size": 10})).await;
    assert_topapi(&a, ok(json!({"has_more": false, "list": []})));
    let a = call(
        &fx,
        path,
        &token,
        &json!({"dept_id": 101, "cursor": 0, "size": 10, "order_field": "entry_desc"}),
    )
    .await;
    assert_eq!(
        a.json["result"]["list"].as_array().map(Vec::len),
        Some(2),
        "{}",
        a.text()
    );
}

/// Pages are cached per app: a seed applied through the node shows at once, and an app without
/// the mobile permission never gets another app's page with mobiles in it.
#[tokio::test]
async fn cached_pages_follow_writes_and_stay_per_app() {
    let fx = fixture().await;
    let path = "/topapi/v2/user/list";
    let page = json!({"dept_id": 101, "cursor": 1, "size": 1});
    let token = internal(&fx).await;
    let a = call(&fx, path, &token, &page).await;
    assert_eq!(a.json["result"]["list"][0]["title"], "工程师", "{}", a.text());
    assert_eq!(a.json["result"]["list"][0]["mobile"], "15532403240");
    let seed = format!(
        "people:\n  - id: lisi\n    nick: lisi\n    mobile: \"15532403240\"\n    email: lisi@example.com\n    avatar_url: https://static.example.com/avatar/lisi.png\n    password: demo-password\n    memberships:\n      - {{ corp: {DEMO_CORP}, userid: lisi, name: 李四, departments: [{{ id: 101, order: 2 }}], title: 架构师, manager: zhangsan }}\n"
    );
    let applied = fx
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/_dingdir/seed")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
                .header(header::CONTENT_TYPE, "application/yaml")
                .body(Body::from(seed))
                .unwrap(),
        )
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text());
    let a = call(&fx, path, &token, &page).await;
    assert_eq!(a.json["result"]["list"][0]["title"], "架构师", "{}", a.text());
    // The suite (a third-party app) reads the same page without contact fields.
    let suite = fx.corp_token(DEMO_CORP).await;
    let a = call(&fx, path, &suite, &page).await;
    let item = &a.json["result"]["list"][0];
    assert_eq!(item["userid"], "lisi", "{}", a.text());
    assert!(
        item.get("mobile").is_none() && item.get("email").is_none(),
        "{}",
        a.text()
    );
}

/// Extension attributes: a JSON object in a string in v2/user/get and v2/user/list, an object
/// as `/user/get`'s `extattr`, for internal apps only, and kept by the export.
#[tokio::test]
async fn extension_attributes_show_to_internal_apps_and_survive_the_export() {
    let fx = fixture().await;
    let admin = |method: Method, uri: &str, body: Body| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
            .header(header::CONTENT_TYPE, "application/yaml")
            .body(body)
            .unwrap()
    };
    let seed = format!(
        "people:\n  - id: lisi\n    nick: lisi\n    mobile: \"15532403240\"\n    email: lisi@example.com\n    avatar_url: https://static.example.com/avatar/lisi.png\n    password: demo-password\n    memberships:\n      - {{ corp: {DEMO_CORP}, userid: lisi, name: 李四, departments: [{{ id: 101, order: 2 }}], title: 工程师, manager: zhangsan, extension: {{ 爱好: 旅游, 工位: A-3 }}, roles: [4000000001] }}\n"
    );
    let applied = fx.send(admin(Method::POST, "/_dingdir/seed", Body::from(seed))).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text());
    let expected = r#"{"工位":"A-3","爱好":"旅游"}"#;
    let token = internal(&fx).await;
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "lisi"})).await;
    assert_eq!(a.json["result"]["extension"], expected, "{}", a.text());
    let page = json!({"dept_id": 101, "cursor": 1, "size": 1});
    let a = call(&fx, "/topapi/v2/user/list", &token, &page).await;
    let mut item = lisi_item(a.json["result"]["list"][0]["unionid"].as_str().unwrap_or_default());
    item["extension"] = json!(expected);
    assert_eq!(a.json["result"]["list"][0], item, "{}", a.text());
    let legacy = fx
        .send(
            Request::builder()
                .uri(format!("/user/get?access_token={token}&userid=lisi"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        legacy.json["extattr"],
        json!({"爱好": "旅游", "工位": "A-3"}),
        "{}",
        legacy.text()
    );
    // A third-party app sees no extension, as it sees no other HR field.
    let suite = fx.corp_token(DEMO_CORP).await;
    let a = call(&fx, "/topapi/v2/user/get", &suite, &json!({"userid": "lisi"})).await;
    assert_eq!(a.json["errcode"], 0, "{}", a.text());
    assert!(a.json["result"].get("extension").is_none(), "{}", a.text());
    // The export, applied to an empty store, gives a server answering the same records: the
    // attributes, roles and login names included.
    let exported = fx.send(admin(Method::GET, "/_dingdir/export", Body::empty())).await;
    assert_eq!(exported.status, StatusCode::OK);
    let empty = dingdir_store::testing::fresh_store().await;
    if let Err(e) = seed::apply_text(empty.as_ref(), "export.yaml", &exported.text()).await {
        panic!("applying the export: {e}");
    }
    let copy = fixture_with(Setup {
        store: Some(empty),
        ..Setup::default()
    })
    .await;
    let copy_token = internal(&copy).await;
    for body in [json!({"userid": "lisi"}), json!({"login_id": "zhaoliu"})] {
        let before = call(&fx, "/topapi/v2/user/get", &token, &body).await;
        let after = call(&copy, "/topapi/v2/user/get", &copy_token, &body).await;
        assert_eq!(after.json["result"], before.json["result"], "{body}: {}", after.text());
    }
    let a = call(&copy, "/topapi/v2/user/get", &copy_token, &json!({"userid": "lisi"})).await;
    assert_eq!(a.json["result"]["extension"], expected, "{}", a.text());
    assert_eq!(
        a.json["result"]["role_list"],
        json!([{"group_name": "职务", "id": 4_000_000_001_i64, "name": "财务"}]),
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn user_list_and_listsimple_errors_in_each_pages_codes() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let cases: [(Value, Value, Value); 7] = [
        (
            json!({"cursor": 0, "size": 10}),
            error(400002, "无效的参数：dept_id"),
            error(400002, "无效的参数：dept_id"),
        ),
        (
            json!({"dept_id": 1, "size": 10}),
            error(400002, "无效的参数：cursor"),
            error(400002, "无效的参数：cursor"),
        ),
        (
            json!({"dept_id": 1, "cursor": 0}),
            error(400002, "无效的参数：size"),
            error(400002, "无效的参数：size"),
        ),
        (
            json!({"dept_id": 1, "cursor": -1, "size": 10}),
            error(40035, "参数非法"),
            error(40068, "无效的偏移量"),
        ),
        (
            json!({"dept_id": 1, "cursor": 0, "size": 0}),
            error(40035, "参数非法"),
            error(40069, "无效的size"),
        ),
        (
            json!({"dept_id": 1, "cursor": 0, "size": 101}),
            error(40035, "参数非法"),
            error(40069, "无效的size"),
        ),
        (
            json!({"dept_id": 1, "cursor": 0, "size": 10, "order_field": "pinyin"}),
            error(40035, "参数非法"),
            error(400002, "无效的参数：order_field"),
        ),
    ];
    for (body, list_error, simple_error) in cases {
        let a = call(&fx, "/topapi/v2/user/list", &token, &body).await;
        assert_topapi(&a, list_error);
        let a = call(&fx, "/topapi/user/listsimple", &token, &body).await;
        assert_topapi(&a, simple_error);
    }
    for path in ["/topapi/v2/user/list", "/topapi/user/listsimple"] {
        let a = call(&fx, path, &token, &json!({"dept_id": 999, "cursor": 0, "size": 10})).await;
        assert_topapi(&a, error(60003, "部门不存在"));
        // Other Co's app reads members one by one, not by department.
        let other = fx.app_token("dingothercoapp", "other-internal-secret").await;
        let a = call(&fx, path, &other, &json!({"dept_id": 1, "cursor": 0, "size": 10})).await;
        assert_topapi(&a, no_permission("qyapi_get_department_member"));
    }
}

#[tokio::test]
async fn listsimple_pages_userids_and_names() {
    let fx = fixture().await;
    let path = "/topapi/user/listsimple";
    let token = fx.corp_token(DEMO_CORP).await;
    let a = call(&fx, path, &token, &json!({"dept_id": 1, "cursor": 0, "size": 2})).await;
    assert_topapi(
        &a,
        ok(json!({
            "has_more": true,
            "list": [{"name": "独行", "userid": "solo_ex"}, {"name": "孙七", "userid": "sunqi"}],
            "next_cursor": 2,
        })),
    );
    let a = call(&fx, path, &token, &json!({"dept_id": 1, "cursor": 2, "size": 2})).await;
    assert_topapi(
        &a,
        ok(json!({"has_more": false, "list": [{"name": "赵六", "userid": "zhaoliu_ex"}]})),
    );
}

/// 250 members in department 2 of Demo Co, order descending with the index, every tenth departed.
fn big_department() -> String {
    let mut y = format!(
        "corps:\n  - id: {DEMO_CORP}\n    name: Demo Co\n    departments:\n      - {{ id: 2, name: 一线员工 }}\npeople:\n"
    );
    for i in 0..250 {
        let status = if i % 10 == 9 { "departed" } else { "active" };
        y.push_str(&format!(
            "  - id: big{i}\n    nick: big{i}\n    mobile: \"1371{i:07}\"\n    memberships:\n      - {{ corp: {DEMO_CORP}, userid: big{i:03}, status: {status}, departments: [{{ id: 2, order: {} }}] }}\n",
            1000 - i
        ));
    }
    y
}

#[tokio::test]
async fn pages_of_a_250_member_department_list_every_active_member_once_in_order() {
    let store = seeded_store().await;
    seed::apply_text(store.as_ref(), "big.yaml", &big_department())
        .await
        .unwrap();
    let fx = fixture_with(Setup {
        store: Some(store),
        ..Setup::default()
    })
    .await;
    let token = internal(&fx).await;
    let want: Vec<String> = (0..250)
        .rev()
        .filter(|i| i % 10 != 9)
        .map(|i| format!("big{i:03}"))
        .collect();
    for (path, size) in [
        ("/topapi/v2/user/list", 100),
        ("/topapi/user/listsimple", 100),
        ("/topapi/v2/user/list", 7),
    ] {
        let mut seen = Vec::new();
        let mut cursor = json!(0);
        for _ in 0..100 {
            let a = call(
                &fx,
                path,
                &token,
                &json!({"dept_id": 2, "cursor": cursor, "size": size}),
            )
            .await;
            let result = &a.json["result"];
            let list = result["list"].as_array().unwrap_or_else(|| panic!("{}", a.text()));
            assert!(list.len() <= size, "{path}: a page of {} over size {size}", list.len());
            seen.extend(list.iter().map(|m| m["userid"].as_str().unwrap().to_owned()));
            if result["has_more"] == json!(false) {
                assert!(result.get("next_cursor").is_none(), "{}", a.text());
                break;
            }
            assert_eq!(list.len(), size, "{path}: only the last page is short");
            cursor = result["next_cursor"].clone();
        }
        assert_eq!(seen, want, "{path} with size {size}");
    }
    let a = call(&fx, "/topapi/user/listid", &token, &json!({"dept_id": 2})).await;
    assert_eq!(a.json["result"]["userid_list"], json!(want));
}

#[tokio::test]
async fn count_and_listadmin() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    // zhangsan, lisi, zhaoliu_ex, chanxm, sunqi, solo_ex; departed wangwu is not counted.
    for only_active in [json!(true), json!(false), json!("true")] {
        let a = call(&fx, "/topapi/user/count", &token, &json!({"only_active": only_active})).await;
        assert_topapi(&a, ok(json!({"count": 6})));
    }
    let a = call(&fx, "/topapi/user/count", &token, &json!({})).await;
    assert_topapi(&a, error(400002, "无效的参数：only_active"));
    let a = call(&fx, "/topapi/user/count", &token, &json!({"only_active": "yes"})).await;
    assert_topapi(&a, error(400002, "无效的参数：only_active"));
    let a = call(&fx, "/topapi/user/listadmin", &token, &json!({})).await;
    assert_topapi(
        &a,
        ok(json!([{"sys_level": 2, "userid": "chanxm"}, {"sys_level": 1, "userid": "zhangsan"}])),
    );
    let other = fx.app_token("dingothercoapp", "other-internal-secret").await;
    let a = call(&fx, "/topapi/user/listadmin", &other, &json!({})).await;
    assert_topapi(&a, no_permission("qyapi_get_member"));
}

fn department(id: i64, name: &str, parent: Option<i64>, order: i64, managers: &[&str]) -> Value {
    let mut d = json!({
        "auto_add_user": false,
        "brief": "",
        "create_dept_group": false,
        "dept_id": id,
        "dept_manager_userid_list": managers,
        "dept_permits": [],
        "group_contain_sub_dept": false,
        "hide_dept": false,
        "name": name,
        "order": order,
        "outer_dept": false,
        "outer_permit_depts": [],
        "outer_permit_users": [],
        "user_permits": [],
    });
    if let Some(p) = parent {
        d["parent_id"] = json!(p);
    }
    d
}

#[tokio::test]
async fn department_get_answers_a_department_with_its_managers() {
    let fx = fixture().await;
    let path = "/topapi/v2/department/get";
    let token = internal(&fx).await;
    let a = call(&fx, path, &token, &json!({"dept_id": 100, "language": "zh_CN"})).await;
    assert_topapi(&a, ok(department(100, "研发部", Some(1), 1, &["zhangsan"])));
    let a = call(&fx, path, &token, &json!({"dept_id": "101"})).await;
    assert_topapi(&a, ok(department(101, "后端组", Some(100), 0, &[])));
    // The root, named after the corp, has no parent.
    let a = call(&fx, path, &token, &json!({"dept_id": 1})).await;
    assert_topapi(&a, ok(department(1, "Demo Co", None, 0, &[])));
    let a = call(&fx, path, &token, &json!({"dept_id": 999})).await;
    assert_topapi(&a, error(60003, "部门不存在"));
    let a = call(&fx, path, &token, &json!({})).await;
    assert_topapi(&a, error(400002, "无效的参数：dept_id"));
    let other = fx.app_token("dingothercoapp", "other-internal-secret").await;
    let a = call(&fx, path, &other, &json!({"dept_id": 1})).await;
    assert_topapi(&a, no_permission("qyapi_get_department_list"));
    // Other Co's tree is another tree: the suite there sees its root only.
    let suite = fx.corp_token(OTHER_CORP).await;
    let a = call(&fx, path, &suite, &json!({"dept_id": 100})).await;
    assert_topapi(&a, error(60003, "部门不存在"));
}

#[tokio::test]
async fn listsub_listsubid_and_the_parent_paths() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let child = |id: i64, name: &str, parent: i64| json!({"auto_add_user": false, "create_dept_group": false, "dept_id": id, "name": name, "parent_id": parent});
    // No id is the root.
    let a = call(&fx, "/topapi/v2/department/listsub", &token, &json!({})).await;
    assert_topapi(&a, ok(json!([child(100, "研发部", 1), child(200, "市场部", 1)])));
    let a = call(&fx, "/topapi/v2/department/listsub", &token, &json!({"dept_id": 100})).await;
    assert_topapi(&a, ok(json!([child(101, "后端组", 100), child(102, "前端组", 100)])));
    let a = call(&fx, "/topapi/v2/department/listsub", &token, &json!({"dept_id": 101})).await;
    assert_topapi(&a, ok(json!([])));
    let a = call(&fx, "/topapi/v2/department/listsubid", &token, &json!({"dept_id": 100})).await;
    assert_topapi(&a, ok(json!({"dept_id_list": [101, 102]})));
    let a = call(&fx, "/topapi/v2/department/listsubid", &token, &json!({"dept_id": 999})).await;
    assert_topapi(&a, error(60003, "部门不存在"));

    let by_dept = "/topapi/v2/department/listparentbydept";
    for (dept, want) in [(101, json!([101, 100, 1])), (200, json!([200, 1])), (1, json!([1]))] {
        let a = call(&fx, by_dept, &token, &json!({"dept_id": dept})).await;
        assert_topapi(&a, ok(json!({"parent_id_list": want})));
    }
    let a = call(&fx, by_dept, &token, &json!({"dept_id": 999})).await;
    assert_topapi(&a, error(60003, "部门不存在"));
    let a = call(&fx, by_dept, &token, &json!({})).await;
    assert_topapi(&a, error(400002, "无效的参数：dept_id"));

    let by_user = "/topapi/v2/department/listparentbyuser";
    let a = call(&fx, by_user, &token, &json!({"userid": "zhangsan"})).await;
    assert_topapi(
        &a,
        ok(json!({"parent_list": [
            {"parent_dept_id_list": [100, 1]},
            {"parent_dept_id_list": [101, 100, 1]},
        ]})),
    );
    let a = call(&fx, by_user, &token, &json!({"userid": "wangwu"})).await;
    assert_topapi(&a, error(60121, "找不到该用户"));
    let a = call(&fx, by_user, &token, &json!({})).await;
    assert_topapi(&a, error(400002, "无效的参数：userid"));
}

#[tokio::test]
async fn department_get_shows_a_hidden_department_and_who_may_see_it() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let a = call(&fx, "/topapi/v2/department/get", &token, &json!({"dept_id": 102})).await;
    let mut want = department(102, "前端组", Some(100), 2, &[]);
    want["hide_dept"] = json!(true);
    want["dept_permits"] = json!([200]);
    want["user_permits"] = json!(["lisi"]);
    assert_topapi(&a, ok(want));
    // Apps read a hidden department like any other: it is still listed under its parent.
    let a = call(&fx, "/topapi/v2/department/listsubid", &token, &json!({"dept_id": 100})).await;
    assert_topapi(&a, ok(json!({"dept_id_list": [101, 102]})));
}

/// An internal app of Demo Co whose contact range is 研发部 (with 后端组 and 前端组 below it)
/// and chanxm of 市场部.
const RANGE_APP: &str = "apps:
  - key: dingrangeapp
    name: Range App
    type: internal
    secret: range-secret
    corp: ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4
    scopes: [qyapi_get_member, qyapi_get_department_member, qyapi_get_department_list]
    contact_range: [{ departments: [100], users: [chanxm] }]
";

#[tokio::test]
async fn a_contact_range_limits_member_and_department_reads_but_not_ids_counts_or_paths() {
    let fx = fixture_seeded_with("range.yaml", RANGE_APP).await;
    let token = fx.app_token("dingrangeapp", "range-secret").await;
    let user_out = error(50002, "请求的员工userid不在授权范围内");
    let dept_out = error(50004, "请求的部门id不在授权范围内");
    // Members: in 研发部 or below it, or listed by userid.
    for userid in ["zhangsan", "lisi", "chanxm"] {
        let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": userid})).await;
        assert_eq!(a.json["errcode"], 0, "{userid}: {}", a.text());
        assert_eq!(a.json["result"]["userid"], userid);
    }
    for userid in ["sunqi", "zhaoliu_ex"] {
        let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": userid})).await;
        assert_topapi(&a, user_out.clone());
    }
    // Unknown and departed members are unknown before they are out of range.
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "wangwu"})).await;
    assert_topapi(&a, error(60121, "找不到该用户"));
    // Departments: 研发部's subtree only; the root and 市场部 are outside.
    let a = call(&fx, "/topapi/v2/department/get", &token, &json!({"dept_id": 101})).await;
    assert_topapi(&a, ok(department(101, "后端组", Some(100), 0, &[])));
    for dept in [1, 200] {
        let a = call(&fx, "/topapi/v2/department/get", &token, &json!({"dept_id": dept})).await;
        assert_topapi(&a, dept_out.clone());
        let a = call(&fx, "/topapi/v2/department/listsub", &token, &json!({"dept_id": dept})).await;
        assert_topapi(&a, dept_out.clone());
        let page = json!({"dept_id": dept, "cursor": 0, "size": 10});
        let a = call(&fx, "/topapi/v2/user/list", &token, &page).await;
        assert_topapi(&a, dept_out.clone());
        let a = call(&fx, "/topapi/user/listsimple", &token, &page).await;
        assert_topapi(&a, dept_out.clone());
    }
    let a = call(&fx, "/topapi/v2/department/listsub", &token, &json!({})).await;
    assert_topapi(&a, dept_out.clone());
    let a = call(&fx, "/topapi/v2/department/get", &token, &json!({"dept_id": 999})).await;
    assert_topapi(&a, error(60003, "部门不存在"));
    let a = call(
        &fx,
        "/topapi/user/listsimple",
        &token,
        &json!({"dept_id": 101, "cursor": 0, "size": 10}),
    )
    .await;
    assert_topapi(
        &a,
        ok(
            json!({"has_more": false, "list": [{"name": "张三", "userid": "zhangsan"}, {"name": "李四", "userid": "lisi"}]}),
        ),
    );
    // Documented as not limited by the range: ids, the count, the administrators and paths.
    let a = call(&fx, "/topapi/v2/department/listsubid", &token, &json!({"dept_id": 1})).await;
    assert_topapi(&a, ok(json!({"dept_id_list": [100, 200]})));
    let a = call(&fx, "/topapi/user/listid", &token, &json!({"dept_id": 200})).await;
    assert_topapi(&a, ok(json!({"userid_list": ["chanxm"]})));
    let a = call(&fx, "/topapi/user/count", &token, &json!({"only_active": true})).await;
    assert_topapi(&a, ok(json!({"count": 6})));
    let a = call(
        &fx,
        "/topapi/v2/department/listparentbydept",
        &token,
        &json!({"dept_id": 200}),
    )
    .await;
    assert_topapi(&a, ok(json!({"parent_id_list": [200, 1]})));
    let a = call(
        &fx,
        "/topapi/v2/department/listparentbyuser",
        &token,
        &json!({"userid": "sunqi"}),
    )
    .await;
    assert_topapi(&a, ok(json!({"parent_list": [{"parent_dept_id_list": [1]}]})));
}

#[tokio::test]
async fn the_demo_suite_reads_only_zhouba_and_zs001_in_other_co() {
    let fx = fixture().await;
    let token = fx.corp_token(OTHER_CORP).await;
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "zhouba"})).await;
    assert_eq!(a.json["result"]["userid"], "zhouba", "{}", a.text());
    let a = call(&fx, "/topapi/v2/user/get", &token, &json!({"userid": "qianjiu_ex"})).await;
    assert_topapi(&a, error(50002, "请求的员工userid不在授权范围内"));
    let a = call(&fx, "/topapi/v2/department/listsub", &token, &json!({})).await;
    assert_topapi(&a, error(50004, "请求的部门id不在授权范围内"));
    // In Demo Co the same suite has no range: the whole corp.
    let token = fx.corp_token(DEMO_CORP).await;
    let a = call(&fx, "/topapi/v2/department/listsub", &token, &json!({})).await;
    assert_eq!(a.json["result"].as_array().map(Vec::len), Some(2), "{}", a.text());
}
