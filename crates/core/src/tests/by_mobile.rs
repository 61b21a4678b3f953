//! getbymobile (seed 003, WIRE.md §D3): who may ask, and which members a mobile finds.

use super::{DEMO_CORP, OTHER_CORP, caller, demo};
use crate::error::Error;
use crate::service::{Policy, Service};
use crate::token::TokenKind;
use dingdir_proto::ids::CorpId;
use dingdir_proto::scope::QYAPI_GET_MEMBER_BY_MOBILE;

#[tokio::test]
async fn only_an_internal_apps_token_with_the_scope_may_ask() {
    let service = demo(Policy::default()).await;
    let user = caller(
        &service,
        TokenKind::User,
        "dingdemointernal",
        Some("zhangsan"),
        Some(DEMO_CORP),
    )
    .await;
    assert!(matches!(Service::may_get_by_mobile(&user), Err(Error::TokenInvalid)));
    let suite = caller(&service, TokenKind::Corp, "dingdemosuite", None, Some(DEMO_CORP)).await;
    assert!(matches!(
        Service::may_get_by_mobile(&suite),
        Err(Error::WrongAppType {
            scope: QYAPI_GET_MEMBER_BY_MOBILE
        })
    ));
    let read_only = caller(&service, TokenKind::App, "dingdemoreadonly", None, None).await;
    assert!(matches!(
        Service::may_get_by_mobile(&read_only),
        Err(Error::ScopeMissing {
            scope: QYAPI_GET_MEMBER_BY_MOBILE
        })
    ));
    let internal = caller(&service, TokenKind::App, "dingdemointernal", None, None).await;
    assert_eq!(
        Service::may_get_by_mobile(&internal).unwrap(),
        &CorpId(DEMO_CORP.to_owned()),
        "an app token acts in its app's corp"
    );
}

#[tokio::test]
async fn a_mobile_finds_the_active_normal_account_and_the_corps_own_exclusive_ones_on_request() {
    let service = demo(Policy::default()).await;
    let demo_app = caller(&service, TokenKind::App, "dingdemointernal", None, None).await;
    let found = service
        .get_by_mobile(&demo_app, Some("15000009144"), false)
        .await
        .unwrap();
    assert_eq!(found.userid.as_deref(), Some("zhangsan"));
    assert!(found.exclusive_userids.is_empty());
    let found = service
        .get_by_mobile(&demo_app, Some("15000009144"), true)
        .await
        .unwrap();
    assert_eq!(
        found.exclusive_userids,
        ["zhaoliu_ex"],
        "not the other corp's exclusive account"
    );

    let other_app = caller(&service, TokenKind::App, "dingothercoapp", None, Some(OTHER_CORP)).await;
    let found = service
        .get_by_mobile(&other_app, Some("15000009144"), true)
        .await
        .unwrap();
    assert_eq!(
        found.userid.as_deref(),
        Some("zs001"),
        "the userid in the caller's corp"
    );
    assert_eq!(found.exclusive_userids, ["qianjiu_ex"]);

    let found = service
        .get_by_mobile(&demo_app, Some("+852-91234567"), false)
        .await
        .unwrap();
    assert_eq!(found.userid.as_deref(), Some("chanxm"));
}

#[tokio::test]
async fn departed_unknown_empty_and_malformed_mobiles_are_refused_apart() {
    let service = demo(Policy::default()).await;
    let app = caller(&service, TokenKind::App, "dingdemointernal", None, None).await;
    for (mobile, want) in [
        (Some("13800000001"), "UserNotFound"),
        (Some("13700000008"), "UserNotFound"),
        (Some(""), "MobileMissing"),
        (None, "MobileMissing"),
        (Some("not a mobile"), "MobileMalformed"),
    ] {
        let got = service.get_by_mobile(&app, mobile, true).await;
        let name = match got {
            Err(Error::UserNotFound) => "UserNotFound",
            Err(Error::MobileMissing) => "MobileMissing",
            Err(Error::MobileMalformed) => "MobileMalformed",
            other => panic!("{mobile:?}: {other:?}"),
        };
        assert_eq!(name, want, "{mobile:?}");
    }
}
