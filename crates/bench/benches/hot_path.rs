//! The pieces of a GetUser or getbymobile request, one at a time: identifier codec, mobile
//! parsing, token check, directory lookup and serialisation. `scripts/bench` measures whole
//! requests over HTTP; these say where the time inside one goes.
//!
//! The store is a real in-memory SQLite store seeded with `examples/demo.yaml`, built as
//! `dingdir serve` builds it, so a lookup costs what it costs in the server (including any cache
//! the service keeps). Run: `cargo bench -p dingdir-bench`.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark's fixture fails loudly: it is test code, not a request path"
)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dingdir_core::ident::{IdSecret, person_number};
use dingdir_core::mobile::Mobile;
use dingdir_core::model::{App, Developer, PersonId};
use dingdir_core::{Caller, MovableClock, Policy, Service, Store, seed};
use dingdir_proto::ids::{AppKey, CorpId};
use dingdir_proto::oapi::{GetByMobileResponse, GetByMobileResult};
use dingdir_store::{SqliteStore, SqliteTarget};
use std::hint::black_box;
use std::sync::Arc;
use tokio::runtime::Runtime;

const DEMO_SEED: &str = include_str!("../../../examples/demo.yaml");
const DEMO_CORP: &str = "ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4";
const APP_KEY: &str = "dingdemointernal";
const APP_SECRET: &str = "demo-internal-secret";
/// zhangsan, an active member of Demo Co (an exclusive account of Demo Co shares the mobile).
const ZHANGSAN_MOBILE: &str = "15000009144";
/// People in examples/demo.yaml.
const DEMO_PEOPLE: usize = 8;

