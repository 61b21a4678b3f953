//! Load shedding: "When the number of requests in flight passes a configured limit, or the store
//! does not answer within a configured time, legacy routes answer -1 and new-gateway routes 503
//! system.busy at once." The admin API is never shed, so health checks answer under load.

use super::*;
use crate::state::Settings;
use dingdir_core::StoreError;
use dingdir_core::intercept::{Call, Hook, Intercepted};
use futures_util::stream;
use std::convert::Infallible;

/// A well-formed token the store is asked about (and never answers for).
const SOME_TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn busy_api() -> Value {
    json!({"code": "system.busy", "message": "系统繁忙", "requestid": RID})
}

fn busy_topapi() -> Value {
    json!({"errcode": -1, "errmsg": "系统繁忙", "request_id": RID})
}

/// How a [`Faulty`] store misbehaves.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Never answers.
    Hang,
    /// Answers "unavailable" at once (a pool timeout).
    Unavailable,
    /// Answers with an unexpected failure.
    Broken,
}

/// A hook that fails every store call the same way, never reaching the store.
struct Faulty(Fault);

impl Hook for Faulty {
    async fn around<T: Send>(
        &self,
        _: Call,
        _: impl Future<Output = Result<T, StoreError>> + Send,
    ) -> Result<T, StoreError> {
        match self.0 {
            Fault::Hang => std::future::pending().await,
            Fault::Unavailable => Err(StoreError::Unavailable("pool timed out".to_owned())),
            Fault::Broken => Err(StoreError::Other("disk on fire".into())),
        }
    }
}

async fn faulty_fixture(fault: Fault) -> Fixture {
    fixture_with(Setup {
        settings: Settings {
            store_timeout: Duration::from_millis(200),
            ..test_settings()
        },
        store: Some(Arc::new(Intercepted::new(seeded_store().await, Faulty(fault)))),
        ..Setup::default()
    })
    .await
}

/// Every API gateway answers "system busy" in its own wire form: legacy (topapi and not) and new.
async fn assert_every_gateway_busy(fx: &Fixture) {
    let a = fx
        .send(legacy_post(
            &format!("/topapi/v2/user/getbymobile?access_token={SOME_TOKEN}"),
            "application/json",
            r#"{"mobile": "15000009144"}"#,
        ))
        .await;
    assert_topapi(&a, busy_topapi());
    let a = fx
        .send(community_get(
            "/gettoken?appkey=dingdemointernal&appsecret=demo-internal-secret",
        ))
        .await;
    assert_legacy(&a, json!({"errcode": -1, "errmsg": "系统繁忙"}));
    let a = fx.send(sdk_get("/v1.0/contact/users/me", Some(SOME_TOKEN))).await;
    assert_api_error(&a, StatusCode::SERVICE_UNAVAILABLE, busy_api());
    let a = fx
        .send(sdk_post(
            "/v1.0/oauth2/accessToken",
            r#"{"appKey":"dingdemointernal","appSecret":"demo-internal-secret"}"#,
        ))
        .await;
    assert_api_error(&a, StatusCode::SERVICE_UNAVAILABLE, busy_api());
}

/// Waits, bounded, until the in-flight limit has `n` slots free.
async fn until_permits(fx: &Fixture, n: usize) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while fx.state.in_flight.available() != n {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the in-flight count never reached {n} free permits"));
}

/// A request to the new gateway whose body never finishes.
fn stuck_request() -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/v1.0/oauth2/accessToken")
        .header("content-type", "application/json; charset=utf-8")
        .header("Transfer-Encoding", "chunked")
        .body(Body::from_stream(stream::pending::<Result<Bytes, Infallible>>()))
        .unwrap()
}

#[tokio::test]
async fn over_the_in_flight_limit_answers_system_busy_at_once() {
    let fx = fixture_with(Setup {
        settings: Settings {
            max_in_flight: 1,
            // Long enough that the stuck request holds its slot for the whole test.
            store_timeout: Duration::from_secs(60),
            ..test_settings()
        },
        ..Setup::default()
    })
    .await;
    let stuck = tokio::spawn(fx.app.clone().oneshot(stuck_request()));
    until_permits(&fx, 0).await;

    assert_every_gateway_busy(&fx).await;

    // The admin API is never shed.
    let a = fx.send(request(Method::GET, "/_dingdir/health", Body::empty())).await;
    assert_api(
        &a,
        StatusCode::OK,
        json!({"status": "ok", "store": "ok", "version": env!("CARGO_PKG_VERSION")}),
    );

    // Once the stuck request goes away, requests are served again.
    stuck.abort();
    assert!(stuck.await.unwrap_err().is_cancelled());
    until_permits(&fx, 1).await;
    fx.app_token("dingdemointernal", "demo-internal-secret").await;
}

#[tokio::test]
async fn a_request_stuck_past_the_store_timeout_answers_system_busy() {
    let fx = fixture_with(Setup {
        settings: Settings {
            store_timeout: Duration::from_millis(200),
            ..test_settings()
        },
        ..Setup::default()
    })
    .await;
    let a = fx.send(stuck_request()).await;
    assert_api_error(&a, StatusCode::SERVICE_UNAVAILABLE, busy_api());
    until_permits(&fx, fx.state.settings.max_in_flight).await;
}

#[tokio::test]
async fn a_store_that_does_not_answer_gives_system_busy() {
    let fx = faulty_fixture(Fault::Hang).await;
    assert_every_gateway_busy(&fx).await;

    // Readiness says why; liveness still answers.
    let version = env!("CARGO_PKG_VERSION");
    let a = fx.send(request(Method::GET, "/_dingdir/health", Body::empty())).await;
    assert_api(
        &a,
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"status": "unavailable", "store": "timeout", "version": version}),
    );
    let a = fx
        .send(request(Method::GET, "/_dingdir/health/live", Body::empty()))
        .await;
    assert_api(&a, StatusCode::OK, json!({"status": "ok", "version": version}));
    // Nothing stays in flight.
    until_permits(&fx, fx.state.settings.max_in_flight).await;
}

#[tokio::test]
async fn an_unavailable_store_gives_system_busy() {
    let fx = faulty_fixture(Fault::Unavailable).await;
    assert_every_gateway_busy(&fx).await;
    let a = fx.send(request(Method::GET, "/_dingdir/health", Body::empty())).await;
    assert_api(
        &a,
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"status": "unavailable", "store": "unavailable", "version": env!("CARGO_PKG_VERSION")}),
    );
}

#[tokio::test]
async fn a_broken_store_is_unknown_error_or_system_busy_without_details() {
    let fx = faulty_fixture(Fault::Broken).await;
    let a = fx
        .send(legacy_post(
            &format!("/topapi/v2/user/getbymobile?access_token={SOME_TOKEN}"),
            "application/json",
            r#"{"mobile": "15000009144"}"#,
        ))
        .await;
    assert_topapi(&a, busy_topapi());
    let a = fx.send(sdk_get("/v1.0/contact/users/me", Some(SOME_TOKEN))).await;
    assert_api_error(
        &a,
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"code": "unknownError", "message": "未知错误", "requestid": RID}),
    );
    assert!(!a.text().contains("disk on fire"), "{}", a.text());
    let a = fx
        .send(admin(
            Method::PUT,
            "/_dingdir/apps/dingdemosuite/suite-ticket",
            Some(&json!({"suite_ticket": "t"})),
        ))
        .await;
    assert_api_error(
        &a,
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"code": "Internal", "message": "the store failed; see the server log", "requestid": RID}),
    );
}
