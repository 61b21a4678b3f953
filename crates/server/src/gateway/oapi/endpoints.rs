//! Every legacy-gateway operation, one row each.

use super::{token, user};
use dingdir_proto::oapi::Envelope;
use dingdir_proto::oapi::path;

super::super::table::endpoint_table! {
    /// One legacy operation, named after its path.
    Facts = Envelope;
    /// `GET /gettoken`: an app token.
    GetToken = GET path::GET_TOKEN => token::get_token, Envelope::Plain;
    /// `POST /topapi/v2/user/getbymobile`: a userid by mobile (seed 003).
    V2UserGetByMobile = POST path::V2_USER_GET_BY_MOBILE => user::get_by_mobile, Envelope::Top;
}
