//! Connection settings shared by every binary: parsed by clap, then validated
//! into a [`ConnConfig`] before any work starts.
//!
//! Parse (`ConnectionArgs`, what the user typed) and check (`ConnConfig`,
//! what the run uses) are separate types, so no approach can see an
//! unvalidated budget or URL.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::managed;
pub use crate::url::{DbUrl, redact};

/// The connection budget when none is given: SQLAlchemy's default pool size,
/// which the blog's bounded approaches ran with.
pub const DEFAULT_BUDGET: u32 = 5;

/// Connection settings, flattened into every binary's command line.
/// The largest connection budget (a server's `max_connections` is far below).
pub const MAX_BUDGET: u32 = 100_000;
/// How far behind its primary a replica may be when a run starts, seconds.
pub const DEFAULT_MAX_LAG: u64 = 10;
/// The longest `--connect-timeout`, in seconds: an hour.
pub const MAX_CONNECT_TIMEOUT: u64 = 3_600;

/// The default of `--max-packet`: the largest reply packet (a payload of
/// several joined) a client accepts, and the largest statement it sends.
pub const DEFAULT_MAX_PACKET: u64 = 64 << 20;

/// `--max-packet`'s range: the `mysql` crate takes 1 KiB to 1 GiB (the
/// protocol's own limit).
pub const MAX_PACKET_RANGE: std::ops::RangeInclusive<u64> = 1024..=(1 << 30);

/// The driver of the thread-based approaches (the async ones run on sqlx).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BlockingDriver {
    /// The `mysql` crate.
    #[default]
    Mysql,
    /// dbio's own minimal client (crate `wire`): rows read in place,
    /// `mysql_native_password` logins only.
    Wire,
}

impl BlockingDriver {
    pub fn name(self) -> &'static str {
        match self {
            BlockingDriver::Mysql => "mysql",
            BlockingDriver::Wire => "wire",
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// Server URL, mysql://USER:PASSWORD@HOST:PORT/DATABASE; given more
    /// than once, the queries are spread over the servers (read replicas).
    /// Default: the server started by `dbio up`, and its replicas.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub database_url: Vec<String>,

    /// Several servers at once, comma-separated (percent-encode a comma in
    /// a password), in place of --database-url.
    #[arg(
        long,
        env = "DATABASE_URLS",
        hide_env_values = true,
        value_name = "URL,URL",
        value_delimiter = ','
    )]
    pub database_urls: Vec<String>,

    // `--connections` on the command line (the blog's word), the budget
    // everywhere after it.
    /// Connection budget: the most connections a run holds at once.
    #[arg(long = "connections", env = "DBIO_CONNECTIONS", default_value_t = DEFAULT_BUDGET, value_name = "N")]
    pub budget: u32,

    /// Seconds to wait for a connection to the server before giving up.
    #[arg(
        long,
        env = "DBIO_CONNECT_TIMEOUT",
        default_value_t = 10,
        value_name = "SECS"
    )]
    pub connect_timeout: u64,

    /// The largest packet a blocking driver accepts from the server (and
    /// sends), in bytes: a broken or hostile server that announces more is
    /// refused in one line instead of filling memory. sqlx has no such
    /// limit (see docs/security.md: a broken or hostile server).
    #[arg(long, env = "DBIO_MAX_PACKET", default_value_t = DEFAULT_MAX_PACKET, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(*MAX_PACKET_RANGE.start()..=*MAX_PACKET_RANGE.end()))]
    pub max_packet: u64,

    /// With several servers: refuse a replica more than SECS seconds behind
    /// its primary when the run starts (its reads would see other data).
    #[arg(long, env = "DBIO_MAX_LAG", default_value_t = DEFAULT_MAX_LAG, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub max_lag: u64,

    /// The driver of the thread-based approaches (test_single, test_mt,
    /// test_mt_bounded, test_threadpool): the mysql crate, or dbio's own
    /// minimal client, which reads rows in place (what the crate costs per
    /// query is the difference). The async approaches run on sqlx.
    #[arg(long, env = "DBIO_BLOCKING_DRIVER", value_enum, default_value_t = BlockingDriver::Mysql, value_name = "DRIVER")]
    pub blocking_driver: BlockingDriver,

    /// Home of the managed server (default: target/dbio of the workspace
    /// this binary was built in, else of the one above the current directory).
    #[arg(long, env = "DBIO_HOME", value_name = "DIR")]
    pub dbio_home: Option<PathBuf>,
}

