//! A server's URL that never shows its password ([`DbUrl`]), and the
//! redaction of free text that may hold one ([`redact`]).

use std::fmt;

use crate::error::Error;

/// A validated `mysql://` URL that never shows its password.
///
/// `Display` and `Debug` both redact; only [`DbUrl::expose`] gives the secret
/// form, for handing to a driver.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl(url::Url);

impl DbUrl {
    /// Parses and checks a URL. Errors say what is wrong without quoting
    /// any of the text: a URL that does not parse as intended (`user:pw@host`
    /// without a scheme, `mysql:user:pw@host`) has its password somewhere
    /// other than where [`DbUrl`]'s redaction would find it.
    pub fn parse(text: &str) -> Result<DbUrl, Error> {
        DbUrl::parse_named(text, "DATABASE_URL")
    }

    /// [`DbUrl::parse`], its errors naming the URL as `name` (an entry of
    /// a list by its position: the text itself is never quoted, since one
    /// that does not parse as meant may show its password).
    pub fn parse_named(text: &str, name: &str) -> Result<DbUrl, Error> {
        const EXPECTED: &str =
            "expected mysql://USER@HOST:PORT/DATABASE, with USER:PASSWORD for a password";
        let url = url::Url::parse(text)
            .map_err(|e| Error::Config(format!("{name} is not a valid URL ({e}); {EXPECTED}")))?;
        if !matches!(url.scheme(), "mysql" | "mariadb") {
            return Err(Error::Config(format!(
                "{name} does not start with mysql:// or mariadb://; {EXPECTED}"
            )));
        }
        if !text[url.scheme().len()..].starts_with("://") {
            return Err(Error::Config(format!(
                "{name} has no // after its scheme; {EXPECTED}"
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::Config(format!("{name} has no host; {EXPECTED}")));
        }
        Ok(DbUrl(url))
    }

    /// The URL with its password, as `mysql://` (both drivers accept only that).
    pub fn expose(&self) -> String {
        let mut url = self.0.clone();
        if url.scheme() != "mysql" {
            // `set_scheme` refuses special-to-non-special changes only; these are both non-special.
            let _ = url.set_scheme("mysql");
        }
        url.to_string()
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.0.port().unwrap_or(3306)
    }

    pub fn user(&self) -> &str {
        self.0.username()
    }

    /// The user name, decoded, for a client that takes it apart from the URL.
    pub fn user_decoded(&self) -> String {
        percent_decode(self.0.username())
    }

    /// The password, decoded (a URL percent-encodes it), for a client that
    /// takes it apart from the URL; `None` without one.
    pub fn password(&self) -> Option<String> {
        self.0.password().map(percent_decode)
    }

    /// The database named in the path, if any.
    pub fn database(&self) -> Option<&str> {
        Some(self.0.path().trim_start_matches('/')).filter(|d| !d.is_empty())
    }

    /// Whether `other` names the same server and database (host, port and
    /// database; the account may differ).
    pub fn same_server(&self, other: &DbUrl) -> bool {
        self.host().eq_ignore_ascii_case(other.host())
            && self.port() == other.port()
            && self.database() == other.database()
    }

    /// A copy with another database in the path.
    pub fn with_database(&self, db: &str) -> DbUrl {
        let mut url = self.0.clone();
        url.set_path(db);
        DbUrl(url)
    }

    /// A copy with another port (e.g. a proxy's in front of the server).
    pub fn with_port(&self, port: u16) -> DbUrl {
        let mut url = self.0.clone();
        let _ = url.set_port(Some(port));
        DbUrl(url)
    }

    /// A copy with other credentials.
    pub fn with_credentials(&self, user: &str, password: &str) -> DbUrl {
        let mut url = self.0.clone();
        let _ = url.set_username(user);
        let _ = url.set_password(Some(password));
        DbUrl(url)
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        f.write_str(shown.as_str())
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

/// `%XX` escapes back to their bytes (invalid ones kept as written).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Redacts the password of every `scheme://user:password@` in free text
/// (error messages from drivers, command lines, logs).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace or quote.
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..=colon]);
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_name_comes_back_decoded_for_a_client_that_logs_in_itself() {
        let url = DbUrl::parse("mysql://r%C3%A9my%40x:pw@h/db").expect("url");
        assert_eq!(url.user_decoded(), "rémy@x");
        assert_eq!(url.user(), "r%C3%A9my%40x");
    }

    #[test]
    fn the_password_comes_back_decoded() {
        let url = DbUrl::parse("mysql://u:p%40ss%2Fw%zz@h/db").expect("url");
        assert_eq!(url.password().as_deref(), Some("p@ss/w%zz"));
        assert_eq!(
            DbUrl::parse("mysql://u@h/db").expect("url").password(),
            None
        );
    }

    #[test]
    fn urls_never_show_their_password() {
        let url = DbUrl::parse("mysql://root:s3cr%40t@db.example:3306/employees").expect("url");
        assert_eq!(
            url.to_string(),
            "mysql://root:***@db.example:3306/employees"
        );
        assert_eq!(
            format!("{url:?}"),
            "DbUrl(mysql://root:***@db.example:3306/employees)"
        );
        assert!(url.expose().contains("s3cr%40t"));
        let nopw = DbUrl::parse("mysql://root@localhost/employees").expect("url");
        assert_eq!(nopw.to_string(), "mysql://root@localhost/employees");
    }

    #[test]
    fn free_text_is_redacted() {
        assert_eq!(
            redact("error: mysql://u:pw@h:1/db and mariadb://x:y@z/ done"),
            "error: mysql://u:***@h:1/db and mariadb://x:***@z/ done"
        );
        assert_eq!(
            redact("http://host/path no creds"),
            "http://host/path no creds"
        );
        assert_eq!(
            redact("DATABASE_URL='mysql://a:b@c'"),
            "DATABASE_URL='mysql://a:***@c'"
        );
    }
}