/// A seeded service, a user token and an app token for `dingdemointernal`, and their callers.
struct Fixture {
    service: Service,
    /// The store under the service, for the benchmarks of the store itself.
    store: Arc<dyn Store>,
    user_token: String,
    app_token: String,
    user: Caller,
    app: Caller,
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// `extra_people` more members of Demo Co, with mobiles `139xxxxxxxx`, so a lookup can be timed
/// against a larger table.
fn seed_with(extra_people: usize) -> String {
    let mut text = DEMO_SEED.to_owned();
    if extra_people > 0 {
        text.push_str("\n# bench: more members of Demo Co\n");
        // The demo's `people:` list is the last top-level key, so these lines extend it.
        for i in 0..extra_people {
            text.push_str(&format!(
                "  - id: bench{i}\n    nick: bench{i}\n    mobile: \"{}\"\n    memberships:\n      - {{ corp: {DEMO_CORP}, userid: bench{i} }}\n",
                bench_mobile(i)
            ));
        }
    }
    text
}

fn bench_mobile(i: usize) -> String {
    format!("139{:08}", 10_000_000 + i)
}

async fn fixture(extra_people: usize) -> Fixture {
    let store = SqliteStore::open(&SqliteTarget::Memory)
        .await
        .expect("open the in-memory store");
    let store: Arc<dyn Store> = Arc::new(store);
    seed::apply_text(store.as_ref(), "demo.yaml", &seed_with(extra_people))
        .await
        .expect("apply the demo seed");
    let clock = Arc::new(MovableClock::new());
    let service = Service::new(
        Arc::clone(&store),
        clock,
        IdSecret::from_passphrase("bench"),
        Policy::default(),
    );
    let app = app(&service).await;
    let zhangsan = service
        .person_by_mobile(&Mobile::parse(ZHANGSAN_MOBILE).expect("a mobile"))
        .await
        .expect("a store read")
        .expect("zhangsan");
    let user_token = service
        .mint_user_token(&app, &zhangsan.id, Some(CorpId(DEMO_CORP.to_owned())), "openid corpid")
        .await
        .expect("a user token")
        .access_token;
    let app_token = service
        .app_token(Some(APP_KEY), Some(APP_SECRET))
        .await
        .expect("an app token")
        .token;
    let user = service
        .authenticate(Some(&user_token))
        .await
        .expect("the user token is valid");
    let app = service
        .authenticate(Some(&app_token))
        .await
        .expect("the app token is valid");
    Fixture {
        service,
        store,
        user_token,
        app_token,
        user,
        app,
    }
}

async fn app(service: &Service) -> App {
    let app = service
        .app(&AppKey(APP_KEY.to_owned()))
        .await
        .expect("a store read")
        .expect("the demo app");
    (*app).clone()
}

fn ident(c: &mut Criterion) {
    let ids = IdSecret::from_passphrase("bench");
    let developer = Developer::Corp(CorpId(DEMO_CORP.to_owned()));
    let app = AppKey(APP_KEY.to_owned());
    let number = person_number(&PersonId("zhangsan".to_owned()));
    let union_id = ids.union_id(&developer, number).0;
    let mut g = c.benchmark_group("ident");
    g.bench_function("union_id encode", |b| {
        b.iter(|| ids.union_id(black_box(&developer), black_box(number)));
    });
    g.bench_function("union_id decode", |b| {
        b.iter(|| ids.person_of_union_id(black_box(&developer), black_box(&union_id)));
    });
    g.bench_function("open_id encode", |b| {
        b.iter(|| ids.open_id(black_box(&app), black_box(number)));
    });
    g.finish();
}

fn mobile(c: &mut Criterion) {
    let mut g = c.benchmark_group("mobile");
    g.bench_function("parse national", |b| b.iter(|| Mobile::parse(black_box("15000009144"))));
    g.bench_function("parse +CC-", |b| b.iter(|| Mobile::parse(black_box("+852-91234567"))));
    g.finish();
}

fn token_and_lookup(c: &mut Criterion) {
    let rt = runtime();
    let fx = rt.block_on(fixture(0));
    let mut g = c.benchmark_group("service");
    g.bench_function("authenticate user token", |b| {
        b.to_async(&rt)
            .iter(|| async { fx.service.authenticate(Some(black_box(&fx.user_token))).await.unwrap() });
    });
    g.bench_function("authenticate app token", |b| {
        b.to_async(&rt)
            .iter(|| async { fx.service.authenticate(Some(black_box(&fx.app_token))).await.unwrap() });
    });
    g.bench_function("get_user me", |b| {
        b.to_async(&rt)
            .iter(|| async { fx.service.get_user(&fx.user, black_box("me")).await.unwrap() });
    });
    g.bench_function("get_by_mobile", |b| {
        b.to_async(&rt).iter(|| async {
            fx.service
                .get_by_mobile(&fx.app, Some(black_box(ZHANGSAN_MOBILE)), false)
                .await
                .unwrap()
        });
    });
    // What the GetUser handler does, minus HTTP: token check, lookup, the cached answer's bytes.
    g.bench_function("GetUser without HTTP", |b| {
        b.to_async(&rt).iter(|| async {
            let caller = fx.service.authenticate(Some(black_box(&fx.user_token))).await.unwrap();
            let p = fx.service.get_user(&caller, "me").await.unwrap();
            p.json().to_vec()
        });
    });
    g.bench_function("getbymobile without HTTP", |b| {
        b.to_async(&rt).iter(|| async {
            let caller = fx.service.authenticate(Some(black_box(&fx.app_token))).await.unwrap();
            let found = fx
                .service
                .get_by_mobile(&caller, Some(ZHANGSAN_MOBILE), false)
                .await
                .unwrap();
            serde_json::to_vec(&get_by_mobile_response(found.userid, found.exclusive_userids)).unwrap()
        });
    });
    g.finish();
}

/// The store reads behind GetUser (a person by id) and getbymobile (a corp's members by mobile),
/// straight to the store, past the service's caches, against directories of growing size: a
/// lookup should not grow with the table. The extra people are all members of Demo Co, so the
/// corp is large, as the largest corps of a generated directory are.
fn store_lookup_by_size(c: &mut Criterion) {
    let rt = runtime();
    let corp = CorpId(DEMO_CORP.to_owned());
    let mut g = c.benchmark_group("store lookup by directory size");
    for extra in [0, 10_000] {
        let fx = rt.block_on(fixture(extra));
        let store = Arc::clone(&fx.store);
        let (mobiles, people): (Vec<Mobile>, Vec<PersonId>) = if extra == 0 {
            (
                vec![Mobile::parse(ZHANGSAN_MOBILE).expect("a mobile")],
                vec![PersonId("zhangsan".to_owned())],
            )
        } else {
            (0..extra)
                .step_by(97)
                .map(|i| {
                    let mobile = Mobile::parse(&bench_mobile(i)).expect("a mobile");
                    (mobile, PersonId(format!("bench{i}")))
                })
                .unzip()
        };
        let size = extra + DEMO_PEOPLE;
        let mut next = 0usize;
        g.bench_function(BenchmarkId::new("members_by_mobile", size), |b| {
            b.to_async(&rt).iter(|| {
                next = (next + 1) % mobiles.len();
                let (store, corp, mobile) = (&store, &corp, &mobiles[next]);
                async move { assert!(!store.members_by_mobile(corp, mobile).await.unwrap().is_empty()) }
            });
        });
        g.bench_function(BenchmarkId::new("person", size), |b| {
            b.to_async(&rt).iter(|| {
                next = (next + 1) % people.len();
                let (store, person) = (&store, &people[next]);
                async move { store.person(person).await.unwrap().expect("a person") }
            });
        });
    }
    g.finish();
}

fn get_by_mobile_response(userid: Option<String>, exclusive: Vec<String>) -> GetByMobileResponse {
    GetByMobileResponse {
        errcode: 0,
        errmsg: "ok".to_owned(),
        result: GetByMobileResult {
            exclusive_account_userid_list: exclusive,
            userid,
        },
        request_id: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d".to_owned(),
    }
}

/// Whole requests through the router and every layer, in-process (no socket, no hyper): what the
/// HTTP layer adds to the domain work above, next to the static baseline's router doing the same.
fn router(c: &mut Criterion) {
    // Logging as `dingdir serve` sets it up; BENCH_LOG picks the filter (scripts/bench serves with
    // `--log warn`, the default is `info`).
    let filter = std::env::var("BENCH_LOG").unwrap_or_else(|_| "warn".to_owned());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
    let rt = runtime();
    // Requests on two workers at once, as `serve` runs them: what sharing costs.
    let rt2 = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let fx = rt.block_on(fixture(0));
    let (user_token, app_token) = (fx.user_token.clone(), fx.app_token.clone());
    let state = dingdir_server::AppState::new(fx.service, dingdir_server::Settings::default(), None);
    let mut g = c.benchmark_group("router");
    drive_router(
        &mut g,
        [&rt, &rt2],
        "static-json",
        &dingdir_bench::static_app(),
        &user_token,
        &app_token,
    );
    drive_router(
        &mut g,
        [&rt, &rt2],
        "dingdir",
        &dingdir_server::app(state),
        &user_token,
        &app_token,
    );
    g.finish();
}

fn drive_router<S>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    [rt, rt2]: [&Runtime; 2],
    name: &str,
    app: &S,
    user_token: &str,
    app_token: &str,
) where
    S: tower::Service<
            axum::http::Request<axum::body::Body>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    async fn answer<S>(app: &S, request: Request<Body>) -> axum::body::Bytes
    where
        S: tower::Service<Request<Body>, Response = axum::response::Response, Error = std::convert::Infallible> + Clone,
    {
        let response = app.clone().oneshot(request).await.unwrap();
        assert!(response.status().is_success());
        axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap()
    }
    g.bench_function(BenchmarkId::new("GetUser me", name), |b| {
        b.to_async(rt).iter(|| {
            let request = Request::get("/v1.0/contact/users/me")
                .header("x-acs-dingtalk-access-token", user_token)
                .body(Body::empty())
                .unwrap();
            answer(app, request)
        });
    });
    g.bench_function(BenchmarkId::new("GetUser me, 2 threads", name), |b| {
        b.iter_custom(|iters| {
            rt2.block_on(async {
                let start = std::time::Instant::now();
                // Both workers' shares add up to `iters`, odd or even.
                let tasks: Vec<_> = [iters / 2, iters - iters / 2]
                    .into_iter()
                    .map(|share| {
                        let app = app.clone();
                        let token = user_token.to_owned();
                        tokio::spawn(async move {
                            for _ in 0..share {
                                let request = Request::get("/v1.0/contact/users/me")
                                    .header("x-acs-dingtalk-access-token", &token)
                                    .body(Body::empty())
                                    .unwrap();
                                black_box(answer(&app, request).await);
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        });
    });
    g.bench_function(BenchmarkId::new("getbymobile", name), |b| {
        b.to_async(rt).iter(|| {
            let request = Request::post(format!("/topapi/v2/user/getbymobile?access_token={app_token}"))
                .header("content-type", "application/json")
                .body(Body::from(format!(r#"{{"mobile":"{ZHANGSAN_MOBILE}"}}"#)))
                .unwrap();
            answer(app, request)
        });
    });
}

fn serialise(c: &mut Criterion) {
    let rt = runtime();
    let fx = rt.block_on(fixture(0));
    let profile = rt
        .block_on(fx.service.get_user(&fx.user, "me"))
        .expect("zhangsan's profile");
    let get_user = profile.answer().clone();
    let by_mobile = get_by_mobile_response(Some("zhangsan".to_owned()), Vec::new());
    let mut g = c.benchmark_group("serialise");
    g.bench_function("GetUserResponse", |b| {
        b.iter(|| serde_json::to_vec(black_box(&get_user)).unwrap());
    });
    g.bench_function("GetByMobileResponse", |b| {
        b.iter(|| serde_json::to_vec(black_box(&by_mobile)).unwrap());
    });
    g.finish();
}

criterion_group!(
    benches,
    ident,
    mobile,
    token_and_lookup,
    store_lookup_by_size,
    router,
    serialise
);
criterion_main!(benches);
