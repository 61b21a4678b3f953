//! getbymobile, `POST /topapi/v2/user/getbymobile` (seed 003; WIRE.md §B, §D3, §D4): form and
//! JSON bodies, exclusive accounts, every errcode, and token failures in the `88` wrapper.

use super::*;

const PATH: &str = "/topapi/v2/user/getbymobile";
const FORM: &str = "application/x-www-form-urlencoded;charset=utf-8";

fn with_token(token: &str) -> String {
    format!("{PATH}?access_token={token}")
}

/// A JSON body with the token in the query, as the community SDK sends it. SDK-WIRE.md §3.3.
fn json_req(token: &str, body: &str) -> Request<Body> {
    legacy_post(&with_token(token), "application/json", body)
}

fn found(userid: &str, exclusive: &[&str]) -> Value {
    json!({
        "errcode": 0,
        "errmsg": "ok",
        "result": {"exclusive_account_userid_list": exclusive, "userid": userid},
        "request_id": RID,
    })
}

fn wrapped(sub_code: &str, sub_msg: &str) -> Value {
    json!({
        "errcode": 88,
        "errmsg": format!("ding talk error[subcode={sub_code},submsg={sub_msg}]"),
        "sub_code": sub_code,
        "sub_msg": sub_msg,
        "request_id": RID,
    })
}

fn no_permission() -> Value {
    wrapped("60011", "应用尚未开通所需的权限：[qyapi_get_member_by_mobile]")
}

fn not_found() -> Value {
    error(60121, "找不到该用户")
}

async fn internal_token(fx: &Fixture) -> String {
    fx.app_token("dingdemointernal", "demo-internal-secret").await
}

#[tokio::test]
async fn getbymobile_form_body_with_the_token_in_the_form() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    let a = fx
        .send(legacy_post(
            PATH,
            FORM,
            &format!("access_token={token}&mobile=15000009144"),
        ))
        .await;
    assert_topapi(&a, found("zhangsan", &[]));
    // The documented curl, with the exclusive-account flag as a form field. Seed 003.
    let a = fx
        .send(legacy_post(
            PATH,
            FORM,
            &format!("access_token={token}&mobile=15000009144&support_exclusive_account_search=true"),
        ))
        .await;
    assert_topapi(&a, found("zhangsan", &["zhaoliu_ex"]));
    // The exact bytes: `errcode` a number, the list an array, keys in a real answer's order.
    let rid = a.header("x-acs-request-id");
    assert_eq!(
        a.text(),
        format!(
            r#"{{"errcode":0,"errmsg":"ok","result":{{"exclusive_account_userid_list":["zhaoliu_ex"],"userid":"zhangsan"}},"request_id":"{rid}"}}"#
        )
    );
}

#[tokio::test]
async fn getbymobile_json_body_with_the_token_in_the_query() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
    ] {
        for body in [r#"{"mobile": "15000009144"}"#, r#"{"mobile":"15000009144"}"#] {
            let a = fx.send(legacy_post(&with_token(&token), content_type, body)).await;
            assert_topapi(&a, found("zhangsan", &[]));
        }
    }
    // The query carries parameters too (the Java TOP SDK's GET style).
    let a = fx
        .send(legacy_post(
            &format!("{}&mobile=15000009144", with_token(&token)),
            FORM,
            "",
        ))
        .await;
    assert_topapi(&a, found("zhangsan", &[]));
}

#[tokio::test]
async fn getbymobile_exclusive_search_lists_only_the_callers_corp_accounts() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    // `true` and the Java TOP SDK's `"true"`. WIRE.md §B3.
    for body in [
        r#"{"mobile": "15000009144", "support_exclusive_account_search": true}"#,
        r#"{"mobile": "15000009144", "support_exclusive_account_search": "true"}"#,
    ] {
        let a = fx.send(json_req(&token, body)).await;
        // Other Co's qianjiu_ex shares the mobile and never appears.
        assert_topapi(&a, found("zhangsan", &["zhaoliu_ex"]));
    }
}

#[tokio::test]
async fn getbymobile_exclusive_search_off_gives_an_empty_list() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    for body in [
        r#"{"mobile": "15000009144"}"#,
        r#"{"mobile": "15000009144", "support_exclusive_account_search": false}"#,
        r#"{"mobile": "15000009144", "support_exclusive_account_search": "false"}"#,
        r#"{"mobile": "15000009144", "support_exclusive_account_search": null}"#,
    ] {
        let a = fx.send(json_req(&token, body)).await;
        assert_topapi(&a, found("zhangsan", &[]));
    }
}

