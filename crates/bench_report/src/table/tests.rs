//! The table's tests: condensing, latency, bounds, rendering, verdicts.

use std::collections::BTreeMap;

use super::*;
use crate::hyperfine::{Benchmark, Export};

fn bench(command: &str, mean: f64) -> Benchmark {
    Benchmark {
        command: command.into(),
        mean,
        stddev: Some(0.1),
        min: mean - 0.1,
        max: mean + 0.1,
        user: 0.01,
        system: 0.01,
        times: vec![mean],
    }
}

/// A report of `queries`, as an approach prints it.
fn report(queries: Vec<model::QueryResult>) -> model::Report {
    model::Report {
        driver: String::new(),
        approach: "test_mt".into(),
        workload: model::workload::Workload::Point,
        budget: 5,
        server: "mysql://dbio:***@127.0.0.1:1/employees".into(),
        servers: Vec::new(),
        queries,
        wall_us: 5,
        peak_connections: Some(5),
        peak_threads: None,
        cpu_user_us: 1,
        cpu_sys_us: 1,
        max_rss_kib: 1024,
        run_cpu_user_us: 1,
        run_cpu_sys_us: 1,
        condensed: None,
        open_loop: None,
    }
}

/// A query submitted at `s` ms, sent at `c`, first row at `f`, done at `d`.
fn stamped(label: String, rows: u64, (s, c, f, d): (u64, u64, u64, u64)) -> model::QueryResult {
    model::QueryResult {
        label,
        rows,
        digest: Some("x".into()),
        first_row: None,
        submitted_us: s * 1000,
        connected_us: c * 1000,
        first_row_us: f * 1000,
        finished_us: d * 1000,
        connection_id: Some(7),
        server: None,
        moved_from: None,
        request: None,
        due_us: None,
        unfinished: false,
    }
}

/// Stored as the driver stores it, read back as the renderer reads it.
fn stored(report: model::Report) -> Profile {
    let text = serde_json::to_string(&condense(report)).expect("json");
    Profile::parse(&text).expect("profile")
}

#[test]
fn long_profiles_are_condensed_and_still_compared() {
    let queries = |changed: u64| -> Vec<model::QueryResult> {
        (0..150)
            .map(|i| {
                stamped(
                    format!("p{i:03}"),
                    if i == 7 { changed } else { 1 },
                    (0, 1, 2, 3),
                )
            })
            .collect()
    };
    let full = report(queries(1));
    let text = serde_json::to_string(&full).expect("json");
    let condensed = serde_json::to_string(&condense(full.clone())).expect("json");
    assert!(condensed.len() < text.len() / 10, "{condensed}");
    let a = Profile::parse(&text).expect("full");
    let b = stored(full);
    assert!(b.queries.is_empty());
    assert_eq!((a.len(), b.len()), (150, 150));
    assert_eq!(a.fingerprint(), b.fingerprint());
    let mut profiles = BTreeMap::new();
    profiles.insert("test_single".to_owned(), a);
    profiles.insert("test_mt".to_owned(), b);
    let order = ["test_single".to_owned(), "test_mt".to_owned()];
    assert!(disagreeing(&profiles, &order).is_empty());
    profiles.insert("test_mt".to_owned(), stored(report(queries(2))));
    assert_eq!(disagreeing(&profiles, &order), ["test_mt"]);
    // Short lists stay as they are.
    let short = report(queries(1)[..3].to_vec());
    assert_eq!(condense(short.clone()), short);
}

#[test]
fn latency_percentiles_are_nearest_rank_and_survive_condensing() {
    // Latencies 1..=200 ms; queue waits i ms, first rows 0 ms.
    let queries: Vec<model::QueryResult> = (1..=200)
        .map(|i| stamped(format!("q{i:03}"), 1, (0, i / 2, i / 2, i)))
        .collect();
    let full: Profile = report(queries.clone()).into();
    let latency = full.latency().expect("timestamps");
    assert_eq!(
        latency,
        Latency {
            queue_p50_ms: 50.0,
            first_row_p50_ms: 0.0,
            p50_ms: 100.0,
            p95_ms: 190.0,
            max_ms: 200.0,
        }
    );
    let condensed = stored(report(queries));
    assert!(condensed.queries.is_empty());
    assert_eq!(condensed.latency(), Some(latency));
    assert_eq!(percentile(&[4.0], 95.0), 4.0);
}

