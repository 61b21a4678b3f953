//! Every new-gateway operation, one row each, named as the official SDKs name it.

use super::{contact, oauth2, stream};
use dingdir_proto::api::path;
use dingdir_proto::stream::path as stream_path;

/// How a new-gateway endpoint authenticates its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    /// App credentials (or a code) in the JSON body: the token endpoints.
    Credentials,
    /// An access token in the `x-acs-dingtalk-access-token` header.
    AccessToken,
}

super::super::table::endpoint_table! {
    /// One new-gateway operation.
    Facts = Auth;
    /// `POST /v1.0/oauth2/accessToken` (oauth2_1_0 `GetAccessToken`).
    GetAccessToken = POST path::ACCESS_TOKEN => oauth2::get_access_token, Auth::Credentials;
    /// `POST /v1.0/oauth2/userAccessToken` (oauth2_1_0 `GetUserToken`).
    GetUserToken = POST path::USER_ACCESS_TOKEN => oauth2::get_user_token, Auth::Credentials;
    /// `POST /v1.0/oauth2/corpAccessToken` (oauth2_1_0 `GetCorpAccessToken`).
    GetCorpAccessToken = POST path::CORP_ACCESS_TOKEN => oauth2::get_corp_access_token, Auth::Credentials;
    /// `GET /v1.0/contact/users/{unionId}` (contact_1_0 `GetUser`), seed 000.
    GetUser = GET path::GET_USER => contact::get_user, Auth::AccessToken;
    /// `GET /v1.0/contact/empLeaveRecords` (contact_1_0 `ListEmpLeaveRecords`).
    ListEmpLeaveRecords = GET path::EMP_LEAVE_RECORDS => contact::list_emp_leave_records, Auth::AccessToken;
    /// `POST /v1.0/gateway/connections/open`: a Stream mode ticket (the dingtalk-stream SDKs).
    OpenConnection = POST stream_path::OPEN_CONNECTION => stream::open_connection, Auth::Credentials;
    /// `GET /connect?ticket=…`: the Stream mode WebSocket, at the endpoint `OpenConnection` gives.
    StreamConnect = GET stream_path::CONNECT => stream::connect, Auth::Credentials;
}
