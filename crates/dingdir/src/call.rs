//! `dingdir call`: DingTalk's calls through `dingdir-client`. The answer goes to stdout as JSON;
//! an API error goes to stderr as `dingdir: <status> <code>: <message> (request id …)` through
//! `main`, with a non-zero exit.
#![expect(clippy::print_stdout, reason = "the answer on stdout is the command's interface")]

use crate::cli::{AppArgs, Call, CallArgs, GatewayArg, SigninCall, UserCall};
use anyhow::Context;
use dingdir_client::proto::ids::{CorpId, UnionId};
use dingdir_client::{AppCredentials, AppTokenManager, AuthorizeParams, Client, Gateway};
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
        Call::User(UserCall::ByMobile {
            mobile,
            app,
            exclusive,
            gateway,
        }) => {
            let manager = AppTokenManager::builder(client, credentials(app))
                .gateway(match gateway {
                    GatewayArg::Api => Gateway::Api,
                    GatewayArg::Oapi => Gateway::Oapi,
                })
                .build();
            json(&manager.get_by_mobile(&mobile, exclusive).await?)?
        }
    };
    println!("{answer}");
    Ok(())
}

fn credentials(app: AppArgs) -> AppCredentials {
    AppCredentials::new(app.app_key, app.app_secret)
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
