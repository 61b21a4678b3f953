//! `dingdir call`: DingTalk's calls through `dingdir-client`. The answer goes to stdout as JSON;
//! an API error goes to stderr as `dingdir: <status> <code>: <message> (request id …)` through
//! `main`, with a non-zero exit.
#![expect(clippy::print_stdout, reason = "the answer on stdout is the command's interface")]

use crate::cli::{AppArgs, AppTokenArgs, Call, CallArgs, DeptCall, GatewayArg, PageArgs, SigninCall, UserCall};
use anyhow::Context;
use dingdir_client::proto::api::ListEmpLeaveRecordsRequest;
use dingdir_client::proto::ids::{CorpId, UnionId, UserId};
use dingdir_client::proto::oapi::UserListRequest;
use dingdir_client::{AppCredentials, AppTokenManager, AuthorizeParams, Client, Error, Gateway};
use serde::Serialize;
use std::time::Duration;

/// Runs one call and prints its answer.
pub(crate) async fn run(args: CallArgs) -> anyhow::Result<()> {
    let client = client(&args)?;
    let answer = match args.call {
        Call::Token { app, gateway } => {
            let app = credentials(app);
            match gateway {
                GatewayArg::Api => json(&client.get_access_token(&app).await?)?,
                GatewayArg::Oapi => json(&client.get_token(&app).await?)?,
            }
        }
        Call::CorpToken {
            suite_key,
            suite_secret,
            corp_id,
            suite_ticket,
        } => {
            let suite = AppCredentials::new(suite_key, suite_secret);
            json(
                &client
                    .get_corp_access_token(&suite, &CorpId(corp_id), &suite_ticket)
                    .await?,
            )?
        }
        Call::Signin(SigninCall::Url {
            client_id,
            redirect_uri,
            state,
            scope,
        }) => {
            let params = AuthorizeParams {
                scope,
                ..AuthorizeParams::new(client_id, redirect_uri, state)
            };
            json(&serde_json::json!({ "url": client.authorize_url(&params).as_str() }))?
        }
        Call::Signin(SigninCall::Code { code, app }) => {
            json(&client.user_token_from_code(&credentials(app), &code).await?)?
        }
        Call::Signin(SigninCall::Refresh { refresh_token, app }) => {
            json(&client.refresh_user_token(&credentials(app), &refresh_token).await?)?
        }
        Call::User(UserCall::Get { union_id, user_token }) => {
            json(&client.get_user(&user_token, &UnionId(union_id)).await?)?
        }
        Call::User(UserCall::ByMobile { mobile, app, exclusive }) => {
            json(&manager(client, app).get_by_mobile(&mobile, exclusive).await?)?
        }
        Call::User(UserCall::Detail {
            login_id: Some(login_id),
            app,
            ..
        }) => {
            with_app_token(client, app, async |c, token| {
                c.get_user_detail_by_login_id(token, &login_id).await
            })
            .await?
        }
        Call::User(UserCall::Detail { userid, app, .. }) => {
            let userid = UserId(userid.unwrap_or_default());
            with_app_token(client, app, async |c, token| c.get_user_detail(token, &userid).await).await?
        }
        Call::User(UserCall::ByUnionid { unionid, app }) => {
            let unionid = UnionId(unionid);
            with_app_token(client, app, async |c, token| c.get_by_union_id(token, &unionid).await).await?
        }
        Call::User(UserCall::List { page, all: true, app }) => {
            let dept_id = page.dept_id;
            with_app_token(client, app, async |c, token| c.list_all_users(token, dept_id).await).await?
        }
        Call::User(UserCall::List { page, all: false, app }) => {
            let page = page_request(&page);
            with_app_token(client, app, async |c, token| c.list_users(token, &page).await).await?
        }
        Call::User(UserCall::SimpleList { page, app }) => {
            let page = page_request(&page);
            with_app_token(client, app, async |c, token| c.list_users_simple(token, &page).await).await?
        }
        Call::User(UserCall::Ids { dept_id, app }) => {
            with_app_token(client, app, async |c, token| c.list_user_ids(token, dept_id).await).await?
        }
        Call::User(UserCall::Count { only_active, app }) => {
            with_app_token(client, app, async |c, token| c.count_users(token, only_active).await).await?
        }
        Call::User(UserCall::Admins { app }) => {
            with_app_token(client, app, async |c, token| c.list_admins(token).await).await?
        }
        Call::User(UserCall::ByCode {
            code,
            legacy: false,
            app,
        }) => with_app_token(client, app, async |c, token| c.get_user_info(token, &code).await).await?,
        Call::User(UserCall::ByCode {
            code,
            legacy: true,
            app,
        }) => with_app_token(client, app, async |c, token| c.get_user_info_legacy(token, &code).await).await?,
        Call::User(UserCall::LegacyGet { userid, app }) => {
            let userid = UserId(userid);
            with_app_token(client, app, async |c, token| c.get_user_legacy(token, &userid).await).await?
        }
        Call::User(UserCall::Departed {
            start,
            end,
            next_token,
            max_results,
            app,
        }) => {
            let token = client.get_access_token(&credentials(app)).await?.access_token;
            let req = ListEmpLeaveRecordsRequest {
                start_time: Some(start),
                end_time: end,
                next_token,
                max_results: Some(max_results),
            };
            json(&client.list_emp_leave_records(&token, &req).await?)?
        }
        Call::User(UserCall::Scopes { app }) => {
            with_app_token(client, app, async |c, token| c.get_auth_scopes(token).await).await?
        }
        Call::Dept(DeptCall::List {
            dept_id,
            no_fetch_child,
            app,
        }) => {
            with_app_token(client, app, async |c, token| {
                c.list_departments(token, dept_id, !no_fetch_child).await
            })
            .await?
        }
        Call::Dept(DeptCall::Get { dept_id, app }) => {
            with_app_token(client, app, async |c, token| c.get_department(token, dept_id).await).await?
        }
        Call::Dept(DeptCall::Subs { dept_id, app }) => {
            with_app_token(client, app, async |c, token| {
                c.list_sub_departments(token, dept_id).await
            })
            .await?
        }
        Call::Dept(DeptCall::SubIds { dept_id, app }) => {
            with_app_token(client, app, async |c, token| {
                c.list_sub_department_ids(token, dept_id).await
            })
            .await?
        }
        Call::Dept(DeptCall::ParentsOfUser { userid, app }) => {
            let userid = UserId(userid);
            with_app_token(client, app, async |c, token| {
                c.list_parents_by_user(token, &userid).await
            })
            .await?
        }
        Call::Dept(DeptCall::ParentsOfDept { dept_id, app }) => {
            with_app_token(client, app, async |c, token| {
                c.list_parents_by_department(token, dept_id).await
            })
            .await?
        }
    };
    println!("{answer}");
    Ok(())
}