#[tokio::test]
async fn getbymobile_bad_exclusive_flag_is_400002() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    for body in [
        r#"{"mobile": "15000009144", "support_exclusive_account_search": "yes"}"#,
        r#"{"mobile": "15000009144", "support_exclusive_account_search": 1}"#,
        r#"{"mobile": "15000009144", "support_exclusive_account_search": "TRUE"}"#,
    ] {
        let a = fx.send(json_req(&token, body)).await;
        assert_topapi(&a, error(400002, "无效的参数：support_exclusive_account_search"));
    }
}

#[tokio::test]
async fn getbymobile_only_exclusive_accounts_match_without_userid() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    let a = fx
        .send(json_req(
            &token,
            r#"{"mobile": "13600000006", "support_exclusive_account_search": true}"#,
        ))
        .await;
    assert_topapi(
        &a,
        json!({
            "errcode": 0,
            "errmsg": "ok",
            "result": {"exclusive_account_userid_list": ["solo_ex"]},
            "request_id": RID,
        }),
    );
    // Not asked for: nobody matches.
    let a = fx.send(json_req(&token, r#"{"mobile": "13600000006"}"#)).await;
    assert_topapi(&a, not_found());
    let a = fx
        .send(json_req(
            &token,
            r#"{"mobile": "13600000006", "support_exclusive_account_search": false}"#,
        ))
        .await;
    assert_topapi(&a, not_found());
}

#[tokio::test]
async fn getbymobile_departed_member_is_60121() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    for body in [
        r#"{"mobile": "13800000001"}"#,
        r#"{"mobile": "13800000001", "support_exclusive_account_search": true}"#,
    ] {
        let a = fx.send(json_req(&token, body)).await;
        assert_topapi(&a, not_found());
    }
}

