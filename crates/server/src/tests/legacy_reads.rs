//! The old flat GET reads older integrations still call (docs/wire/directory-read.md §1.4,
//! §2.13–2.15): `/user/get`, `/department/list`, `/auth/scopes`, and the in-app sign-in code
//! exchange on both `/topapi/v2/user/getuserinfo` and `/user/getuserinfo`. Every expected body is
//! written out.

use super::*;
use dingdir_proto::ids::CorpId;

async fn get(fx: &Fixture, path_and_query: &str) -> Answer {
    fx.send(community_get(path_and_query)).await
}

async fn internal(fx: &Fixture) -> String {
    fx.app_token("dingdemointernal", "demo-internal-secret").await
}

fn plain_error(errcode: i64, errmsg: &str) -> Value {
    json!({"errcode": errcode, "errmsg": errmsg})
}

/// An in-app sign-in code for `userid`, minted for `app_key` through the admin API.
async fn auth_code(fx: &Fixture, app_key: &str, corp: Option<&str>, userid: &str) -> String {
    let mut body = json!({"app_key": app_key, "userid": userid});
    if let Some(c) = corp {
        body["corp_id"] = json!(c);
    }
    let a = fx.send(admin(Method::POST, "/_dingdir/auth-codes", Some(&body))).await;
    assert_eq!(a.status, StatusCode::OK, "minting a code for {body}: {}", a.text());
    let code = a.json["code"].as_str().expect("code").to_owned();
    assert!(is_hex32(&code), "{}", a.text());
    assert_eq!(a.json["expires_in"], 300);
    code
}

#[tokio::test]
async fn user_get_answers_the_flat_camel_case_record() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let unionid = fx.union_id_in_corp(DEMO_CORP, "zhangsan");
    let a = get(
        &fx,
        &format!("/user/get?access_token={token}&userid=zhangsan&lang=zh_CN"),
    )
    .await;
    assert_legacy(
        &a,
        json!({
            "errcode": 0,
            "active": true,
            "avatar": "https://static.example.com/avatar/zhangsan.png",
            "department": [100, 101],
            "email": "zhangsan@example.com",
            "exclusiveAccount": false,
            "hiredDate": 1_577_836_800_000_i64,
            "isAdmin": true,
            "isBoss": false,
            "isHide": false,
            "isLeaderInDepts": "{100:true,101:false}",
            "isSenior": false,
            "jobnumber": "0001",
            "mobile": "15000009144",
            "name": "张三",
            "openId": unionid,
            "orderInDepts": "{100:0,101:1}",
            "position": "研发总监",
            "realAuthed": true,
            "roles": [],
            "stateCode": "86",
            "tel": "8001",
            "unionid": unionid,
            "userid": "zhangsan",
            "workPlace": "杭州",
            "errmsg": "ok",
        }),
    );
    // errcode first and errmsg last, as real answers have them.
    let text = a.text();
    assert!(text.starts_with("{\"errcode\":0,"), "{text}");
    assert!(text.ends_with(",\"errmsg\":\"ok\"}"), "{text}");
    // The manager, when there is one, as the docs spell it.
    let a = get(&fx, &format!("/user/get?access_token={token}&userid=lisi")).await;
    assert_eq!(a.json["managerUserid"], "zhangsan", "{}", a.text());
    assert_eq!(
        a.json["roles"],
        json!([
            {"id": 4_000_000_002_i64, "name": "项目经理", "groupName": "职务"},
            {"id": 4_000_000_001_i64, "name": "财务", "groupName": "职务"},
        ]),
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn user_get_errors_are_plain() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let a = get(&fx, &format!("/user/get?access_token={token}&userid=wangwu")).await;
    assert_legacy(&a, plain_error(60121, "找不到该用户"));
    let a = get(&fx, &format!("/user/get?access_token={token}")).await;
    assert_legacy(&a, plain_error(400002, "无效的参数：userid"));
    let a = get(&fx, "/user/get?userid=zhangsan").await;
    assert_legacy(&a, plain_error(41001, "缺少access_token参数"));
    let a = get(
        &fx,
        &format!("/user/get?access_token={}&userid=zhangsan", "0".repeat(32)),
    )
    .await;
    assert_legacy(&a, plain_error(40014, "不合法的access_token"));
    let readonly = fx.app_token("dingdemoreadonly", "demo-readonly-secret").await;
    let a = get(&fx, &format!("/user/get?access_token={readonly}&userid=zhangsan")).await;
    assert_legacy(&a, plain_error(60011, "应用尚未开通所需的权限：[qyapi_get_member]"));
    let a = fx
        .send(legacy_post(
            &format!("/user/get?access_token={token}"),
            "application/json",
            "{\"userid\":\"zhangsan\"}",
        ))
        .await;
    assert_legacy(&a, plain_error(43001, "需要GET请求"));
    // The range applies as on /topapi/v2/user/get.
    let suite = fx.corp_token(OTHER_CORP).await;
    let a = get(&fx, &format!("/user/get?access_token={suite}&userid=qianjiu_ex")).await;
    assert_legacy(&a, plain_error(50002, "请求的员工userid不在授权范围内"));
}