fn credentials(app: AppArgs) -> AppCredentials {
    AppCredentials::new(app.app_key, app.app_secret)
}

/// The app's token, fetched from the chosen gateway, renewed once on a token error and retried
/// when busy.
fn manager(client: Client, args: AppTokenArgs) -> AppTokenManager {
    AppTokenManager::builder(client, credentials(args.app))
        .gateway(match args.gateway {
            GatewayArg::Api => Gateway::Api,
            GatewayArg::Oapi => Gateway::Oapi,
        })
        .build()
}

/// Runs one legacy-gateway call with the app's managed token (see [`manager`]), as JSON.
async fn with_app_token<T: Serialize>(
    client: Client,
    args: AppTokenArgs,
    call: impl AsyncFn(&Client, &str) -> Result<T, Error>,
) -> anyhow::Result<String> {
    let manager = manager(client, args);
    let (client, call) = (manager.client(), &call);
    json(
        &manager
            .with_token(|token| async move { call(client, &token).await })
            .await?,
    )
}

fn page_request(page: &PageArgs) -> UserListRequest {
    UserListRequest {
        dept_id: Some(page.dept_id),
        cursor: Some(page.cursor),
        size: Some(page.size),
        ..UserListRequest::default()
    }
}

fn json<T: Serialize>(value: &T) -> anyhow::Result<String> {
    serde_json::to_string_pretty(value).context("writing the answer as JSON")
}

fn client(args: &CallArgs) -> anyhow::Result<Client> {
    let mut builder = Client::builder();
    if let Some(url) = &args.base_url {
        builder = builder.base_url(url.clone());
    }
    if let Some(url) = &args.api_base {
        builder = builder.api_base(url.clone());
    }
    if let Some(url) = &args.oapi_base {
        builder = builder.oapi_base(url.clone());
    }
    if let Some(url) = &args.login_base {
        builder = builder.login_base(url.clone());
    }
    if let Some(secs) = args.timeout {
        builder = builder.timeout(Duration::from_secs(secs));
    }
    Ok(builder.build()?)
}
