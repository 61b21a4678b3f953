//! The hot paths read the store at most once per request once the token is warm (none at all
//! while the answer is cached), shown with the server's own counter (`GET /_dingdir/metrics`).

use crate::harness::Server;

async fn store_reads(server: &Server) -> u64 {
    server.admin_get("/_dingdir/metrics").await["store_reads"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn warm_requests_read_the_store_at_most_once() {
    // A long cache TTL, so a slow machine cannot expire entries mid-test.
    let server = Server::dev(&["--cache-ttl-ms", "600000"]);
    let minted = server.mint_user_token("dingdemointernal", "15000009144").await;
    let user_token = minted["accessToken"].as_str().unwrap().to_owned();
    let get_user = || async {
        assert_eq!(server.get_me(&user_token).await.status(), 200);
    };
    get_user().await; // warm
    let before = store_reads(&server).await;
    for _ in 0..50 {
        get_user().await;
    }
    assert_eq!(
        store_reads(&server).await - before,
        0,
        "GetUser me with a warm token reads nothing"
    );

    let app_token = server.app_token("dingdemointernal", "demo-internal-secret").await;
    assert_eq!(server.by_mobile(&app_token, "15000009144").await["errcode"], 0); // warm
    let before = store_reads(&server).await;
    for _ in 0..50 {
        assert_eq!(server.by_mobile(&app_token, "15000009144").await["errcode"], 0);
    }
    assert_eq!(
        store_reads(&server).await - before,
        0,
        "a repeated lookup is answered from the cache"
    );
    let before = store_reads(&server).await;
    assert_eq!(server.by_mobile(&app_token, "15532403240").await["errcode"], 0);
    assert_eq!(
        store_reads(&server).await - before,
        1,
        "a new lookup reads the store once: the lookup itself"
    );
}
