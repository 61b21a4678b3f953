//! GetUser (seed 000, PRODUCT.md "Decisions"): who sees whom, and which fields they get.

use super::{DEMO_CORP, caller, demo};
use crate::error::Error;
use crate::model::PersonId;
use crate::service::{Caller, Policy, Service, Visibility};
use crate::token::TokenKind;
use dingdir_proto::scope::CONTACT_USER_READ;
use std::sync::Arc;

/// zhangsan's user token for `app`.
async fn zhangsan(service: &Service, app: &str) -> Caller {
    caller(service, TokenKind::User, app, Some("zhangsan"), Some(DEMO_CORP)).await
}

/// The unionId the caller's app gives `person`.
async fn union_id_of(service: &Service, caller: &Caller, person: &str) -> String {
    let p = service.person(&PersonId(person.to_owned())).await.unwrap().unwrap();
    service.union_id(&caller.app.developer(), p.number).to_string()
}

async fn nick_seen(service: &Service, caller: &Caller, person: &str) -> Result<Option<String>, Error> {
    let id = union_id_of(service, caller, person).await;
    Ok(service.get_user(caller, &id).await?.answer().nick.clone())
}

#[tokio::test]
async fn only_a_user_token_of_an_app_with_contact_user_read_may_ask() {
    let service = demo(Policy::default()).await;
    let app_token = caller(&service, TokenKind::App, "dingdemointernal", None, Some(DEMO_CORP)).await;
    assert!(matches!(
        service.get_user(&app_token, "me").await,
        Err(Error::WrongTokenKind {
            scope: CONTACT_USER_READ
        })
    ));
    let mut no_read = zhangsan(&service, "dingdemointernal").await;
    let mut app = (*no_read.app).clone();
    app.scopes.retain(|s| s != CONTACT_USER_READ);
    no_read.app = Arc::new(app);
    assert!(matches!(
        service.get_user(&no_read, "me").await,
        Err(Error::ScopeMissing {
            scope: CONTACT_USER_READ
        })
    ));
}

#[tokio::test]
async fn me_is_the_caller_and_the_mobile_needs_contact_user_mobile() {
    let service = demo(Policy::default()).await;
    let me = zhangsan(&service, "dingdemointernal").await;
    let answer = service.get_user(&me, "me").await.unwrap().answer().clone();
    assert_eq!(answer.nick.as_deref(), Some("zhangsan"));
    assert_eq!(answer.mobile.as_deref(), Some("15000009144"));
    assert_eq!(answer.state_code.as_deref(), Some("86"));
    assert_eq!(answer.email.as_deref(), Some("zhangsan@example.com"));
    assert_eq!(answer.union_id, Some(union_id_of(&service, &me, "zhangsan").await));
    assert!(!answer.visitor);

    let read_only = zhangsan(&service, "dingdemoreadonly").await;
    let answer = service.get_user(&read_only, "me").await.unwrap().answer().clone();
    assert_eq!(answer.nick.as_deref(), Some("zhangsan"));
    assert_eq!((answer.mobile, answer.state_code), (None, None));
}

#[tokio::test]
async fn a_third_party_enterprise_app_sees_masked_mobiles() {
    let service = demo(Policy::default()).await;
    let suite = zhangsan(&service, "dingdemosuite").await;
    let answer = service.get_user(&suite, "me").await.unwrap().answer().clone();
    assert_eq!(answer.mobile.as_deref(), Some("150****9144"));
    assert_eq!(answer.state_code.as_deref(), Some("86"));
}

#[tokio::test]
async fn active_colleagues_are_seen_and_everyone_else_is_not_found_alike() {
    let service = demo(Policy::default()).await;
    let me = zhangsan(&service, "dingdemointernal").await;
    assert_eq!(nick_seen(&service, &me, "lisi").await.unwrap().as_deref(), Some("lisi"));
    // Departed from the shared corp; only in a corp the app is not installed in; no such id.
    for hidden in ["wangwu", "zhouba"] {
        assert!(
            matches!(nick_seen(&service, &me, hidden).await, Err(Error::UserNotFound)),
            "{hidden}"
        );
    }
    assert!(matches!(
        service.get_user(&me, "not-a-union-id").await,
        Err(Error::UserNotFound)
    ));
}

#[tokio::test]
async fn an_app_installed_in_two_corps_sees_colleagues_in_both() {
    let service = demo(Policy::default()).await;
    let suite = zhangsan(&service, "dingdemosuite").await;
    assert_eq!(
        nick_seen(&service, &suite, "zhouba").await.unwrap().as_deref(),
        Some("zhouba")
    );
}

#[tokio::test]
async fn self_only_visibility_and_personal_apps_see_the_caller_alone() {
    let service = demo(Policy {
        visibility: Visibility::SelfOnly,
        ..Policy::default()
    })
    .await;
    let me = zhangsan(&service, "dingdemointernal").await;
    assert!(matches!(
        nick_seen(&service, &me, "lisi").await,
        Err(Error::UserNotFound)
    ));
    assert_eq!(
        nick_seen(&service, &me, "zhangsan").await.unwrap().as_deref(),
        Some("zhangsan")
    );

    let service = demo(Policy::default()).await;
    let personal = caller(&service, TokenKind::User, "dingdemopersonal", Some("zhangsan"), None).await;
    assert!(matches!(
        nick_seen(&service, &personal, "lisi").await,
        Err(Error::UserNotFound)
    ));
    assert!(service.get_user(&personal, "me").await.is_ok());
}
