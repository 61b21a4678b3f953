//! The one domain error. It names what happened; each gateway decides, in one place, how that
//! looks on its wire.

/// What went wrong, in domain terms. No HTTP statuses, errcodes or SQL types.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No visible user matches (unknown, departed, or outside the caller's view).
    #[error("user not found")]
    UserNotFound,
    /// No department of the caller's corp has this id.
    #[error("department not found")]
    DepartmentNotFound,
    /// A member outside the app's contact range (通讯录权限范围).
    #[error("user outside the app's contact range")]
    UserOutOfRange,
    /// A department outside the app's contact range.
    #[error("department outside the app's contact range")]
    DepartmentOutOfRange,
    /// A required mobile was missing or empty.
    #[error("mobile is missing")]
    MobileMissing,
    /// A mobile that is neither national digits nor `+CC-NNNN`.
    #[error("mobile is malformed")]
    MobileMalformed,
    /// A parameter had a value the operation does not take.
    #[error("invalid parameter {name}")]
    InvalidParameter {
        /// The parameter's wire name.
        name: &'static str,
    },
    /// A parameter out of what the operation allows, where DingTalk answers `参数非法` rather
    /// than `无效的参数` (`/topapi/v2/user/list`, `/topapi/user/count`).
    #[error("illegal parameter {name}")]
    IllegalParameter {
        /// The parameter's wire name.
        name: &'static str,
    },
    /// A page cursor that is not an offset into the list (`/topapi/user/listsimple`).
    #[error("invalid cursor")]
    CursorInvalid,
    /// A page size outside 1 to 100 (`/topapi/user/listsimple`).
    #[error("invalid page size")]
    PageSizeInvalid,
    /// No access token was given.
    #[error("access token missing")]
    TokenMissing,
    /// The access token is unknown.
    #[error("access token invalid")]
    TokenInvalid,
    /// The access token has expired.
    #[error("access token expired")]
    TokenExpired,
    /// The caller's app lacks a scope the operation needs.
    #[error("scope {scope} missing")]
    ScopeMissing {
        /// The scope the operation needs.
        scope: &'static str,
    },
    /// The operation needs a user token and got an app token, or the reverse.
    #[error("wrong kind of token; needs {scope}")]
    WrongTokenKind {
        /// The scope named to the caller as required.
        scope: &'static str,
    },
    /// The operation is not open to this app type.
    #[error("app type not allowed; needs {scope}")]
    WrongAppType {
        /// The scope named to the caller as required.
        scope: &'static str,
    },
    /// Unknown app key or wrong secret.
    #[error("bad app key or secret")]
    BadAppSecret,
    /// An app-token request without key or secret.
    #[error("app credentials missing")]
    AppCredentialsMissing,
    /// Unknown suite key or wrong suite secret.
    #[error("bad suite key or secret")]
    BadSuiteKey,
    /// Wrong suite ticket.
    #[error("bad suite ticket")]
    BadSuiteTicket,
    /// The corp has not authorised the suite.
    #[error("corp has not authorised the app")]
    NotAuthorised,
    /// Unknown, expired or already used authorisation code.
    #[error("invalid authorisation code")]
    CodeInvalid,
    /// Unknown, expired or already used refresh token.
    #[error("invalid refresh token")]
    RefreshTokenInvalid,
    /// The server is over its in-flight limit, or the store did not answer in time.
    #[error("overloaded")]
    Overloaded,
    /// A directory write the directory's state does not allow.
    #[error("write refused: {0}")]
    WriteRefused(Refusal),
    /// A callback registration that cannot be made.
    #[error("callback refused: {0}")]
    CallbackRefused(crate::callback::CallbackRefusal),
    /// No app has the key named.
    #[error("app not found")]
    AppNotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A store failure, in kinds that carry no database library types.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (for example by a concurrent writer).
    #[error("conflict: {0}")]
    Conflict(String),
    /// What a write was computed from changed before it committed (another writer got there
    /// first): read again and recompute.
    #[error("stale: {0}")]
    Stale(String),
    /// A write the store's current state does not allow (a department that still has children
    /// or members).
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The store could not be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store did not answer within the service's time bound.
    #[error("the store did not answer in time")]
    TimedOut,
    /// Stored data that the domain cannot read.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// Anything else.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// Why a directory write was refused. docs/wire/writes-and-callbacks.md §1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The corp already holds the userid (active or departed).
    #[error("the corp already holds this userid")]
    UserIdTaken,
    /// Another member of the corp has the mobile.
    #[error("another member of the corp has this mobile")]
    MobileTaken,
    /// The mobile is not one.
    #[error("the mobile is not a valid number")]
    MobileInvalid,
    /// The named parent department does not exist.
    #[error("the parent department does not exist")]
    ParentNotFound,
    /// The department still has active members.
    #[error("the department still has members")]
    DepartmentHasMembers,
    /// The department still has sub-departments.
    #[error("the department still has sub-departments")]
    DepartmentHasChildren,
    /// The root cannot be deleted.
    #[error("the root department cannot be deleted")]
    RootUndeletable,
    /// The root cannot be changed through the API.
    #[error("the root department cannot be changed")]
    RootUnchangeable,
    /// The move would put the department below itself.
    #[error("a department cannot move below itself")]
    DepartmentCycle,
    /// A sibling has the name.
    #[error("a sibling department already has this name")]
    DepartmentNameTaken,
}