#[tokio::test]
async fn getbymobile_unknown_mobile_is_60121() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    for mobile in ["13999999999", "+852-12345678", "+1-4155550100"] {
        let a = fx.send(json_req(&token, &format!(r#"{{"mobile": "{mobile}"}}"#))).await;
        assert_topapi(&a, not_found());
    }
}

#[tokio::test]
async fn getbymobile_foreign_mobile_finds_the_member() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    let a = fx.send(json_req(&token, r#"{"mobile": "+852-91234567"}"#)).await;
    assert_topapi(&a, found("chanxm", &[]));
    // `+86-` is the same as bare digits.
    let a = fx.send(json_req(&token, r#"{"mobile": "+86-15000009144"}"#)).await;
    assert_topapi(&a, found("zhangsan", &[]));
    // Form-encoded: `+` must come percent-encoded, as any form encoder writes it.
    let a = fx
        .send(legacy_post(
            PATH,
            FORM,
            &format!("access_token={token}&mobile=%2B852-91234567"),
        ))
        .await;
    assert_topapi(&a, found("chanxm", &[]));
}

#[tokio::test]
async fn getbymobile_empty_or_missing_mobile_is_400002() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    let want = error(400002, "无效的参数：mobile");
    for body in [
        r#"{"mobile": ""}"#,
        r#"{"mobile": "   "}"#,
        r#"{"mobile": null}"#,
        "{}",
        r#"{"support_exclusive_account_search": true}"#,
    ] {
        let a = fx.send(json_req(&token, body)).await;
        assert_topapi(&a, want.clone());
    }
    // No body at all, and an empty form field.
    let a = fx.send(legacy_post(&with_token(&token), "application/json", "")).await;
    assert_topapi(&a, want.clone());
    let a = fx
        .send(legacy_post(PATH, FORM, &format!("access_token={token}&mobile=")))
        .await;
    assert_topapi(&a, want);
}

#[tokio::test]
async fn getbymobile_malformed_mobile_is_40104() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    for mobile in [
        "1500000",
        "abc",
        "150-0000-9144",
        "+852 91234567",
        "25000009144",
        " 15000009144 ",
        " 852-91234567",
    ] {
        let a = fx.send(json_req(&token, &format!(r#"{{"mobile": "{mobile}"}}"#))).await;
        assert_topapi(&a, error(40104, "企业中无效的手机号"));
    }
}

/// A query the percent-decoding cannot make sense of is not refused as a whole: the value fails
/// as the parameter it is, in the legacy gateway's own answer.
#[tokio::test]
async fn getbymobile_badly_encoded_query_values_fail_as_their_parameter() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    for mobile in ["%FF%FE", "1500000914%", "%zz15000009144"] {
        let a = fx
            .send(legacy_post(
                &format!("{}&mobile={mobile}", with_token(&token)),
                FORM,
                "",
            ))
            .await;
        assert_topapi(&a, error(40104, "企业中无效的手机号"));
    }
    let a = fx
        .send(legacy_post(
            "/topapi/v2/user/getbymobile?access_token=%zz",
            "application/json",
            r#"{"mobile": "15000009144"}"#,
        ))
        .await;
    assert_topapi(&a, wrapped("40014", "不合法的access_token"));
}

#[tokio::test]
async fn getbymobile_bad_json_body_is_400002() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    let a = fx.send(json_req(&token, r#"{"mobile": "150"#)).await;
    assert_topapi(
        &a,
        error(
            400002,
            "无效的参数：body is not a JSON object: EOF while parsing a string at line 1 column 15",
        ),
    );
}

#[tokio::test]
async fn getbymobile_third_party_tokens_are_88_60011() {
    let fx = fixture().await;
    let corp = fx.corp_token(DEMO_CORP).await;
    let personal = fx.app_token("dingdemopersonal", "demo-personal-secret").await;
    let suite_app = fx.app_token("dingdemosuite", "demo-suite-secret").await;
    for token in [&corp, &personal, &suite_app] {
        let a = fx.send(json_req(token, r#"{"mobile": "15000009144"}"#)).await;
        assert_topapi(&a, no_permission());
        // Checked before the parameters, as the gateway does.
        let a = fx.send(json_req(token, r#"{"mobile": "abc"}"#)).await;
        assert_topapi(&a, no_permission());
    }
}

#[tokio::test]
async fn getbymobile_internal_app_without_the_permission_is_88_60011() {
    let fx = fixture().await;
    let token = fx.app_token("dingdemoreadonly", "demo-readonly-secret").await;
    for body in [r#"{"mobile": "15000009144"}"#, "{}"] {
        let a = fx.send(json_req(&token, body)).await;
        assert_topapi(&a, no_permission());
    }
}

#[tokio::test]
async fn getbymobile_missing_token_is_88_40000() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    let want = wrapped("40000", "access_token is blank");
    let body = r#"{"mobile": "15000009144"}"#;
    let a = fx.send(legacy_post(PATH, "application/json", body)).await;
    assert_topapi(&a, want.clone());
    let a = fx
        .send(legacy_post(&format!("{PATH}?access_token="), "application/json", body))
        .await;
    assert_topapi(&a, want.clone());
    let a = fx.send(legacy_post(PATH, FORM, "mobile=15000009144")).await;
    assert_topapi(&a, want.clone());
    // The new gateway's header means nothing here. WIRE.md §B3.
    let mut req = legacy_post(PATH, "application/json", body);
    req.headers_mut()
        .insert("x-acs-dingtalk-access-token", token.parse().unwrap());
    let a = fx.send(req).await;
    assert_topapi(&a, want);
}

#[tokio::test]
async fn getbymobile_invalid_token_is_88_40014() {
    let fx = fixture().await;
    for token in ["garbage", "0123456789abcdef0123456789abcdef"] {
        let a = fx.send(json_req(token, r#"{"mobile": "15000009144"}"#)).await;
        assert_topapi(&a, wrapped("40014", "不合法的access_token"));
    }
}

#[tokio::test]
async fn getbymobile_expired_token_is_88_40014() {
    let fx = fixture().await;
    let token = internal_token(&fx).await;
    fx.clock.advance_ms(7200 * 1000).unwrap();
    let a = fx.send(json_req(&token, r#"{"mobile": "15000009144"}"#)).await;
    assert_topapi(&a, wrapped("40014", "不合法的access_token"));
}

#[tokio::test]
async fn getbymobile_user_token_is_88_40014() {
    let fx = fixture().await;
    let token = fx.user_token("dingdemointernal", "15000009144").await;
    let a = fx.send(json_req(&token, r#"{"mobile": "15000009144"}"#)).await;
    assert_topapi(&a, wrapped("40014", "不合法的access_token"));
}

#[tokio::test]
async fn getbymobile_looks_up_within_the_callers_corp() {
    let fx = fixture().await;
    let token = fx.app_token("dingothercoapp", "other-internal-secret").await;
    let a = fx.send(json_req(&token, r#"{"mobile": "15000009144"}"#)).await;
    assert_topapi(&a, found("zs001", &[]));
    let a = fx
        .send(json_req(
            &token,
            r#"{"mobile": "15000009144", "support_exclusive_account_search": true}"#,
        ))
        .await;
    assert_topapi(&a, found("zs001", &["qianjiu_ex"]));
    // lisi is only in Demo Co.
    let a = fx.send(json_req(&token, r#"{"mobile": "15532403240"}"#)).await;
    assert_topapi(&a, not_found());
    // A corp token of the suite is still a third-party app, whatever corp it is for.
    let corp = fx.corp_token(OTHER_CORP).await;
    let a = fx.send(json_req(&corp, r#"{"mobile": "15000009144"}"#)).await;
    assert_topapi(&a, no_permission());
}
