//! Every legacy-gateway operation, one row each.

use super::{call_back, contact, department, legacy, media, notice, robot, token, user, write};
use dingdir_proto::message::path as message_path;
use dingdir_proto::oapi::Envelope;
use dingdir_proto::oapi::path;

super::super::table::endpoint_table! {
    /// One legacy operation, named after its path.
    Facts = Envelope;
    /// `GET /gettoken`: an app token.
    GetToken = GET path::GET_TOKEN => token::get_token, Envelope::Plain;
    /// `POST /robot/send?access_token=`: a custom group robot's webhook (docs/wire/robots.md §A).
    RobotSend = POST path::ROBOT_SEND => robot::send, Envelope::Plain;
    /// `POST /robot/sendBySession?session=`: a bot's answer to a person's message.
    RobotSendBySession = POST path::ROBOT_SEND_BY_SESSION => robot::send_by_session, Envelope::Plain;
    /// `POST /media/upload?type=`: uploads a file for messages (multipart, part `media`).
    MediaUpload = POST message_path::MEDIA_UPLOAD => media::upload, Envelope::Plain;
    /// `POST /topapi/message/corpconversation/asyncsend_v2`: a work notification.
    NoticeSend = POST message_path::NOTICE_SEND => notice::send, Envelope::Top;
    /// `POST /topapi/message/corpconversation/getsendprogress`: how far it got.
    NoticeProgress = POST message_path::NOTICE_PROGRESS => notice::progress, Envelope::Top;
    /// `POST /topapi/message/corpconversation/getsendresult`: whom it reached.
    NoticeResult = POST message_path::NOTICE_RESULT => notice::result, Envelope::Top;
    /// `POST /topapi/message/corpconversation/recall`: takes it back.
    NoticeRecall = POST message_path::NOTICE_RECALL => notice::recall, Envelope::Top;
    /// `POST /topapi/v2/user/getbymobile`: a userid by mobile (seed 003).
    V2UserGetByMobile = POST path::V2_USER_GET_BY_MOBILE => user::get_by_mobile, Envelope::Top;
    /// `POST /topapi/v2/user/get`: a member's full record.
    V2UserGet = POST path::V2_USER_GET => contact::user_get, Envelope::Top;
    /// `POST /topapi/user/getbyunionid`: a unionId's userid.
    UserGetByUnionId = POST path::USER_GET_BY_UNIONID => contact::get_by_union_id, Envelope::Top;
    /// `POST /topapi/user/listid`: a department's userids.
    UserListId = POST path::USER_LIST_ID => contact::list_id, Envelope::Top;
    /// `POST /topapi/v2/user/list`: a page of full member records.
    V2UserList = POST path::V2_USER_LIST => contact::list, Envelope::Top;
    /// `POST /topapi/user/listsimple`: a page of userids and names.
    UserListSimple = POST path::USER_LIST_SIMPLE => contact::list_simple, Envelope::Top;
    /// `POST /topapi/user/count`: the corp's member count.
    UserCount = POST path::USER_COUNT => contact::count, Envelope::Top;
    /// `POST /topapi/user/listadmin`: the corp's administrators.
    UserListAdmin = POST path::USER_LIST_ADMIN => contact::list_admin, Envelope::Top;
    /// `POST /topapi/v2/department/get`: a department.
    V2DepartmentGet = POST path::V2_DEPARTMENT_GET => department::get, Envelope::Top;
    /// `POST /topapi/v2/department/listsub`: a department's children.
    V2DepartmentListSub = POST path::V2_DEPARTMENT_LIST_SUB => department::list_sub, Envelope::Top;
    /// `POST /topapi/v2/department/listsubid`: a department's children's ids.
    V2DepartmentListSubId = POST path::V2_DEPARTMENT_LIST_SUB_ID => department::list_sub_id, Envelope::Top;
    /// `POST /topapi/v2/department/listparentbyuser`: a member's department paths.
    V2DepartmentListParentByUser =
        POST path::V2_DEPARTMENT_LIST_PARENT_BY_USER => department::list_parent_by_user, Envelope::Top;
    /// `POST /topapi/v2/department/listparentbydept`: a department's path to the root.
    V2DepartmentListParentByDept =
        POST path::V2_DEPARTMENT_LIST_PARENT_BY_DEPT => department::list_parent_by_dept, Envelope::Top;
    /// `POST /topapi/v2/user/getuserinfo`: the member behind an in-app sign-in code.
    V2UserGetUserInfo = POST path::V2_USER_GET_USER_INFO => user::get_user_info, Envelope::Top;
    /// `POST /topapi/v2/user/create`: a member joins.
    V2UserCreate = POST path::V2_USER_CREATE => write::user_create, Envelope::Top;
    /// `POST /topapi/v2/user/update`: a member's record changes.
    V2UserUpdate = POST path::V2_USER_UPDATE => write::user_update, Envelope::Top;
    /// `POST /topapi/v2/user/delete`: a member leaves.
    V2UserDelete = POST path::V2_USER_DELETE => write::user_delete, Envelope::Top;
    /// `POST /topapi/v2/department/create`: a department is created.
    V2DepartmentCreate = POST path::V2_DEPARTMENT_CREATE => write::department_create, Envelope::Top;
    /// `POST /topapi/v2/department/update`: a department changes.
    V2DepartmentUpdate = POST path::V2_DEPARTMENT_UPDATE => write::department_update, Envelope::Top;
    /// `POST /topapi/v2/department/delete`: an empty department is removed.
    V2DepartmentDelete = POST path::V2_DEPARTMENT_DELETE => write::department_delete, Envelope::Top;
    /// `POST /user/create`: the old member create.
    UserCreate = POST path::USER_CREATE => write::old_user_create, Envelope::Plain;
    /// `POST /user/update`: the old member update.
    UserUpdate = POST path::USER_UPDATE => write::old_user_update, Envelope::Plain;
    /// `GET /user/delete`: the old member delete.
    UserDelete = GET path::USER_DELETE => write::old_user_delete, Envelope::Plain;
    /// `POST /user/delete`: the same by POST, or the community SDK's batch delete.
    UserDeletePost = POST path::USER_DELETE => write::old_user_delete, Envelope::Plain;
    /// `POST /user/batchdelete`: the old batch delete.
    UserBatchDelete = POST path::USER_BATCH_DELETE => write::old_user_batch_delete, Envelope::Plain;
    /// `POST /department/create`: the old department create.
    DepartmentCreate = POST path::DEPARTMENT_CREATE => write::old_department_create, Envelope::Plain;
    /// `POST /department/update`: the old department update.
    DepartmentUpdate = POST path::DEPARTMENT_UPDATE => write::old_department_update, Envelope::Plain;
    /// `GET /department/delete`: the old department delete.
    DepartmentDelete = GET path::DEPARTMENT_DELETE => write::old_department_delete, Envelope::Plain;
    /// `GET /user/get`: the old flat member record.
    UserGet = GET path::USER_GET => legacy::user_get, Envelope::Plain;
    /// `POST /call_back/register_call_back`: register the corp's callback (after `check_url`).
    RegisterCallBack = POST path::REGISTER_CALL_BACK => call_back::register, Envelope::Plain;
    /// `POST /call_back/update_call_back`: replace it (after `check_url`).
    UpdateCallBack = POST path::UPDATE_CALL_BACK => call_back::update, Envelope::Plain;
    /// `GET /call_back/get_call_back`: the registered callback.
    GetCallBack = GET path::GET_CALL_BACK => call_back::get, Envelope::Plain;
    /// `GET /call_back/delete_call_back`: remove it.
    DeleteCallBack = GET path::DELETE_CALL_BACK => call_back::delete, Envelope::Plain;
    /// `GET /department/list`: the old department list.
    DepartmentList = GET path::DEPARTMENT_LIST => legacy::department_list, Envelope::Plain;
    /// `GET /user/getuserinfo`: the old in-app sign-in code exchange.
    UserGetUserInfo = GET path::USER_GET_USER_INFO => legacy::user_info, Envelope::Plain;
    /// `GET /auth/scopes`: the app's contact range.
    AuthScopes = GET path::AUTH_SCOPES => legacy::auth_scopes, Envelope::Plain;
}
