//! Uploaded media (`/media/upload`): files an app uploads to send in messages, kept in the
//! store within a bound (docs/wire/messages.md §C).

use crate::message::Media;
use crate::notice::{NoticeError, OapiRefusal};
use crate::service::{Caller, Service};
use base64::Engine as _;

/// What each media type takes: its extensions and its largest size
/// (docs/wire/messages.md §C, the current page's figures).
const KINDS: &[(&str, &[&str], usize)] = &[
    ("image", &["jpg", "jpeg", "gif", "png", "bmp"], 20 << 20),
    ("voice", &["amr", "mp3", "wav"], 2 << 20),
    ("video", &["mp4"], 20 << 20),
    (
        "file",
        &["doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip", "pdf", "rar"],
        20 << 20,
    ),
];

/// The largest upload any type takes: what the HTTP edge reads at most.
pub const MAX_UPLOAD: usize = 20 << 20;

fn refuse(errcode: i64, errmsg: &str) -> NoticeError {
    NoticeError::Refused(OapiRefusal {
        errcode,
        errmsg: errmsg.to_owned(),
    })
}

/// One file part of an upload, as the HTTP edge read it.
#[derive(Clone, Debug, Default)]
pub struct Upload {
    /// `type`: `image`, `voice`, `video` or `file`.
    pub kind: Option<String>,
    /// The part's file name.
    pub file_name: String,
    /// The part's content type.
    pub content_type: String,
    /// The bytes; `None` when the request had no `media` part.
    pub data: Option<Vec<u8>>,
    /// Whether the part was cut at [`MAX_UPLOAD`].
    pub too_large: bool,
}

impl Service {
    /// `POST /media/upload`: checks the type, the part, its size and extension, as DingTalk
    /// does, and keeps the file (the newest `keep` files are kept).
    pub async fn upload_media(&self, caller: &Caller, upload: Upload, keep: u64) -> Result<Media, NoticeError> {
        let corp = Self::basic_corp(caller)?.clone();
        let kind = upload.kind.as_deref().map(str::trim).unwrap_or_default();
        let (_, extensions, max) = KINDS
            .iter()
            .find(|(k, _, _)| *k == kind)
            .ok_or_else(|| refuse(40004, "不合法的媒体文件类型"))?;
        let data = upload.data.ok_or_else(|| refuse(41005, "缺少多媒体文件数据"))?;
        if data.is_empty() {
            return Err(refuse(44001, "多媒体文件为空"));
        }
        if upload.too_large || data.len() > *max {
            return Err(refuse(40006, "不合法的文件大小"));
        }
        let extension = upload
            .file_name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if !extensions.contains(&extension.as_str()) {
            return Err(refuse(40005, "不合法的文件类型"));
        }
        let random =
            crate::secret::random_bytes(18).map_err(|e| crate::Error::Store(crate::StoreError::Other(e.into())))?;
        let media = Media {
            media_id: format!("@lA{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)),
            corp_id: corp,
            app_key: caller.app.key.clone(),
            kind: kind.to_owned(),
            file_name: upload.file_name,
            content_type: upload.content_type,
            at: self.now(),
            data,
        };
        self.store().put_media(&media, keep).await?;
        Ok(media)
    }
}
