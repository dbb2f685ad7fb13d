//! The lower bound on a run's wall time, and the term that sets it.

/// What a run's bounds depend on.
#[derive(Debug, Clone)]
pub struct Setting {
    pub budget: usize,
    /// The cores the server may use (all of the machine's, or those it was
    /// pinned to).
    pub cores: usize,
    /// Every core of the machine.
    pub machine_cores: usize,
    /// The client (and the latency proxy) run on the server's machine (the
    /// managed server): their CPU competes with the server's.
    pub same_machine: bool,
    pub workload: String,
    /// Each sleep query's wait, for the sleep workload.
    pub sleep_ms: Option<u32>,
    /// One-way latency the proxy added.
    pub latency_ms: Option<u64>,
    /// How many servers the queries were spread over (1 + read replicas),
    /// each with `cores` and its own pool of the budget.
    pub servers: usize,
}

impl Setting {
    /// Whether the server's CPU is the work every approach shares: no
    /// server-side waits and no added latency, which the server's CPU does
    /// not measure.
    pub fn server_bound(&self) -> bool {
        self.workload != "sleep" && self.latency_ms.is_none()
    }
}

/// What one run cost, per run, in CPU seconds (where it was measured).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Costs {
    pub server_cpu: Option<f64>,
    /// The client process's user + sys time (hyperfine's).
    pub client_cpu: Option<f64>,
    pub proxy_cpu: Option<f64>,
}

/// The term that sets a run's lower bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Limit {
    /// The server's CPU over the cores it can use at that concurrency.
    ServerCpu,
    /// Server, client and proxy CPU over the machine's cores, when they
    /// share it.
    MachineCpu,
    /// Server-side waits over the connections.
    Waits,
    /// Network round trips over the connections.
    RoundTrips,
}

impl Limit {
    pub fn name(self) -> &'static str {
        match self {
            Limit::ServerCpu => "server CPU",
            Limit::MachineCpu => "machine CPU",
            Limit::Waits => "waits",
            Limit::RoundTrips => "round trips",
        }
    }
}

impl Setting {
    /// The setting of a run at `budget` recorded in `host`: the server's
    /// cores are the machine's or those it was pinned to, and the client
    /// shares the machine with a managed server.
    pub fn of(host: &crate::host::Host, budget: usize) -> Setting {
        Setting {
            budget,
            cores: host
                .bench
                .server_cpus
                .map_or(host.cores, |n| (n as usize).min(host.cores)),
            machine_cores: host.cores,
            same_machine: host.server.managed,
            workload: host.bench.workload.clone(),
            sleep_ms: host.bench.sleep_ms,
            latency_ms: host.bench.latency_ms,
            servers: 1 + host.bench.replicas.unwrap_or(0) as usize,
        }
    }

    /// The lower bound on a run's wall time and the term that sets it: the
    /// most limiting of the server's CPU spread over the cores it can use,
    /// all CPU spent on the machine (server, client, proxy) over its cores
    /// when they share it, the waits spread over the connections, and the
    /// network round trips spread over the connections.
    ///
    /// `concurrency` is per server (the budget, or 1 for a serial
    /// approach, which runs one query at a time on whichever server); with
    /// several servers the server term is their total CPU over the sum of
    /// each server's min(budget, cores).
    pub fn bound(&self, concurrency: usize, queries: usize, costs: &Costs) -> Option<(f64, Limit)> {
        let servers = self.servers.max(1);
        let at_once = if concurrency == 1 {
            1
        } else {
            concurrency * servers
        };
        let lanes = at_once.min(queries).max(1) as f64;
        let server_lanes = at_once.min(servers * concurrency.min(self.cores)).max(1);
        let server = costs
            .server_cpu
            .map(|c| (c / server_lanes as f64, Limit::ServerCpu));
        let machine = costs.server_cpu.filter(|_| self.same_machine).map(|s| {
            let total = s + costs.client_cpu.unwrap_or(0.0) + costs.proxy_cpu.unwrap_or(0.0);
            (total / self.machine_cores.max(1) as f64, Limit::MachineCpu)
        });
        let waits = self
            .sleep_ms
            .map(|ms| (queries as f64 * ms as f64 / 1000.0 / lanes, Limit::Waits));
        let network = self.latency_ms.map(|ms| {
            (
                queries as f64 * 2.0 * ms as f64 / 1000.0 / lanes,
                Limit::RoundTrips,
            )
        });
        [server, machine, waits, network]
            .into_iter()
            .flatten()
            .reduce(|a, b| if b.0 > a.0 { b } else { a })
    }
}
