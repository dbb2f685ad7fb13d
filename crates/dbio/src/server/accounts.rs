//! The server's accounts: none may log in without a password.

use std::fs::File;
use std::io::Read;

use mysql::prelude::Queryable;

use crate::error::{DbioError, IoContext, Result, SqlContext};

/// Drops every root and anonymous account but `root@localhost` (the
/// initialiser creates root at 127.0.0.1, ::1 and the host name without a
/// password), then checks that no account is left that logs in without a
/// password. Safe to repeat.
pub fn secure_accounts(conn: &mut mysql::Conn) -> Result<()> {
    // A primary's replicas keep their own accounts: none of this goes to
    // the binary log.
    conn.query_drop("SET SESSION sql_log_bin = 0")
        .sql("cannot keep account changes out of the binary log")?;
    let extra: Vec<(String, String)> = conn
        .query(
            "SELECT User, Host FROM mysql.user \
             WHERE (User = 'root' AND Host <> 'localhost') OR User = ''",
        )
        .sql("cannot list the server's accounts")?;
    for (user, host) in extra {
        let quote = |s: &str| s.replace('\\', "\\\\").replace('\'', "''");
        conn.query_drop(format!("DROP USER '{}'@'{}'", quote(&user), quote(&host)))
            .sql(format!("cannot drop the account '{user}'@'{host}'"))?;
    }
    let open = open_accounts(conn)?;
    if open.is_empty() {
        Ok(())
    } else {
        Err(DbioError::Refused(format!(
            "accounts without a password are left on the server: {}; set one with ALTER USER ... IDENTIFIED BY, or DROP USER",
            open.join(", ")
        )))
    }
}

/// Accounts that can log in without a password: not locked, not a role,
/// and with a password plugin whose password is empty (socket
/// authentication counts as secured). Reads `mysql.global_priv` on MariaDB,
/// `mysql.user` on MySQL.
pub fn open_accounts(conn: &mut mysql::Conn) -> Result<Vec<String>> {
    let rows: std::result::Result<Vec<(String, String, String)>, _> =
        conn.query("SELECT User, Host, Priv FROM mysql.global_priv");
    let rows = match rows {
        Ok(rows) => rows,
        // MySQL: no global_priv; the same facts as JSON from mysql.user.
        Err(mysql::Error::MySqlError(e)) if e.code == 1146 => conn
            .query(
                "SELECT User, Host, JSON_OBJECT('plugin', plugin, \
                 'authentication_string', authentication_string, \
                 'account_locked', account_locked = 'Y') FROM mysql.user",
            )
            .sql("cannot read the server's accounts")?,
        Err(e) => return Err(e).sql("cannot read the server's accounts"),
    };
    Ok(rows
        .into_iter()
        .filter(|(_, _, priv_json)| account_is_open(priv_json))
        .map(|(user, host, _)| format!("'{user}'@'{host}'"))
        .collect())
}

/// Whether an account (its `mysql.global_priv` JSON) logs in without a
/// password by any of its authentication methods.
fn account_is_open(priv_json: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(priv_json) else {
        // Unreadable: not known to be secured.
        return true;
    };
    let flag = |k: &str| v.get(k).and_then(serde_json::Value::as_bool) == Some(true);
    if flag("account_locked") || flag("is_role") {
        return false;
    }
    let without_password = |m: &serde_json::Value| {
        let plugin = m
            .get("plugin")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("mysql_native_password");
        let secret = m
            .get("authentication_string")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        const SOCKET: [&str; 2] = ["unix_socket", "auth_socket"];
        !SOCKET.contains(&plugin) && secret.is_empty()
    };
    // MariaDB's `auth_or` lists alternatives; `{}` stands for the main one.
    match v.get("auth_or").and_then(serde_json::Value::as_array) {
        Some(alternatives) => alternatives.iter().any(|m| {
            if m.as_object().is_some_and(serde_json::Map::is_empty) {
                without_password(&v)
            } else {
                without_password(m)
            }
        }),
        None => without_password(&v),
    }
}

/// Sets `optimizer_switch` for new sessions.
pub fn set_optimizer_switch(conn: &mut mysql::Conn, switch: &str) -> Result<()> {
    conn.exec_drop("SET GLOBAL optimizer_switch = ?", (switch,))
        .sql(format!("the server refused optimizer_switch '{switch}'"))
}

/// 24 random alphanumerics from the OS.
pub(super) fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 24];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .ctx("cannot read random bytes", "/dev/urandom")?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::account_is_open;

    #[test]
    fn accounts_without_a_password_are_open() {
        // What mariadb-install-db made for root@127.0.0.1: no plugin, no password.
        assert!(account_is_open(r#"{"access":18446744073709551615}"#));
        assert!(account_is_open(
            r#"{"plugin":"mysql_native_password","authentication_string":""}"#
        ));
        // One alternative without a password is enough.
        assert!(account_is_open(
            r#"{"plugin":"unix_socket","authentication_string":"","auth_or":[{"plugin":"mysql_native_password","authentication_string":""},{}]}"#
        ));
        assert!(account_is_open("not json"));
    }

    #[test]
    fn passwords_sockets_locks_and_roles_are_closed() {
        assert!(!account_is_open(
            r#"{"plugin":"mysql_native_password","authentication_string":"*2BA0B4BEC87E86D5DB4D857CC79CC65514E01D4E"}"#
        ));
        assert!(!account_is_open(
            r#"{"plugin":"mysql_native_password","authentication_string":"invalid","auth_or":[{},{"plugin":"unix_socket"}]}"#
        ));
        assert!(!account_is_open(
            r#"{"access":0,"plugin":"mysql_native_password","authentication_string":"","account_locked":true}"#
        ));
        assert!(!account_is_open(r#"{"access":0,"is_role":true}"#));
    }
}