fn dept(id: i64, name: &str, parent: Option<i64>) -> Value {
    let mut d = json!({"createDeptGroup": false, "name": name, "id": id, "autoAddUser": false});
    if let Some(p) = parent {
        d["parentid"] = json!(p);
    }
    d
}

fn list(departments: &[Value]) -> Value {
    json!({"errcode": 0, "department": departments, "errmsg": "ok"})
}

#[tokio::test]
async fn department_list_walks_the_tree_depth_first_from_the_root_or_below_a_department() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let whole = list(&[
        dept(1, "Demo Co", None),
        dept(100, "研发部", Some(1)),
        dept(101, "后端组", Some(100)),
        dept(102, "前端组", Some(100)),
        dept(200, "市场部", Some(1)),
    ]);
    // No id: the root itself, without `parentid`, and everything below it.
    let a = get(&fx, &format!("/department/list?access_token={token}")).await;
    assert_legacy(&a, whole.clone());
    let text = a.text();
    assert!(text.starts_with("{\"errcode\":0,\"department\":["), "{text}");
    // Python's `str(True)`, as the community SDK sends it, and the other spellings.
    for flag in ["True", "true", "1"] {
        let a = get(
            &fx,
            &format!("/department/list?access_token={token}&fetch_child={flag}&lang=zh_CN"),
        )
        .await;
        assert_legacy(&a, whole.clone());
    }
    for flag in ["False", "false", "0"] {
        let a = get(
            &fx,
            &format!("/department/list?access_token={token}&fetch_child={flag}"),
        )
        .await;
        assert_legacy(
            &a,
            list(&[
                dept(1, "Demo Co", None),
                dept(100, "研发部", Some(1)),
                dept(200, "市场部", Some(1)),
            ]),
        );
    }
    // With an id: its children (every level by default), never itself.
    let a = get(&fx, &format!("/department/list?access_token={token}&id=100")).await;
    assert_legacy(
        &a,
        list(&[dept(101, "后端组", Some(100)), dept(102, "前端组", Some(100))]),
    );
    let a = get(
        &fx,
        &format!("/department/list?access_token={token}&id=1&fetch_child=False"),
    )
    .await;
    assert_legacy(&a, list(&[dept(100, "研发部", Some(1)), dept(200, "市场部", Some(1))]));
    let a = get(&fx, &format!("/department/list?access_token={token}&id=101")).await;
    assert_legacy(&a, list(&[]));
}