/// Runs recorded before the report was one type (results/2026-11-27-*)
/// still render: optional timestamps, condensed fields at the top level.
#[test]
fn profiles_recorded_before_the_one_type_are_read() {
    let stamps = r#""submitted_us":0,"connected_us":1000,"first_row_us":2000,"finished_us":3000"#;
    let partial = format!(
        r#"{{"max_rss_kib":1,"queries":[{{"label":"a","rows":1,{stamps},"connection_id":7}},{{"label":"x","rows":1}}]}}"#
    );
    let partial = Profile::parse(&partial).expect("partial");
    assert_eq!(partial.len(), 2);
    // One query without timestamps: no latency, and no run CPU recorded.
    assert_eq!(partial.latency(), None);
    assert_eq!(partial.run_cpu_us(), None);
    let condensed = Profile::parse(
        r#"{"approach":"test_mt","max_rss_kib":1,"count":150,"rows_fingerprint":"ab"}"#,
    )
    .expect("condensed");
    assert_eq!(
        (condensed.len(), condensed.fingerprint()),
        (150, "ab".to_owned())
    );
    assert!(Profile::parse(r#"{"rows":1}"#).is_err());
}

#[test]
fn the_blogs_asyncio_verdict_needs_every_difference_to_be_measurable() {
    let runs = |command: &str, times: &[f64]| Benchmark {
        times: times.to_vec(),
        ..bench(command, times.iter().sum::<f64>() / times.len() as f64)
    };
    let asyncio = runs("py_test_asyncio", &[1.0, 1.02, 0.98]);
    let mut export = Export {
        results: vec![
            runs("test_single", &[1.0, 1.0, 1.0]),
            asyncio.clone(),
            runs("py_test_mt", &[2.0, 2.02, 1.98]),
        ],
    };
    assert_eq!(asyncio_not_beaten(&export), Some(vec![]));
    assert!(verdicts(&export, None).contains("\"asyncio was the clear winner\" holds here"));
    export.results.push(runs("py_test_cft", &[0.99, 1.03, 1.0]));
    assert_eq!(
        asyncio_not_beaten(&export),
        Some(vec!["py_test_cft".to_owned()])
    );
    assert!(verdicts(&export, None).contains("does not hold here"));
    // No other Python approach: nothing to say.
    export.results = vec![asyncio];
    assert_eq!(asyncio_not_beaten(&export), None);
}

#[test]
fn bounds_follow_the_workload() {
    let mut setting = Setting {
        budget: 5,
        cores: 2,
        machine_cores: 2,
        same_machine: false,
        workload: "sleep".into(),
        sleep_ms: Some(50),
        latency_ms: None,
        servers: 1,
    };
    let server = |cpu: f64| Costs {
        server_cpu: Some(cpu),
        ..Costs::default()
    };
    // 100 waits of 50 ms over 5 connections, or over 1.
    assert_eq!(
        setting.bound(5, 100, &server(0.1)),
        Some((1.0, Limit::Waits))
    );
    assert_eq!(
        setting.bound(1, 100, &Costs::default()),
        Some((5.0, Limit::Waits))
    );
    // Fewer queries than connections: each waits once.
    assert_eq!(
        setting.bound(5, 2, &Costs::default()),
        Some((0.05, Limit::Waits))
    );
    setting.sleep_ms = None;
    setting.latency_ms = Some(10);
    // 1,000 round trips of 20 ms over 5 connections, unless the server's CPU is slower.
    assert_eq!(
        setting.bound(5, 1000, &server(1.0)),
        Some((4.0, Limit::RoundTrips))
    );
    assert_eq!(
        setting.bound(5, 1000, &server(10.0)),
        Some((5.0, Limit::ServerCpu))
    );
}

/// The point run that showed a bound of 65% of the mean while the
/// machine was full: server 0.49 s + client 0.23 s over 2 cores.
#[test]
fn a_client_on_the_servers_machine_counts_in_the_bound() {
    let mut setting = Setting {
        budget: 5,
        cores: 2,
        machine_cores: 2,
        same_machine: true,
        workload: "point".into(),
        sleep_ms: None,
        latency_ms: None,
        servers: 1,
    };
    let costs = Costs {
        server_cpu: Some(0.49),
        client_cpu: Some(0.23),
        proxy_cpu: None,
    };
    let (bound, limit) = setting.bound(5, 10_000, &costs).expect("bound");
    assert_eq!(limit, Limit::MachineCpu);
    assert!((bound - 0.36).abs() < 1e-9, "{bound}");
    // A server of its own (someone else's machine): its CPU alone.
    setting.same_machine = false;
    assert_eq!(
        setting.bound(5, 10_000, &costs),
        Some((0.245, Limit::ServerCpu))
    );
    // Pinned to one core, the server is the limit again.
    setting.same_machine = true;
    setting.cores = 1;
    assert_eq!(
        setting.bound(5, 10_000, &costs),
        Some((0.49, Limit::ServerCpu))
    );
    // And the proxy's CPU counts with the client's.
    setting.cores = 2;
    let with_proxy = Costs {
        proxy_cpu: Some(0.2),
        ..costs
    };
    let (bound, limit) = setting.bound(5, 10_000, &with_proxy).expect("bound");
    assert_eq!(limit, Limit::MachineCpu);
    assert!((bound - 0.46).abs() < 1e-9, "{bound}");
}

#[test]
fn speedups_are_per_language_and_bounds_use_concurrency() {
    let export = Export {
        results: vec![
            bench("test_single", 20.0),
            bench("test_asyncio", 10.0),
            bench("py_test_single", 22.0),
            bench("py_test_cft", 11.0),
        ],
    };
    let mut cpu = BTreeMap::new();
    cpu.insert("test_single".to_owned(), vec![19.0, 19.0]);
    cpu.insert("test_asyncio".to_owned(), vec![19.0]);
    let mut profiles = BTreeMap::new();
    let profile = |rows: u64| Profile {
        max_rss_kib: 8 * 1024,
        wall_us: Some(1_500_000),
        count: None,
        rows_fingerprint: None,
        latency: None,
        run_cpu_user_us: Some(2_000),
        run_cpu_sys_us: Some(600),
        queries: vec![ProfileQuery {
            label: "A".into(),
            rows,
            at: None,
            connection_id: None,
            server: None,
        }],
    };
    profiles.insert("test_single".to_owned(), profile(10));
    profiles.insert("test_asyncio".to_owned(), profile(10));
    profiles.insert("py_test_cft".to_owned(), profile(11));
    let order: Vec<String> = ["test_single", "test_asyncio", "py_test_cft"]
        .map(String::from)
        .to_vec();
    assert_eq!(disagreeing(&profiles, &order), ["py_test_cft"]);
    let setting = Setting {
        budget: 5,
        cores: 2,
        machine_cores: 2,
        same_machine: false,
        workload: "report".into(),
        sleep_ms: None,
        latency_ms: None,
        servers: 1,
    };
    let table = render(&export, Some(&cpu), None, &profiles, &setting, &[]);
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .expect("row")
            .to_owned()
    };
    assert!(row("test_single").contains("| 1.00× |"));
    assert!(
        row("test_single").contains("| 19.00 | 19.00 | 95% | server CPU |"),
        "{}",
        row("test_single")
    );
    // budget 5 on 2 cores: the bound is 19 / 2.
    assert!(
        row("test_asyncio").contains("| 2.00× | 19.00 | 9.50 | 95% | server CPU | 2.32× |"),
        "{}",
        row("test_asyncio")
    );
    assert!(
        row("py_test_cft").contains("| 2.00× | — | — | — | — | 2.27× |"),
        "{}",
        row("py_test_cft")
    );
    assert!(row("test_single").contains("| 8.0 |"));
    // In run: (2000 + 600) µs of CPU for its one query.
    assert!(
        row("test_single").contains("| 2600 |"),
        "{}",
        row("test_single")
    );
}

#[test]
fn a_slow_spell_is_told_apart_per_unit_of_server_work() {
    let runs = |command: &str, times: &[f64]| Benchmark {
        times: times.to_vec(),
        ..bench(command, times.iter().sum::<f64>() / times.len() as f64)
    };
    // test_mt met a slow spell: every run twice as long, and the server
    // needed twice the CPU for the same queries.
    let export = Export {
        results: vec![
            runs("test_asyncio", &[10.0, 10.2, 9.8]),
            runs("test_mt", &[20.0, 20.4, 19.6]),
        ],
    };
    let mut cpu = BTreeMap::new();
    // One warm-up reading first, then one per timed run.
    cpu.insert("test_asyncio".to_owned(), vec![30.0, 20.0, 20.4, 19.6]);
    cpu.insert("test_mt".to_owned(), vec![30.0, 40.0, 40.8, 39.2]);
    let per_work = per_server_second(&export.results[1], Some(&cpu)).expect("paired");
    assert_eq!(per_work, vec![0.5, 0.5, 0.5]);
    let table = verdicts(&export, Some(&cpu));
    let row = table
        .lines()
        .find(|l| l.starts_with("| test_mt |"))
        .expect("test_mt row");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert!(
        cells[2].starts_with("2.00") && !cells[2].contains("no measurable"),
        "{row}"
    );
    assert!(
        cells[3].starts_with("1.00") && cells[3].contains("no measurable difference"),
        "{row}"
    );
    // Without the readings the column is not there.
    assert!(!verdicts(&export, None).contains("per unit of server work"));
    // Too few readings to pair with the timed runs: no ratio.
    cpu.insert("test_mt".to_owned(), vec![40.0]);
    assert_eq!(per_server_second(&export.results[1], Some(&cpu)), None);
}

/// With replicas: the servers' total CPU over the sum of each server's
/// min(budget, cores), while a serial approach still runs one at a time.
#[test]
fn replicas_multiply_the_servers_lanes() {
    let setting = Setting {
        budget: 5,
        cores: 1,
        machine_cores: 16,
        same_machine: true,
        workload: "report".into(),
        sleep_ms: None,
        latency_ms: None,
        servers: 2,
    };
    let server = |cpu: f64| Costs {
        server_cpu: Some(cpu),
        ..Costs::default()
    };
    // Two servers of one core each: 40 s of server CPU takes 20 s at least.
    assert_eq!(
        setting.bound(5, 26, &server(40.0)),
        Some((20.0, Limit::ServerCpu))
    );
    // One query at a time: all 40 s.
    assert_eq!(
        setting.bound(1, 26, &server(40.0)),
        Some((40.0, Limit::ServerCpu))
    );
    // Sleeps spread over 5 connections on each of the two servers.
    let sleeps = Setting {
        workload: "sleep".into(),
        sleep_ms: Some(100),
        ..setting
    };
    assert_eq!(
        sleeps.bound(5, 100, &Costs::default()),
        Some((1.0, Limit::Waits))
    );
}