impl ConnectionArgs {
    /// Checks the settings and resolves the URL (given, or the managed server's).
    pub fn validate(&self) -> Result<ConnConfig, Error> {
        if self.budget == 0 {
            return Err(Error::Config(
                "--connections must be at least 1 (it is the connection budget)".into(),
            ));
        }
        if self.budget > MAX_BUDGET {
            return Err(Error::Config(format!(
                "--connections must be at most {MAX_BUDGET}"
            )));
        }
        if self.connect_timeout == 0 {
            return Err(Error::Config(
                "--connect-timeout must be at least 1 second".into(),
            ));
        }
        if self.connect_timeout > MAX_CONNECT_TIMEOUT {
            return Err(Error::Config(format!(
                "--connect-timeout must be at most {MAX_CONNECT_TIMEOUT} seconds"
            )));
        }
        if !self.database_urls.is_empty() && self.database_urls.iter().all(|u| u.trim().is_empty())
        {
            return Err(Error::Config(
                "DATABASE_URLS lists no server (only commas or blanks); give each server's URL, comma-separated".into(),
            ));
        }
        let one: Vec<&String> = self
            .database_url
            .iter()
            .filter(|u| !u.trim().is_empty())
            .collect();
        let listed: Vec<&String> = self
            .database_urls
            .iter()
            .filter(|u| !u.trim().is_empty())
            .collect();
        if !one.is_empty() && !listed.is_empty() {
            return Err(Error::Config(
                "both DATABASE_URL (--database-url) and DATABASE_URLS (--database-urls) are set: give the servers in one of them".into(),
            ));
        }
        let (servers, managed) = if one.is_empty() && listed.is_empty() {
            (managed::urls(&self.home()?)?, true)
        } else if listed.is_empty() {
            let servers = one
                .into_iter()
                .map(|u| DbUrl::parse(u.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            (servers, false)
        } else {
            let servers = listed
                .into_iter()
                .enumerate()
                .map(|(i, u)| {
                    DbUrl::parse_named(u.trim(), &format!("entry {} of DATABASE_URLS", i + 1))
                })
                .collect::<Result<Vec<_>, _>>()?;
            (servers, false)
        };
        for (i, a) in servers.iter().enumerate() {
            if let Some(b) = servers[i + 1..].iter().find(|b| b.same_server(a)) {
                return Err(Error::Config(format!(
                    "{b} is given twice: each server once (its budget is per server)"
                )));
            }
        }
        Ok(ConnConfig {
            servers,
            managed,
            max_lag: Duration::from_secs(self.max_lag),
            budget: self.budget as usize,
            connect_timeout: Duration::from_secs(self.connect_timeout),
            max_packet: self.max_packet as usize,
            blocking_driver: self.blocking_driver,
            read_only: false,
        })
    }

    fn home(&self) -> Result<PathBuf, Error> {
        match &self.dbio_home {
            Some(home) => Ok(home.clone()),
            None => managed::default_home()
                .map(|(home, _)| home)
                .map_err(Error::Config),
        }
    }
}

/// Checked connection settings.
#[derive(Debug, Clone)]
pub struct ConnConfig {
    /// Every server the run reads from, each once: at least one (the first
    /// is the one named in reports and asked before the run).
    pub servers: Vec<DbUrl>,
    /// The URLs are the managed server's (no DATABASE_URL was given).
    pub managed: bool,
    /// The most connections at once, per server. At least 1.
    pub budget: usize,
    pub connect_timeout: Duration,
    /// The largest packet a blocking driver accepts (`--max-packet`).
    pub max_packet: usize,
    /// How far behind its primary a replica may be when the run starts.
    pub max_lag: Duration,
    /// The driver of the thread-based approaches.
    pub blocking_driver: BlockingDriver,
    /// Every connection of the run's pools starts a read-only session
    /// ([`READ_ONLY_SESSION`], part of opening it): a dashboard's
    /// statements cannot write unless `--allow-writes` was given.
    pub read_only: bool,
}

/// What a read-only connection sends once, right after opening: the server
/// then refuses every write with its own error (1792).
pub const READ_ONLY_SESSION: &str = "SET SESSION TRANSACTION READ ONLY";

impl ConnConfig {
    /// A run on one server.
    pub fn one(url: DbUrl, budget: usize, connect_timeout: Duration) -> ConnConfig {
        ConnConfig {
            servers: vec![url],
            managed: false,
            budget,
            connect_timeout,
            max_packet: DEFAULT_MAX_PACKET as usize,
            max_lag: Duration::from_secs(DEFAULT_MAX_LAG),
            blocking_driver: BlockingDriver::default(),
            read_only: false,
        }
    }

    /// The first server: the one reports name and pre-run questions go to.
    pub fn url(&self) -> &DbUrl {
        &self.servers[0]
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::ServerState;

    fn args(url: Option<&str>, budget: u32) -> ConnectionArgs {
        ConnectionArgs {
            database_url: url.map(str::to_owned).into_iter().collect(),
            database_urls: Vec::new(),
            max_lag: DEFAULT_MAX_LAG,
            budget,
            connect_timeout: 10,
            max_packet: DEFAULT_MAX_PACKET,
            blocking_driver: BlockingDriver::Mysql,
            dbio_home: Some(PathBuf::from("/nonexistent/dbio-home")),
        }
    }

    #[test]
    fn budget_must_be_at_least_one() {
        let err = args(Some("mysql://u:p@h/db"), 0)
            .validate()
            .expect_err("budget 0");
        assert!(err.to_string().contains("at least 1"), "{err}");
        assert_eq!(
            args(Some("mysql://u:p@h/db"), 3)
                .validate()
                .expect("valid")
                .budget,
            3
        );
    }

    #[test]
    fn url_must_parse_and_be_mysql() {
        let err = args(Some("postgres://u:hunter2@h/db"), 5)
            .validate()
            .expect_err("scheme");
        assert!(err.to_string().contains("mysql://"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = args(Some("not a url hunter2"), 5)
            .validate()
            .expect_err("garbage");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let ok = args(Some("mariadb://u:p@127.0.0.1:3307/employees"), 5)
            .validate()
            .expect("mariadb scheme");
        assert_eq!(ok.url().expose(), "mysql://u:p@127.0.0.1:3307/employees");
        assert_eq!(
            (ok.url().host(), ok.url().port(), ok.url().database()),
            ("127.0.0.1", 3307, Some("employees"))
        );
    }

    /// URLs that do not parse as intended put the password where redaction
    /// does not look: errors must not quote them at all.
    #[test]
    fn a_malformed_url_is_described_never_echoed() {
        for (text, says) in [
            ("root:hunter2@db.example.com:3306/employees", "mysql://"),
            ("mysql:dbio:hunter2@127.0.0.1:23312/employees", "no //"),
            ("mysql:/dbio:hunter2@127.0.0.1:23312/employees", "no //"),
            ("mysql:///dbio:hunter2@127.0.0.1:23312/employees", "no host"),
            ("mysql://dbio:hunter2@:3306/employees", "valid URL"),
            ("postgres://u:hunter2@h/db", "mysql://"),
            ("not a url hunter2", "valid URL"),
            (
                "mysql://dbio:hunter2@127.0.0.1:99999/employees",
                "valid URL",
            ),
        ] {
            let err = args(Some(text), 5).validate().expect_err(text).to_string();
            assert!(!err.contains("hunter2"), "{text}: {err}");
            assert!(!err.contains("dbio:"), "{text}: {err}");
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    /// Several servers: in the order given, each once.
    #[test]
    fn several_servers_each_once() {
        let mut several = args(Some("mysql://u:p@127.0.0.1:3307/employees"), 5);
        several
            .database_url
            .push("mysql://u:q@127.0.0.1:3308/employees".into());
        let ok = several.validate().expect("two servers");
        let ports: Vec<u16> = ok.servers.iter().map(DbUrl::port).collect();
        assert_eq!(ports, [3307, 3308]);
        several
            .database_url
            .push("mysql://other:secret@127.0.0.1:3307/employees".into());
        let err = several
            .validate()
            .expect_err("the same server twice")
            .to_string();
        assert!(err.contains("given twice"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        // DATABASE_URLS: a list, blanks ignored.
        let mut listed = args(None, 5);
        listed.database_urls = vec![
            "mysql://u:p@h1/employees".into(),
            " ".into(),
            "mysql://u:p@h2/employees".into(),
        ];
        assert_eq!(listed.validate().expect("listed").servers.len(), 2);
        // A bad entry is named by its place, never quoted.
        let mut bad = args(None, 5);
        bad.database_urls = vec![
            "mysql://u:p@h1/employees".into(),
            "u:hunter2@h2/employees".into(),
        ];
        let err = bad.validate().expect_err("bad entry").to_string();
        assert!(
            err.starts_with("entry 2 of DATABASE_URLS does not start"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        // Both variables: one line that names them, not clap's flags.
        let mut both = args(Some("mysql://u:p@h1/employees"), 5);
        both.database_urls = vec!["mysql://u:p@h2/employees".into()];
        let err = both.validate().expect_err("both").to_string();
        assert!(
            err.contains("both DATABASE_URL") && err.contains("DATABASE_URLS"),
            "{err}"
        );
        // A list of blanks names no server: refused, not the managed one.
        for blanks in [&["", ""][..], &[" "][..], &["", "", ""][..]] {
            let mut empty = args(None, 5);
            empty.database_urls = blanks.iter().map(|b| (*b).to_owned()).collect();
            let err = empty.validate().expect_err("no server").to_string();
            assert!(err.contains("DATABASE_URLS lists no server"), "{err}");
        }
    }

    #[test]
    fn without_url_or_managed_server_the_error_says_how_to_get_one() {
        let err = args(None, 5).validate().expect_err("nothing to connect to");
        let text = err.to_string();
        assert!(
            text.contains("dbio -- up") && text.contains("DATABASE_URL"),
            "{text}"
        );
    }

    /// A password file that exists but cannot be read (another user's, mode
    /// 0600) is not "no managed server": the error names the file. (A
    /// directory in its place stands in for it: root reads any file.)
    #[test]
    fn an_unreadable_password_file_is_named() {
        let home = std::env::temp_dir().join(format!("dbio-unreadable-{}", std::process::id()));
        std::fs::create_dir_all(ServerState::password_path(&home)).expect("dir");
        let state = ServerState {
            port: 1,
            socket: home.join("run/mysqld.sock"),
        };
        std::fs::write(
            ServerState::path(&home),
            serde_json::to_vec(&state).expect("json"),
        )
        .expect("state");
        let mut a = args(None, 5);
        a.dbio_home = Some(home.clone());
        let err = a.validate().expect_err("unreadable").to_string();
        let _ = std::fs::remove_dir_all(&home);
        assert!(
            err.contains("cannot read the managed server's password")
                && !err.contains("no managed server"),
            "{err}"
        );
    }
}
