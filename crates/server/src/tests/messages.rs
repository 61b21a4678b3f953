//! App messages through the whole router (docs/wire/messages.md): app-robot sends one to one and
//! into groups with their read status and recall, work notifications with their progress,
//! result, limits and recall, media upload, and what a test reads back from the inbox.
//! `tests/compat/py_messages.py` referees the same wire with the official and community SDKs.

use super::*;

const APP: &str = "dingdemointernal";
const SECRET: &str = "demo-internal-secret";
const AGENT: i64 = 3_000_000_001;

/// A new-gateway `POST` with the token header, as the official SDK sends it.
fn api_post(uri: &str, token: &str, body: &Value) -> Request<Body> {
    let mut req = sdk_post(uri, &body.to_string());
    req.headers_mut()
        .insert("x-acs-dingtalk-access-token", token.parse().expect("a header value"));
    req
}

async fn token(fx: &Fixture) -> String {
    fx.app_token(APP, SECRET).await
}

async fn oto(fx: &Fixture, token: &str, body: Value) -> Answer {
    fx.send(api_post("/v1.0/robot/oToMessages/batchSend", token, &body))
        .await
}

fn text(content: &str) -> Value {
    json!({"robotCode": APP, "msgKey": "sampleText", "msgParam": json!({"content": content}).to_string()})
}

async fn inbox(fx: &Fixture, query: &str) -> Vec<Value> {
    let a = fx
        .send(admin(Method::GET, &format!("/_dingdir/inbox{query}"), None))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json["messages"].as_array().expect("messages").clone()
}