#[tokio::test]
async fn department_list_errors_and_the_contact_range() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let a = get(&fx, &format!("/department/list?access_token={token}&id=999")).await;
    assert_legacy(&a, plain_error(60003, "部门不存在"));
    let a = get(&fx, &format!("/department/list?access_token={token}&id=abc")).await;
    assert_legacy(&a, plain_error(400002, "无效的参数：id"));
    let a = get(&fx, &format!("/department/list?access_token={token}&fetch_child=maybe")).await;
    assert_legacy(&a, plain_error(400002, "无效的参数：fetch_child"));
    let readonly = fx.app_token("dingdemoreadonly", "demo-readonly-secret").await;
    let a = get(&fx, &format!("/department/list?access_token={readonly}")).await;
    assert_legacy(
        &a,
        plain_error(60011, "应用尚未开通所需的权限：[qyapi_get_department_list]"),
    );
    // The demo suite reads two members of Other Co and no department: the root is out of range,
    // as DingTalk answers an ISV whose range is partial.
    let suite = fx.corp_token(OTHER_CORP).await;
    let a = get(&fx, &format!("/department/list?access_token={suite}")).await;
    assert_legacy(&a, plain_error(50004, "请求的部门id不在授权范围内"));
}

#[tokio::test]
async fn auth_scopes_shows_the_whole_corp_or_the_seeded_range() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let a = get(&fx, &format!("/auth/scopes?access_token={token}")).await;
    assert_legacy(
        &a,
        json!({
            "errcode": 0,
            "errmsg": "ok",
            "auth_user_field": ["userid", "name", "avatar", "department", "position", "jobnumber", "email",
                "orgEmail", "tel", "workPlace", "remark", "hiredDate", "mobile", "stateCode"],
            "condition_field": [],
            "auth_org_scopes": {"authed_dept": [1], "authed_user": []},
        }),
    );
    let suite = fx.corp_token(OTHER_CORP).await;
    let a = get(&fx, &format!("/auth/scopes?access_token={suite}")).await;
    assert_legacy(
        &a,
        json!({
            "errcode": 0,
            "errmsg": "ok",
            "auth_user_field": ["userid", "name", "avatar", "department", "position", "jobnumber"],
            "condition_field": [],
            "auth_org_scopes": {"authed_dept": [], "authed_user": ["zhouba", "zs001"]},
        }),
    );
    let a = get(&fx, "/auth/scopes").await;
    assert_legacy(&a, plain_error(41001, "缺少access_token参数"));
}

#[tokio::test]
async fn an_in_app_code_names_the_member_once() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let unionid = fx.union_id_in_corp(DEMO_CORP, "zhangsan");
    let code = auth_code(&fx, "dingdemointernal", None, "zhangsan").await;
    let path = format!("/topapi/v2/user/getuserinfo?access_token={token}");
    let a = fx
        .send(legacy_post(
            &path,
            "application/json",
            &json!({"code": code}).to_string(),
        ))
        .await;
    assert_eq!(
        a.json["result"]["device_id"].as_str().map(str::len),
        Some(32),
        "{}",
        a.text()
    );
    let device = a.json["result"]["device_id"].clone();
    assert_topapi(
        &a,
        json!({
            "errcode": 0,
            "errmsg": "ok",
            "result": {
                "associated_unionid": "",
                "device_id": device,
                "name": "张三",
                "sys": true,
                "sys_level": 1,
                "unionid": unionid,
                "userid": "zhangsan",
            },
            "request_id": RID,
        }),
    );
    // Single use.
    let spent = json!({"errcode": 40078, "errmsg": "nonexistent temp auth code", "request_id": RID});
    let a = fx
        .send(legacy_post(
            &path,
            "application/json",
            &json!({"code": code}).to_string(),
        ))
        .await;
    assert_topapi(&a, spent.clone());
    // The old flat path; a sub-administrator is sys_level 2, anyone else 0.
    let code = auth_code(&fx, "dingdemointernal", Some(DEMO_CORP), "chanxm").await;
    let a = get(&fx, &format!("/user/getuserinfo?access_token={token}&code={code}")).await;
    let device = a.json["deviceId"].clone();
    assert_legacy(
        &a,
        json!({"errcode": 0, "sys_level": 2, "is_sys": true, "name": "陈小明", "errmsg": "ok",
               "deviceId": device, "userid": "chanxm"}),
    );
    let code = auth_code(&fx, "dingdemointernal", None, "lisi").await;
    let a = get(&fx, &format!("/user/getuserinfo?access_token={token}&code={code}")).await;
    assert_eq!(
        (a.json["sys_level"].clone(), a.json["is_sys"].clone()),
        (json!(0), json!(false))
    );
}

