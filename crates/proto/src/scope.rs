//! Permission (scope) names as DingTalk spells them.

/// API permission to read a user's contact profile (GetUser). Seed 000.
pub const CONTACT_USER_READ: &str = "Contact.User.Read";
/// Contact basics on the new gateway: the departed-member records
/// (`/v1.0/contact/empLeaveRecords`). docs/wire/directory-read.md §2.16.
pub const CONTACT_COMMON_READ: &str = "Contact.Common.Read";
/// Field permission that lets GetUser return `mobile` and `stateCode`. WIRE.md §D2.
pub const CONTACT_USER_MOBILE: &str = "Contact.User.mobile";
/// Permission to look a member up by mobile (getbymobile). Seed 003.
pub const QYAPI_GET_MEMBER_BY_MOBILE: &str = "qyapi_get_member_by_mobile";
/// Legacy member reads (`/topapi/v2/user/get`, `/topapi/user/getbyunionid`, `/topapi/user/listid`).
/// docs/wire/directory-read.md §0.
pub const QYAPI_GET_MEMBER: &str = "qyapi_get_member";
/// Legacy department member pages (`/topapi/v2/user/list`, `/topapi/user/listsimple`).
/// docs/wire/directory-read.md §0.
pub const QYAPI_GET_DEPARTMENT_MEMBER: &str = "qyapi_get_department_member";
/// Legacy department reads (`/topapi/v2/department/*`). docs/wire/directory-read.md §0.
pub const QYAPI_GET_DEPARTMENT_LIST: &str = "qyapi_get_department_list";
/// Legacy directory writes (`/topapi/v2/user/create|update|delete`,
/// `/topapi/v2/department/create|update|delete`). docs/wire/writes-and-callbacks.md §1.
pub const QYAPI_MANAGE_ADDRESSLIST: &str = "qyapi_manage_addresslist";
/// The basic permission every app holds (基础权限): work notifications and media upload.
/// docs/wire/messages.md §B0.
pub const QYAPI_BASE: &str = "qyapi_base";
