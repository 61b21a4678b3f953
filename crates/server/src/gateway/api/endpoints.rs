//! Every new-gateway operation, one row each, named as the official SDKs name it.

use super::{contact, oauth2, robot, stream};
use dingdir_proto::api::path;
use dingdir_proto::message::path as message_path;
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
    /// `POST /v1.0/robot/oToMessages/batchSend` (robot_1_0 `BatchSendOTO`).
    OtoBatchSend = POST message_path::OTO_BATCH_SEND => robot::batch_send_oto, Auth::AccessToken;
    /// `GET /v1.0/robot/oToMessages/readStatus` (robot_1_0 `BatchOTOQuery`).
    OtoReadStatus = GET message_path::OTO_READ_STATUS => robot::oto_read_status, Auth::AccessToken;
    /// `POST /v1.0/robot/otoMessages/batchRecall` (robot_1_0 `BatchRecallOTO`).
    OtoBatchRecall = POST message_path::OTO_BATCH_RECALL => robot::batch_recall_oto, Auth::AccessToken;
    /// `POST /v1.0/robot/groupMessages/send` (robot_1_0 `OrgGroupSend`).
    GroupSend = POST message_path::GROUP_SEND => robot::group_send, Auth::AccessToken;
    /// `POST /v1.0/robot/messageFiles/download` (robot_1_0 `RobotMessageFileDownload`).
    MessageFileDownload = POST message_path::MESSAGE_FILE_DOWNLOAD => robot::message_file_download, Auth::AccessToken;
    /// `POST /v1.0/robot/groupMessages/recall` (robot_1_0 `OrgGroupRecall`).
    GroupRecall = POST message_path::GROUP_RECALL => robot::group_recall, Auth::AccessToken;
    /// `POST /v1.0/gateway/connections/open`: a Stream mode ticket (the dingtalk-stream SDKs).
    OpenConnection = POST stream_path::OPEN_CONNECTION => stream::open_connection, Auth::Credentials;
    /// `GET /connect?ticket=…`: the Stream mode WebSocket, at the endpoint `OpenConnection` gives.
    StreamConnect = GET stream_path::CONNECT => stream::connect, Auth::Credentials;
}
