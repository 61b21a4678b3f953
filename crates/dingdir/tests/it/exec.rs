//! `dingdir exec -- COMMAND`: a dev server for the command's lifetime, its address and
//! credentials in the command's environment, and the command's exit status as dingdir's.

use crate::harness::{bin, run, run_command};

#[test]
fn the_command_reaches_the_server_through_its_environment_and_its_status_is_dingdirs() {
    let script = r#"
set -e
case "$DINGDIR_URL" in http://127.0.0.1:*) ;; *) echo "bad url $DINGDIR_URL" >&2; exit 90 ;; esac
test -n "$DINGDIR_ADMIN_TOKEN"
test "$DINGDIR_APP_KEY" = dingdemointernal
test "$DINGDIR_APP_SECRET" = demo-internal-secret
test "$DINGDIR_APP_SECRET_DINGOTHERCOAPP" = other-internal-secret
test "$DINGDIR_SUITE_TICKET_DINGDEMOSUITE" = demo-suite-ticket
test "$DINGDIR_CORP_ID" = ding8f3a2c5e9b1d4f60a7c2e8b3d5f1a9c4
"$DINGDIR_TEST_BIN" call --base-url "$DINGDIR_URL" token --app-key "$DINGDIR_APP_KEY" --app-secret "$DINGDIR_APP_SECRET" > token.json
"$DINGDIR_TEST_BIN" journal --count --endpoint GetAccessToken > count.json
echo "$DINGDIR_URL" > url.txt
exit 7
"#;
    let dir = tempfile::tempdir().unwrap();
    let script_path = dir.path().join("t.sh");
    std::fs::write(&script_path, script).unwrap();
    let out = run_in(dir.path(), &["exec", "--", "sh", script_path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    let token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("token.json")).unwrap()).unwrap();
    assert_eq!(token["expireIn"], 7200, "{token}");
    let count = std::fs::read_to_string(dir.path().join("count.json")).unwrap();
    assert_eq!(
        count.trim(),
        r#"{"count":1}"#,
        "the journal of the exec's server counted the call"
    );
    // dingdir is gone once the command is.
    let url = std::fs::read_to_string(dir.path().join("url.txt")).unwrap();
    let addr = url.trim().trim_start_matches("http://");
    assert!(std::net::TcpStream::connect(addr).is_err(), "{addr} still accepts");
}

#[test]
fn a_command_that_cannot_start_or_is_missing_is_a_plain_error() {
    let out = run(&["exec", "--", "/no/such/command"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("starting /no/such/command"), "{stderr}");
    let out = run(&["exec"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let out = run(&["exec", "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(
        out.status.code(),
        Some(128 + 15),
        "a signal's status, as a shell gives it"
    );
}

/// `run`, in `dir`, with the binary's path in `DINGDIR_TEST_BIN`.
fn run_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut cmd = crate::harness::command();
    cmd.current_dir(dir).env("DINGDIR_TEST_BIN", bin()).args(args);
    run_command(cmd)
}
