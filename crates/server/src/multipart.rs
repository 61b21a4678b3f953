//! A `multipart/form-data` reader for the one endpoint that takes it (`/media/upload`): the
//! whole body is read under the endpoint's limit first, then split at its boundary.

use memchr::memmem;

/// One part of a multipart body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    /// Its `Content-Disposition` `name`.
    pub(crate) name: String,
    /// Its `filename`, when it is a file.
    pub(crate) file_name: Option<String>,
    /// Its `Content-Type`, when given.
    pub(crate) content_type: Option<String>,
    /// Its bytes.
    pub(crate) data: &'a [u8],
}

/// The boundary of a `multipart/form-data` content type, unquoted.
pub(crate) fn boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        let v = v.trim().trim_matches('"');
        (k.trim().eq_ignore_ascii_case("boundary") && !v.is_empty() && v.len() <= 200).then_some(v)
    })
}

/// A parameter of a header value such as `form-data; name="media"; filename="a.png"`.
fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        let v = v.trim();
        let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
        k.trim().eq_ignore_ascii_case(name).then(|| v.to_owned())
    })
}

/// Splits a body into its parts; a body that does not follow the format is an error naming
/// what is wrong.
pub(crate) fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, String> {
    let delimiter = format!("--{boundary}");
    let next = format!("\r\n--{boundary}");
    let finder = memmem::Finder::new(next.as_bytes());
    let start = memmem::find(body, delimiter.as_bytes()).ok_or("no boundary in the body")?;
    let mut rest = &body[start + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest.strip_prefix(b"\r\n").ok_or("a boundary not followed by CRLF")?;
        let head_end = memmem::find(rest, b"\r\n\r\n").ok_or("a part without a blank line after its headers")?;
        let head = std::str::from_utf8(&rest[..head_end]).map_err(|_| "part headers that are not UTF-8")?;
        let after = &rest[head_end + 4..];
        let end = finder.find(after).ok_or("a part without a closing boundary")?;
        let (mut name, mut file_name, mut content_type) = (None, None, None);
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else { continue };
            let v = v.trim();
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = param(v, "name");
                file_name = param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v.to_owned());
            }
        }
        parts.push(Part {
            name: name.ok_or("a part without a name")?,
            file_name,
            content_type,
            data: &after[..end],
        });
        rest = &after[end + next.len()..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_requests_and_aiohttp_send() {
        assert_eq!(boundary("multipart/form-data; boundary=abc123"), Some("abc123"));
        assert_eq!(boundary("multipart/form-data; boundary=\"q r\""), Some("q r"));
        assert_eq!(boundary("application/json"), None);
        let body = b"--abc\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nimage\r\n--abc\r\n\
Content-Disposition: form-data; name=\"media\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x00\r\n--abc--\r\n";
        let parts = parse(body, "abc").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].data), ("type", &b"image"[..]));
        assert_eq!(parts[1].file_name.as_deref(), Some("a.png"));
        assert_eq!(parts[1].content_type.as_deref(), Some("image/png"));
        assert_eq!(parts[1].data, b"\x89PNG\r\n\x00");
        assert!(parse(b"--abc\r\nno blank line", "abc").is_err());
        assert!(parse(b"nothing", "abc").is_err());
        assert!(
            parse(
                b"--abc\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nopen",
                "abc"
            )
            .is_err()
        );
    }
}