async fn exchange_at(fx: &Fixture, path: &str, code: &str) -> Answer {
    fx.send(legacy_post(
        path,
        "application/json",
        &json!({"code": code}).to_string(),
    ))
    .await
}

#[tokio::test]
async fn in_app_codes_are_bound_to_their_app_expire_and_are_not_oauth_codes() {
    let fx = fixture().await;
    let token = internal(&fx).await;
    let path = format!("/topapi/v2/user/getuserinfo?access_token={token}");
    let bad = json!({"errcode": 40078, "errmsg": "nonexistent temp auth code", "request_id": RID});
    // Another app's code, even in the same corp, is unknown here; and it stays unspent.
    let other = auth_code(&fx, "dingdemoreadonly", None, "zhangsan").await;
    assert_topapi(&exchange_at(&fx, &path, &other).await, bad.clone());
    let readonly = fx.app_token("dingdemoreadonly", "demo-readonly-secret").await;
    let a = get(&fx, &format!("/user/getuserinfo?access_token={readonly}&code={other}")).await;
    assert_eq!(a.json["userid"], "zhangsan", "{}", a.text());
    // Unknown, and five minutes after minting.
    assert_topapi(&exchange_at(&fx, &path, &"f".repeat(32)).await, bad.clone());
    let code = auth_code(&fx, "dingdemointernal", None, "lisi").await;
    fx.clock.advance_ms(301 * 1000).unwrap();
    let token = internal(&fx).await;
    let path = format!("/topapi/v2/user/getuserinfo?access_token={token}");
    assert_topapi(&exchange_at(&fx, &path, &code).await, bad.clone());
    // An OAuth code from the browser sign-in is another namespace: refused here, and not spent.
    let oauth = fx
        .state
        .service
        .issue_code(dingdir_core::token::Grant {
            app_key: AppKey("dingdemointernal".to_owned()),
            person_id: PersonId("zhangsan".to_owned()),
            corp_id: Some(CorpId(DEMO_CORP.to_owned())),
            scope: "openid corpid".to_owned(),
        })
        .await
        .unwrap();
    assert_topapi(&exchange_at(&fx, &path, &oauth).await, bad.clone());
    let redeemed = fx
        .state
        .service
        .user_token_from_code(Some("dingdemointernal"), Some("demo-internal-secret"), Some(&oauth))
        .await;
    assert!(redeemed.is_ok(), "the OAuth code still redeems: {redeemed:?}");
    let a = fx
        .send(legacy_post(&path, "application/json", &json!({"code": ""}).to_string()))
        .await;
    assert_topapi(
        &a,
        json!({"errcode": 400002, "errmsg": "无效的参数：code", "request_id": RID}),
    );
    // A member who departs after the code was minted is not found.
    let a = fx
        .send(admin(
            Method::POST,
            "/_dingdir/auth-codes",
            Some(&json!({"app_key": "dingdemointernal", "userid": "wangwu"})),
        ))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text());
    let a = fx
        .send(admin(
            Method::POST,
            "/_dingdir/auth-codes",
            Some(&json!({"app_key": "dingdemointernal", "corp_id": OTHER_CORP, "userid": "zhouba"})),
        ))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    // A user token is not an app token.
    let user = fx.user_token("dingdemointernal", "15000009144").await;
    let a = get(
        &fx,
        &format!("/user/getuserinfo?access_token={user}&code={}", "f".repeat(32)),
    )
    .await;
    assert_legacy(&a, plain_error(40014, "不合法的access_token"));
}