/// An api-gateway refusal: 400 with the code; the message starts as DingTalk's do.
#[track_caller]
fn refused(a: &Answer, code: &str) {
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    assert_eq!(a.json["code"], json!(code), "{}", a.text());
    let message = a.json["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("错误描述: "), "{message}");
    assert!(is_api_request_id(a.json["requestid"].as_str().unwrap_or_default()));
}

async fn read_status(fx: &Fixture, token: &str, key: &str) -> Answer {
    let key: String = form_urlencoded::byte_serialize(key.as_bytes()).collect();
    fx.send(sdk_get(
        &format!("/v1.0/robot/oToMessages/readStatus?robotCode={APP}&processQueryKey={key}"),
        Some(token),
    ))
    .await
}

#[tokio::test]
async fn batch_send_reaches_members_lists_the_rest_and_reads_and_recalls() {
    let fx = fixture().await;
    let t = token(&fx).await;
    let mut body = text("发布完成");
    body["userIds"] = json!(["zhangsan", "lisi", "nobody", "wangwu", "zhangsan"]);
    let a = oto(&fx, &t, body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let key = a.json["processQueryKey"].as_str().expect("a key").to_owned();
    assert_eq!(key.len(), 32, "{key}");
    assert_eq!(
        a.json,
        json!({"processQueryKey": key, "invalidStaffIdList": ["nobody", "wangwu"], "flowControlledStaffIdList": []}),
        "a departed member is no receiver"
    );
    let sent = inbox(
        &fx,
        &format!(
            "?task={}",
            form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>()
        ),
    )
    .await;
    assert_eq!(sent.len(), 2);
    let zhangsan = &sent[0];
    assert_eq!(zhangsan["conversation"], json!("single:dingdemointernal:zhangsan"));
    assert_eq!(zhangsan["person"], json!("zhangsan"));
    assert_eq!(zhangsan["sender_kind"], json!("app_robot"));
    assert_eq!(zhangsan["sender"], json!("Demo Internal App"));
    assert_eq!(zhangsan["msgtype"], json!("sampleText"));
    assert_eq!(zhangsan["content"], json!({"content": "发布完成"}));
    assert_eq!(inbox(&fx, "?person=lisi").await.len(), 1);

    let a = read_status(&fx, &t, &key).await;
    let unread = json!({"sendStatus": "SUCCESS", "messageReadInfoList": [
        {"name": "张三", "userId": "zhangsan", "readStatus": "UNREAD"},
        {"name": "李四", "userId": "lisi", "readStatus": "UNREAD"}]});
    assert_api(&a, StatusCode::OK, unread);
    let read = fx
        .send(admin(
            Method::POST,
            "/_dingdir/inbox/read",
            Some(&json!({"person": "zhangsan"})),
        ))
        .await;
    assert_eq!(read.json, json!({"marked": 1}), "{}", read.text());
    let a = read_status(&fx, &t, &key).await;
    assert_eq!(a.json["messageReadInfoList"][0]["readStatus"], json!("READ"));
    assert_eq!(a.json["messageReadInfoList"][1]["readStatus"], json!("UNREAD"));

    let recall = json!({"robotCode": APP, "processQueryKeys": [key, "nokey"]});
    let a = fx
        .send(api_post("/v1.0/robot/otoMessages/batchRecall", &t, &recall))
        .await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({"successResult": [key], "failedResult": {"nokey": "PROCESS_QUERY_KEY_NOT_FOUND"}}),
    );
    assert_eq!(read_status(&fx, &t, &key).await.json["sendStatus"], json!("RECALLED"));
    let recalled = inbox(&fx, "?person=zhangsan").await;
    assert!(recalled[0]["recalled_at"].is_i64(), "{recalled:?}");
    refused(&read_status(&fx, &t, "nokey").await, "invalid.processQueryKey");
}

#[tokio::test]
async fn batch_send_refuses_as_dingtalk_does() {
    let fx = fixture().await;
    let t = token(&fx).await;
    let to = |mut b: Value, users: Value| {
        b["userIds"] = users;
        b
    };
    let cases = [
        (to(text("x"), json!([])), "invalidParameter.userIds.empty"),
        (
            to(text("x"), json!((0..21).map(|i| format!("u{i}")).collect::<Vec<_>>())),
            "invalidParameter.userIds.overMax",
        ),
        (to(text("x"), json!(["nobody"])), "staffId.notExisted"),
        (
            to(
                json!({"robotCode": APP, "msgKey": "sampleMarkdoswn", "msgParam": "{}"}),
                json!(["zhangsan"]),
            ),
            "invalidParameter.msgKey.invalid",
        ),
        (
            to(
                json!({"robotCode": APP, "msgKey": "sampleMarkdown", "msgParam": "{\"text\":\"x\"}"}),
                json!(["zhangsan"]),
            ),
            "miss.param.markdownTotitle",
        ),
        (
            to(
                json!({"robotCode": APP, "msgKey": "sampleText", "msgParam": "not json"}),
                json!(["zhangsan"]),
            ),
            "invalidParameter.msgParam.invalid",
        ),
        (
            to(
                json!({"msgKey": "sampleText", "msgParam": "{\"content\":\"x\"}"}),
                json!(["zhangsan"]),
            ),
            "invalidParameter.robotCode.empty",
        ),
        (
            to(
                json!({"robotCode": "dingothercoapp", "msgKey": "sampleText", "msgParam": "{\"content\":\"x\"}"}),
                json!(["zhangsan"]),
            ),
            "invalidParameter.robotCode.auth",
        ),
        (
            to(
                json!({"robotCode": "nosuchrobot", "msgKey": "sampleText", "msgParam": "{\"content\":\"x\"}"}),
                json!(["zhangsan"]),
            ),
            "resource.not.found",
        ),
    ];
    for (body, code) in cases {
        refused(&oto(&fx, &t, body).await, code);
    }
    assert!(
        inbox(&fx, "")
            .await
            .iter()
            .all(|m| m["sender_kind"] != json!("app_robot")),
        "nothing refused was kept"
    );

    // The token, then the permission, before the body.
    let a = fx.send(sdk_post("/v1.0/robot/oToMessages/batchSend", "{}")).await;
    assert_eq!(
        a.json["code"],
        json!("AuthenticationFailed.MissingParameter"),
        "{}",
        a.text()
    );
    let readonly = fx.app_token("dingdemoreadonly", "demo-readonly-secret").await;
    let a = fx
        .send(api_post(
            "/v1.0/robot/oToMessages/batchSend",
            &readonly,
            &json!("not an object"),
        ))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    assert_eq!(
        a.json["code"],
        json!("Forbidden.AccessDenied.AccessTokenPermissionDenied")
    );
    assert_eq!(
        a.json["accessdenieddetail"],
        json!({"requiredScopes": ["qyapi_robot_sendmsg"]})
    );
}

async fn group_id(fx: &Fixture, name: &str) -> String {
    let a = fx.send(admin(Method::GET, "/_dingdir/groups", None)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let groups = a.json["groups"].as_array().expect("groups").clone();
    let g = groups.iter().find(|g| g["name"] == json!(name)).expect("the group");
    g["conversation_id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn group_sends_need_the_robot_in_a_group_of_the_corp_and_recall() {
    let fx = fixture().await;
    let t = token(&fx).await;
    let cid = group_id(&fx, "研发群").await;
    assert!(cid.starts_with("cid") && cid.ends_with("=="), "{cid}");
    let mut body = text("构建失败");
    body["msgKey"] = json!("sampleMarkdown");
    body["msgParam"] = json!({"title": "构建", "text": "#### 构建失败"}).to_string().into();
    body["openConversationId"] = json!(cid);
    let a = fx.send(api_post("/v1.0/robot/groupMessages/send", &t, &body)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let key = a.json["processQueryKey"].as_str().expect("a key").to_owned();
    assert_eq!(a.json, json!({"processQueryKey": key}));
    let msgs = inbox(&fx, "?conversation=%E7%A0%94%E5%8F%91%E7%BE%A4").await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["content"], json!({"title": "构建", "text": "#### 构建失败"}));
    assert_eq!(msgs[0].get("person"), None, "a group message goes to no one person");

    let mut unknown = body.clone();
    unknown["openConversationId"] = json!("cidnope==");
    refused(
        &fx.send(api_post("/v1.0/robot/groupMessages/send", &t, &unknown)).await,
        "invalid.openConversationId",
    );
    let put = json!({"corp_id": DEMO_CORP, "name": "无机器人群", "members": ["zhangsan"]});
    let a = fx.send(admin(Method::PUT, "/_dingdir/groups", Some(&put))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let mut botless = body.clone();
    botless["openConversationId"] = a.json["conversation_id"].clone();
    refused(
        &fx.send(api_post("/v1.0/robot/groupMessages/send", &t, &botless)).await,
        "resource.not.found",
    );

    let recall = json!({"robotCode": APP, "openConversationId": cid, "processQueryKeys": [key]});
    let a = fx.send(api_post("/v1.0/robot/groupMessages/recall", &t, &recall)).await;
    assert_api(&a, StatusCode::OK, json!({"successResult": [key], "failedResult": {}}));
    let again = fx
        .send(api_post(
            "/v1.0/robot/otoMessages/batchRecall",
            &t,
            &json!({"robotCode": APP, "processQueryKeys": [key]}),
        ))
        .await;
    assert_eq!(
        again.json["failedResult"],
        json!({key.clone(): "PROCESS_QUERY_KEY_NOT_FOUND"}),
        "a group send is not a one-to-one send"
    );
}

#[tokio::test]
async fn groups_are_checked_when_put() {
    let fx = fixture().await;
    for (put, why) in [
        (
            json!({"corp_id": DEMO_CORP, "name": "G", "members": ["nobody"]}),
            "members",
        ),
        (
            json!({"corp_id": DEMO_CORP, "name": "G", "bots": ["dingothercoapp"]}),
            "bots",
        ),
        (json!({"corp_id": "dingnocorp", "name": "G"}), "corp_id"),
        (json!({"corp_id": DEMO_CORP, "name": ""}), "name"),
    ] {
        let a = fx.send(admin(Method::PUT, "/_dingdir/groups", Some(&put))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{put}: {}", a.text());
        assert!(a.text().contains(why), "{put}: {}", a.text());
    }
}

async fn notify(fx: &Fixture, token: &str, body: &Value) -> Answer {
    call(fx, "/topapi/message/corpconversation/asyncsend_v2", token, body).await
}

async fn result(fx: &Fixture, token: &str, task: i64) -> Value {
    let a = call(
        fx,
        "/topapi/message/corpconversation/getsendresult",
        token,
        &json!({"agent_id": AGENT, "task_id": task}),
    )
    .await;
    assert_eq!(a.json["errcode"], json!(0), "{}", a.text());
    a.json["send_result"].clone()
}

fn task_of(a: &Answer) -> i64 {
    assert_eq!(a.json["errcode"], json!(0), "{}", a.text());
    a.json["task_id"].as_i64().expect("a numeric task_id")
}

#[tokio::test]
async fn a_work_notification_reaches_people_and_departments_and_reports_its_result() {
    let fx = fixture().await;
    let t = fx.app_token(APP, SECRET).await;
    let msg = json!({"msgtype": "text", "text": {"content": "请提交周报"}});
    let a = notify(
        &fx,
        &t,
        &json!({"agent_id": AGENT, "userid_list": "zhangsan, lisi,nobody", "msg": msg}),
    )
    .await;
    let task = task_of(&a);
    assert_topapi(
        &a,
        json!({"errcode": 0, "errmsg": "ok", "task_id": task, "request_id": RID}),
    );
    let progress = call(
        &fx,
        "/topapi/message/corpconversation/getsendprogress",
        &t,
        &json!({"agent_id": AGENT, "task_id": task}),
    )
    .await;
    assert_topapi(
        &progress,
        json!({"errcode": 0, "errmsg": "ok", "progress": {"progress_in_percent": 100, "status": 2}, "request_id": RID}),
    );
    assert_eq!(
        result(&fx, &t, task).await,
        json!({"invalid_user_id_list": ["nobody"], "forbidden_user_id_list": [], "failed_user_id_list": [],
               "read_user_id_list": [], "unread_user_id_list": ["zhangsan", "lisi"], "invalid_dept_id_list": [],
               "forbidden_list": []})
    );
    let got = inbox(&fx, "?person=lisi").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["conversation"], json!("notice:dingdemointernal:lisi"));
    assert_eq!(got[0]["sender_kind"], json!("work_notice"));
    assert_eq!(got[0]["msgtype"], json!("text"));
    assert_eq!(got[0]["content"], json!({"content": "请提交周报"}));
    assert_eq!(got[0]["task"], json!(task.to_string()));
    fx.send(admin(
        Method::POST,
        "/_dingdir/inbox/read",
        Some(&json!({"person": "lisi"})),
    ))
    .await;
    assert_eq!(result(&fx, &t, task).await["read_user_id_list"], json!(["lisi"]));

    // The same content to the same people again today: held back, and the call still succeeds.
    let again = task_of(
        &notify(
            &fx,
            &t,
            &json!({"agent_id": AGENT, "userid_list": "zhangsan,lisi", "msg": msg.to_string()}),
        )
        .await,
    );
    let r = result(&fx, &t, again).await;
    assert_eq!(r["forbidden_user_id_list"], json!(["zhangsan", "lisi"]));
    assert_eq!(
        r["forbidden_list"],
        json!([{"code": "143106", "count": 1, "userid": "zhangsan"}, {"code": "143106", "count": 1, "userid": "lisi"}])
    );
    assert_eq!(r["unread_user_id_list"], json!([]));

    // A department reaches its sub-departments; an unknown one is listed.
    let depts = json!({"agent_id": AGENT, "dept_id_list": "100,999", "msg": {"msgtype": "markdown", "markdown": {"title": "t", "text": "# 部门"}}});
    let r = result(&fx, &t, task_of(&notify(&fx, &t, &depts).await)).await;
    assert_eq!(r["unread_user_id_list"], json!(["zhangsan", "lisi"]));
    assert_eq!(r["invalid_dept_id_list"], json!([999]));
    let all =
        json!({"agent_id": AGENT, "to_all_user": "true", "msg": {"msgtype": "text", "text": {"content": "全员"}}});
    let r = result(&fx, &t, task_of(&notify(&fx, &t, &all).await)).await;
    let mut everyone: Vec<String> = serde_json::from_value(r["unread_user_id_list"].clone()).unwrap_or_default();
    everyone.sort();
    assert_eq!(
        everyone,
        ["chanxm", "lisi", "solo_ex", "sunqi", "zhangsan", "zhaoliu_ex"]
    );

    // Recall: errcode 0, the messages marked; then the task can be recalled no more by another.
    let recall = call(
        &fx,
        "/topapi/message/corpconversation/recall",
        &t,
        &json!({"agent_id": AGENT, "msg_task_id": task}),
    )
    .await;
    assert_topapi(&recall, json!({"errcode": 0, "errmsg": "ok", "request_id": RID}));
    assert!(
        inbox(&fx, &format!("?task={task}"))
            .await
            .iter()
            .all(|m| m["recalled_at"].is_i64())
    );
}

#[tokio::test]
async fn work_notifications_refuse_with_dingtalks_codes() {
    let fx = fixture().await;
    let t = fx.app_token(APP, SECRET).await;
    let text = json!({"msgtype": "text", "text": {"content": "x"}});
    let cases = [
        (
            json!({"userid_list": "zhangsan", "msg": text}),
            40,
            "Missing required arguments:agent_id",
        ),
        (
            json!({"agent_id": 1, "userid_list": "zhangsan", "msg": text}),
            40056,
            "不合法的agentid",
        ),
        (
            json!({"agent_id": AGENT, "userid_list": "zhangsan"}),
            40,
            "Missing required arguments:msg",
        ),
        (
            json!({"agent_id": AGENT, "userid_list": "zhangsan", "msg": {"msgtype": "video"}}),
            40008,
            "不合法的消息类型",
        ),
        (
            json!({"agent_id": AGENT, "userid_list": "zhangsan", "msg": {"msgtype": "text", "text": {"content": " "}}}),
            44004,
            "文本消息内容为空",
        ),
        (
            json!({"agent_id": AGENT, "userid_list": "zhangsan", "msg": {"msgtype": "image", "image": {"media_id": "@nope"}}}),
            40007,
            "不合法的媒体文件id",
        ),
        (
            json!({"agent_id": AGENT, "userid_list": vec!["u"; 5001].join(","), "msg": text}),
            40032,
            "不合法的UserID列表长度",
        ),
    ];
    for (body, code, msg) in cases {
        let a = notify(&fx, &t, &body).await;
        assert_topapi(&a, error(code, msg));
    }
    let none = notify(&fx, &t, &json!({"agent_id": AGENT, "msg": text})).await;
    assert_eq!(none.json["errcode"], json!(40035), "{}", none.text());
    let recall = call(
        &fx,
        "/topapi/message/corpconversation/recall",
        &t,
        &json!({"agent_id": AGENT, "msg_task_id": 424242}),
    )
    .await;
    assert_topapi(&recall, error(400002, "agentId不合法或taskId不合法"));
    // Another app's task is not the caller's to read.
    let task = task_of(
        &notify(
            &fx,
            &t,
            &json!({"agent_id": AGENT, "userid_list": "zhangsan", "msg": text}),
        )
        .await,
    );
    let other = fx.app_token("dingdemoreadonly", "demo-readonly-secret").await;
    let other_agent = dingdir_core::model::derived_agent_id(&AppKey("dingdemoreadonly".into()));
    let a = call(
        &fx,
        "/topapi/message/corpconversation/getsendresult",
        &other,
        &json!({"agent_id": other_agent, "task_id": task}),
    )
    .await;
    assert_topapi(&a, error(40035, "不合法的参数"));
    let a = notify(&fx, "nosuchtoken", &json!({"agent_id": AGENT})).await;
    assert_eq!(
        a.json["errcode"],
        json!(88),
        "a bad token is wrapped as on every /topapi path: {}",
        a.text()
    );
}

/// A multipart upload as `requests` sends one.
fn upload(token: &str, query: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Request<Body> {
    let mut body = Vec::new();
    for (name, file, data) in parts {
        body.extend_from_slice(b"--dingdirboundary\r\n");
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--dingdirboundary--\r\n");
    Request::builder()
        .method(Method::POST)
        .uri(format!("/media/upload?access_token={token}{query}"))
        .header("Content-Type", "multipart/form-data; boundary=dingdirboundary")
        .body(Body::from(body))
        .expect("a valid request")
}

#[tokio::test]
async fn media_is_typed_and_bounded_and_work_notifications_use_it() {
    let fx = fixture().await;
    let t = fx.app_token(APP, SECRET).await;
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
    let a = fx
        .send(upload(&t, "&type=image", &[("media", Some("a.png"), png)]))
        .await;
    assert_eq!(a.json["errcode"], json!(0), "{}", a.text());
    let id = a.json["media_id"].as_str().expect("media_id").to_owned();
    assert!(id.starts_with("@lA"), "{id}");
    assert_eq!(a.json["type"], json!("image"));
    assert!(a.json["created_at"].is_i64());
    let stored = fx.state.service.background().media(&id).await.unwrap().expect("kept");
    assert_eq!((stored.data.as_slice(), stored.file_name.as_str()), (png, "a.png"));
    // `type` as a form field, as the Stream SDK sends it.
    let a = fx
        .send(upload(
            &t,
            "",
            &[("type", None, b"file"), ("media", Some("r.pdf"), b"%PDF-1.4")],
        ))
        .await;
    assert_eq!(
        (a.json["errcode"].clone(), a.json["type"].clone()),
        (json!(0), json!("file")),
        "{}",
        a.text()
    );

    let big = vec![7u8; (2 << 20) + 1];
    for (req, code, msg) in [
        (
            upload(&t, "&type=image", &[("media", Some("a.webp"), png)]),
            40005,
            "不合法的文件类型",
        ),
        (
            upload(&t, "&type=image", &[("other", Some("a.png"), png)]),
            41005,
            "缺少多媒体文件数据",
        ),
        (
            upload(&t, "&type=sticker", &[("media", Some("a.png"), png)]),
            40004,
            "不合法的媒体文件类型",
        ),
        (
            upload(&t, "", &[("media", Some("a.png"), png)]),
            40004,
            "不合法的媒体文件类型",
        ),
        (
            upload(&t, "&type=image", &[("media", Some("a.png"), b"")]),
            44001,
            "多媒体文件为空",
        ),
        (
            upload(&t, "&type=voice", &[("media", Some("a.amr"), &big)]),
            40006,
            "不合法的文件大小",
        ),
    ] {
        assert_legacy(&fx.send(req).await, json!({"errcode": code, "errmsg": msg}));
    }
    let a = fx
        .send(upload("nosuchtoken", "&type=image", &[("media", Some("a.png"), png)]))
        .await;
    assert_eq!(a.json["errcode"], json!(40014), "{}", a.text());

    let image =
        json!({"agent_id": AGENT, "userid_list": "zhangsan", "msg": {"msgtype": "image", "image": {"media_id": id}}});
    let task = task_of(&notify(&fx, &t, &image).await);
    assert_eq!(result(&fx, &t, task).await["unread_user_id_list"], json!(["zhangsan"]));
}

#[tokio::test]
async fn a_follower_of_the_inbox_wakes_on_the_next_message() {
    let fx = Arc::new(fixture().await);
    let t = token(&fx).await;
    let waiting = {
        let fx = fx.clone();
        tokio::spawn(async move { inbox(&fx, "?after=0&wait_ms=10000").await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut body = text("到了");
    body["userIds"] = json!(["zhangsan"]);
    assert_eq!(oto(&fx, &t, body).await.status, StatusCode::OK);
    let got = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("woken well before its wait ends")
        .expect("the follower");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["content"], json!({"content": "到了"}));
    let seq = got[0]["seq"].as_i64().expect("seq");
    let started = tokio::time::Instant::now();
    assert!(inbox(&fx, &format!("?after={seq}&wait_ms=200")).await.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(200), "it waited its wait_ms");
}

/// A bot on the robot HTTP callback: it checks the signature DingTalk sends, records the
/// message, and answers with what `reply` holds.
async fn http_bot(secret: &'static str, reply: &'static str) -> (String, Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::http::HeaderMap;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let got = seen.clone();
    let handler = move |headers: HeaderMap, body: Bytes| {
        let got = got.clone();
        async move {
            let ts = headers
                .get("timestamp")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let sign = headers
                .get("sign")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            if sign != dingdir_core::robot::sign(secret, &ts) {
                return (StatusCode::FORBIDDEN, "bad sign".to_owned());
            }
            got.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap_or_default());
            (StatusCode::OK, reply.to_owned())
        }
    };
    let router = Router::new().route("/bot", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bot", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, seen)
}

async fn http_bot_fixture(url: &str, secret: Option<&str>) -> Fixture {
    let secret_line = secret.map(|s| format!("\n      secret: {s}")).unwrap_or_default();
    let seed = format!(
        "apps:\n  - key: dinghttpbot\n    name: HTTP Bot\n    type: internal\n    secret: http-bot-secret\n    corp: {DEMO_CORP}\n    bot_callback:\n      url: {url}{secret_line}\n"
    );
    fixture_seeded_with("bot.yaml", &seed).await
}

#[tokio::test]
async fn a_robot_on_the_http_callback_gets_the_message_signed_and_its_reply_lands() {
    let (url, seen) = http_bot(
        "http-bot-secret",
        r#"{"msgtype":"markdown","markdown":{"title":"答","text":"**收到**"}}"#,
    )
    .await;
    let fx = http_bot_fixture(&url, None).await;
    let say = json!({"app_key": "dinghttpbot", "from": "zhangsan", "text": "你好"});
    let a = fx.send(admin(Method::POST, "/_dingdir/chat", Some(&say))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let reply_seq = a.json["http"]["reply_seq"].as_i64().expect("a reply in the inbox");
    assert_eq!(a.json["http"]["status"], json!(200));
    assert_eq!(a.json.get("connection"), None);
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0], a.json["message"],
        "the bot gets the chatbot message as Stream mode's data"
    );
    assert_eq!(got[0]["text"]["content"], json!("你好"));
    let msgs = inbox(&fx, "?conversation=single%3Adinghttpbot%3Azhangsan").await;
    let reply = msgs.iter().find(|m| m["seq"] == json!(reply_seq)).expect("the reply");
    assert_eq!(
        (reply["sender_kind"].clone(), reply["msgtype"].clone()),
        (json!("app_robot"), json!("markdown"))
    );
    assert_eq!(reply["content"], json!({"title": "答", "text": "**收到**"}));
}

#[tokio::test]
async fn an_http_robot_that_says_nothing_or_refuses_the_signature_is_reported() {
    let (url, _) = http_bot("http-bot-secret", r#"{"msgtype":"empty"}"#).await;
    let fx = http_bot_fixture(&url, None).await;
    let say = json!({"app_key": "dinghttpbot", "from": "zhangsan", "text": "在吗"});
    let a = fx.send(admin(Method::POST, "/_dingdir/chat", Some(&say))).await;
    assert_eq!(a.json["http"], json!({"status": 200}), "{}", a.text());

    let (url, seen) = http_bot("another-secret", "{}").await;
    let fx = http_bot_fixture(&url, None).await;
    let a = fx.send(admin(Method::POST, "/_dingdir/chat", Some(&say))).await;
    assert_eq!(
        a.json["http"],
        json!({"status": 403, "error": "answered HTTP 403 Forbidden"})
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "signed with the app's secret, not the bot's"
    );
    // With its own signing secret, the same bot takes it.
    let fx = http_bot_fixture(&url, Some("another-secret")).await;
    let a = fx.send(admin(Method::POST, "/_dingdir/chat", Some(&say))).await;
    assert_eq!(a.json["http"], json!({"status": 200}), "{}", a.text());

    let fx = http_bot_fixture("http://127.0.0.1:9/bot", None).await;
    let a = fx.send(admin(Method::POST, "/_dingdir/chat", Some(&say))).await;
    let error = a.json["http"]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("request failed"), "{}", a.text());
}

#[tokio::test]
async fn a_person_sends_the_bot_a_picture_and_the_bot_downloads_it() {
    let fx = fixture().await;
    let t = fx.app_token(APP, SECRET).await;
    let png: &[u8] = b"\x89PNG\r\n\x1a\nbot-picture";
    let up = fx
        .send(upload(&t, "&type=image", &[("media", Some("p.png"), png)]))
        .await;
    let id = up.json["media_id"].as_str().expect("media_id").to_owned();
    let say = json!({"app_key": APP, "from": "zhangsan", "text": "", "media_id": id});
    let a = fx.send(admin(Method::POST, "/_dingdir/chat", Some(&say))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let message = &a.json["message"];
    assert_eq!(message["msgtype"], json!("picture"));
    assert_eq!(message.get("text"), None);
    let code = message["content"]["downloadCode"]
        .as_str()
        .expect("a downloadCode")
        .to_owned();

    let body = json!({"robotCode": APP, "downloadCode": code});
    let a = fx.send(api_post("/v1.0/robot/messageFiles/download", &t, &body)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let url = a.json["downloadUrl"].as_str().expect("downloadUrl");
    let path = url
        .strip_prefix("http://127.0.0.1:18080")
        .expect("on this server's host");
    // A plain GET, as the SDK's `get_image_download_url` user fetches it: no admin token.
    let file = fx.send(request(Method::GET, path, Body::empty())).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body.as_ref(), png);
    assert_eq!(file.header("content-type"), "application/octet-stream");

    let bad = json!({"robotCode": APP, "downloadCode": "dcnope"});
    refused(
        &fx.send(api_post("/v1.0/robot/messageFiles/download", &t, &bad)).await,
        "invalidParameter.robotCode.downloadCode",
    );
    let unknown = json!({"app_key": APP, "from": "zhangsan", "text": "", "media_id": "@lAnope"});
    let a = fx.send(admin(Method::POST, "/_dingdir/chat", Some(&unknown))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
}

#[tokio::test]
async fn uploads_past_four_at_once_answer_system_busy() {
    use futures_util::StreamExt as _;
    let fx = Arc::new(fixture().await);
    let t = fx.app_token(APP, SECRET).await;
    // Four uploads whose bodies never end hold every slot.
    let mut held = Vec::new();
    for _ in 0..4 {
        let stream = futures_util::stream::once(async { Ok::<_, std::io::Error>(Bytes::from_static(b"--b\r\n")) })
            .chain(futures_util::stream::pending());
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/media/upload?access_token={t}&type=image"))
            .header("Content-Type", "multipart/form-data; boundary=b")
            .body(Body::from_stream(stream))
            .expect("a valid request");
        let fx = fx.clone();
        held.push(tokio::spawn(async move { fx.send(req).await }));
    }
    // Until the four hold every slot (bounded: 5 s).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while crate::gateway::oapi::media_uploads_free() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let png: &[u8] = b"\x89PNG";
    let busy = fx
        .send(upload(&t, "&type=image", &[("media", Some("a.png"), png)]))
        .await;
    assert_legacy(&busy, json!({"errcode": -1, "errmsg": "系统繁忙"}));
    // A wrong token in the query is refused before any slot is needed.
    let wrong = fx
        .send(upload("nosuchtoken", "&type=image", &[("media", Some("a.png"), png)]))
        .await;
    assert_eq!(wrong.json["errcode"], json!(40014), "{}", wrong.text());
    for h in held {
        h.abort();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ok = fx
        .send(upload(&t, "&type=image", &[("media", Some("a.png"), png)]))
        .await;
    assert_eq!(ok.json["errcode"], json!(0), "a slot is free again: {}", ok.text());
}
