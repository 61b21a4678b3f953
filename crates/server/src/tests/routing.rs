//! Every `Endpoint` of every gateway is routed (STYLE.md §1), and the admin token guards every
//! admin endpoint that needs it.

use super::*;
use crate::gateway::{admin as admin_gw, api, oapi};

/// The path of an endpoint with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{unionId}", "me").replace("{appKey}", "dingdemosuite")
}

fn bare(method: Method, path: &str) -> Request<Body> {
    request(method, &concrete(path), Body::empty())
}

#[tokio::test]
async fn every_new_gateway_endpoint_is_routed() {
    let fx = fixture().await;
    assert!(!api::Endpoint::ALL.is_empty());
    for e in api::Endpoint::ALL {
        let a = fx.send(bare(e.method(), e.path())).await;
        assert_ne!(
            a.json["code"],
            json!("InvalidAction.NotFound"),
            "{} {} fell through to the fallback",
            e.method(),
            e.path()
        );
        // Routed, and refused in the new gateway's own form (no token, or no body).
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}: {}", e.name(), a.text());
        assert_eq!(a.header("content-type"), dingdir_proto::api::CONTENT_TYPE);
        assert!(a.json["requestid"].is_string(), "{}: {}", e.name(), a.text());
    }
}

#[tokio::test]
async fn every_legacy_endpoint_is_routed() {
    let fx = fixture().await;
    assert!(!oapi::Endpoint::ALL.is_empty());
    for e in oapi::Endpoint::ALL {
        let a = fx.send(bare(e.method(), e.path())).await;
        assert_eq!(a.status, StatusCode::OK, "{}: {}", e.name(), a.text());
        let errcode = a.json["errcode"]
            .as_i64()
            .unwrap_or_else(|| panic!("{}: {}", e.name(), a.text()));
        assert!(
            ![22, 404, 43001, 43002].contains(&errcode),
            "{} {} fell through to a fallback: {}",
            e.method(),
            e.path(),
            a.text()
        );
    }
}

#[tokio::test]
async fn every_admin_endpoint_is_routed() {
    let fx = fixture().await;
    assert!(!admin_gw::Endpoint::ALL.is_empty());
    for e in admin_gw::Endpoint::ALL {
        let a = fx.send(bare(e.method(), e.path())).await;
        assert!(
            !(a.json["code"] == json!("NotFound") && a.json["message"] == json!("no such admin route")),
            "{} {} fell through to the fallback",
            e.method(),
            e.path()
        );
        assert_ne!(a.json["code"], json!("MethodNotAllowed"), "{}", e.name());
        let want = match e.facts() {
            admin_gw::Access::AdminToken | admin_gw::Access::MetricsToken => StatusCode::UNAUTHORIZED,
            // The only open POST is the inspector's sign-in: an empty form is a wrong token.
            admin_gw::Access::Open if e.method() == Method::POST => StatusCode::UNAUTHORIZED,
            // An upload's bytes, by an id nobody uploaded: the admin API's 404.
            admin_gw::Access::Open if e.name() == "MediaFile" => StatusCode::NOT_FOUND,
            admin_gw::Access::Open => StatusCode::OK,
        };
        assert_eq!(a.status, want, "{}: {}", e.name(), a.text());
    }
}

#[tokio::test]
async fn admin_endpoints_that_need_the_token_answer_401_without_it() {
    let fx = fixture().await;
    let guarded: Vec<_> = admin_gw::Endpoint::ALL
        .iter()
        .filter(|e| e.facts() != admin_gw::Access::Open)
        .collect();
    assert!(!guarded.is_empty());
    let want = json!({
        "code": "Unauthorized",
        "message": "send `Authorization: Bearer <admin token>`; dingdir prints it at start",
        "requestid": RID,
    });
    for e in guarded {
        let path = concrete(e.path());
        let a = fx.send(request(e.method(), &path, Body::empty())).await;
        assert_api_error(&a, StatusCode::UNAUTHORIZED, want.clone());
        for wrong in ["Bearer wrong", "Bearer ", "adm", "Basic YWRtOmFkbQ==", "Bearer adm2"] {
            let req = Request::builder()
                .method(e.method())
                .uri(&path)
                .header(header::AUTHORIZATION, wrong)
                .body(Body::empty())
                .unwrap();
            let a = fx.send(req).await;
            assert_api_error(&a, StatusCode::UNAUTHORIZED, want.clone());
        }
    }
}

#[tokio::test]
async fn health_answers_without_the_admin_token() {
    let fx = fixture().await;
    let version = env!("CARGO_PKG_VERSION");
    for path in ["/_dingdir/health", "/_dingdir/health/ready"] {
        let a = fx.send(request(Method::GET, path, Body::empty())).await;
        assert_api(
            &a,
            StatusCode::OK,
            json!({"status": "ok", "store": "ok", "version": version}),
        );
    }
    let a = fx
        .send(request(Method::GET, "/_dingdir/health/live", Body::empty()))
        .await;
    assert_api(&a, StatusCode::OK, json!({"status": "ok", "version": version}));
}
