//! A deterministic generator of employees data with test_db's shape.
//!
//! The same scale and seed give the same bytes on every machine: the
//! generator uses its own PRNG (SplitMix64, one stream per purpose) and no
//! floating point where it would decide a row. At scale 1.0 the row counts
//! are test_db's exactly; other scales are proportional, except the 9
//! departments and 24 managers, which stay. First names start with every
//! letter A–Z with a skew like English names', so the 26 report queries
//! differ in cost and row count as in the blog.
//!
//! Each table comes out as tab-separated text for `LOAD DATA`, with its row
//! count and the checksum that [`super::schema::checksum_sql`] computes on
//! the server.

use std::fmt;

use model::calendar::{civil_from_days, days_from_civil};

use super::schema::Table;

/// test_db's row counts (its `test_employees_md5.sql`).
pub const TEST_DB_COUNTS: [(Table, u64); 6] = [
    (Table::Employees, 300_024),
    (Table::Departments, 9),
    (Table::DeptManager, 24),
    (Table::DeptEmp, 331_603),
    (Table::Titles, 443_308),
    (Table::Salaries, 2_844_047),
];

/// Bumped whenever the generated rows change for a given scale and seed, so
/// that an old load is not taken for a current one.
pub const GENERATOR_VERSION: u32 = 1;

pub const DEFAULT_SEED: u64 = 42;
pub const MIN_SCALE: f64 = 0.001;
pub const MAX_SCALE: f64 = 20.0;

const DEPARTMENTS: [(&str, &str, u32); 9] = [
    // dept_no, name, share of dept_emp rows in test_db (per mille, rounded)
    ("d001", "Marketing", 61),
    ("d002", "Finance", 52),
    ("d003", "Human Resources", 54),
    ("d004", "Production", 222),
    ("d005", "Development", 258),
    ("d006", "Quality Management", 61),
    ("d007", "Sales", 158),
    ("d008", "Research", 64),
    ("d009", "Customer Service", 71),
];

/// Managers per department, as in test_db (24 in all).
const MANAGERS: [usize; 9] = [2, 2, 2, 4, 2, 4, 2, 2, 4];

/// How often first names start with each letter A..Z (per mille, roughly
/// as in English given names): common letters hit the query's LIMIT 5000,
/// rare ones (Q, U, X) return few rows.
const FIRST_INITIALS: [u32; 26] = [
    70, 45, 50, 45, 45, 20, 50, 45, 20, 35, 55, 45, 75, 30, 12, 45, 4, 45, 90, 45, 15, 25, 15, 3,
    12, 20,
];
const LAST_INITIALS: [u32; 26] = [
    35, 60, 50, 40, 20, 30, 45, 45, 10, 20, 35, 40, 60, 25, 15, 45, 3, 40, 70, 35, 8, 20, 40, 2, 8,
    12,
];
/// Distinct names in test_db: 1275 first, 1637 last.
const FIRST_NAMES: usize = 1275;
const LAST_NAMES: usize = 1637;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub scale: f64,
    pub seed: u64,
}

impl Spec {
    pub fn new(scale: f64, seed: u64) -> Result<Spec, String> {
        if !(MIN_SCALE..=MAX_SCALE).contains(&scale) {
            return Err(format!(
                "--scale must be between {MIN_SCALE} and {MAX_SCALE} (1.0 is test_db's size), not {scale}"
            ));
        }
        Ok(Spec { scale, seed })
    }

    /// Row count of `table` at this scale.
    pub fn rows(&self, table: Table) -> u64 {
        let full = TEST_DB_COUNTS
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n);
        match table {
            Table::Departments | Table::DeptManager => full,
            _ => (full as f64 * self.scale).round() as u64,
        }
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scale {} seed {}", self.scale, self.seed)
    }
}

/// One generated table.
#[derive(Debug, Clone)]
pub struct TableData {
    pub table: Table,
    /// Tab-separated rows, `\n`-terminated, columns as in the schema.
    pub tsv: Vec<u8>,
    pub rows: u64,
    /// Sum over rows of CRC32 of the values joined with `#`.
    pub crc_sum: u64,
}

/// Writes rows as TSV and checksums them at the same time.
struct Rows {
    data: TableData,
    crc: crc32fast::Hasher,
    fields: usize,
}

impl Rows {
    fn new(table: Table, capacity_rows: u64, row_bytes: usize) -> Rows {
        Rows {
            data: TableData {
                table,
                tsv: Vec::with_capacity(capacity_rows as usize * row_bytes),
                rows: 0,
                crc_sum: 0,
            },
            crc: crc32fast::Hasher::new(),
            fields: 0,
        }
    }

    fn field(&mut self, bytes: &[u8]) {
        if self.fields > 0 {
            self.data.tsv.push(b'\t');
            self.crc.update(b"#");
        }
        self.data.tsv.extend_from_slice(bytes);
        self.crc.update(bytes);
        self.fields += 1;
    }

    fn int(&mut self, n: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let mut n = n;
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.field(&buf[i..]);
    }

    fn date(&mut self, days: i32) {
        let (y, m, d) = civil_from_days(days);
        let mut buf = *b"0000-00-00";
        let y = y as u32;
        buf[0] = b'0' + (y / 1000 % 10) as u8;
        buf[1] = b'0' + (y / 100 % 10) as u8;
        buf[2] = b'0' + (y / 10 % 10) as u8;
        buf[3] = b'0' + (y % 10) as u8;
        buf[5] = b'0' + (m / 10) as u8;
        buf[6] = b'0' + (m % 10) as u8;
        buf[8] = b'0' + (d / 10) as u8;
        buf[9] = b'0' + (d % 10) as u8;
        self.field(&buf);
    }

    fn end_row(&mut self) {
        self.data.tsv.push(b'\n');
        let crc = std::mem::take(&mut self.crc).finalize();
        self.data.crc_sum += u64::from(crc);
        self.data.rows += 1;
        self.fields = 0;
    }

    fn finish(self) -> TableData {
        self.data
    }
}

/// One stream of [`model::splitmix::SplitMix64`].
#[derive(Debug, Clone)]
struct Rng(model::splitmix::SplitMix64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(model::splitmix::SplitMix64(
            seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        ));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn range(&mut self, lo: i32, hi_inclusive: i32) -> i32 {
        lo + self.below((hi_inclusive - lo + 1) as u64) as i32
    }

    /// Index drawn with probability proportional to `weights`.
    fn weighted(&mut self, weights: &[u32], total: u32) -> usize {
        let mut x = self.below(u64::from(total)) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// Exactly `k` of `0..n`, each subset equally likely (Knuth's algorithm S).
    fn choose(&mut self, n: usize, k: usize) -> Vec<bool> {
        let mut chosen = vec![false; n];
        let mut needed = k.min(n);
        for (i, c) in chosen.iter_mut().enumerate() {
            if needed == 0 {
                break;
            }
            if self.below((n - i) as u64) < needed as u64 {
                *c = true;
                needed -= 1;
            }
        }
        chosen
    }
}

/// Names that start with each letter in proportion to `initials`.
fn name_table(count: usize, initials: &[u32; 26], max_len: usize, stream: u64) -> Vec<Vec<String>> {
    const CONSONANTS: &[u8] = b"bcdfghklmnprstvz";
    const VOWELS: &[u8] = b"aeiouy";
    let total: u32 = initials.iter().sum();
    // Fixed seed: the universe of names is the same whatever --seed says.
    let mut rng = Rng::new(0x6e61_6d65, stream);
    let mut seen = std::collections::HashSet::new();
    (0..26u8)
        .map(|letter| {
            let wanted = ((count as u64 * u64::from(initials[letter as usize])) / u64::from(total))
                .max(2) as usize;
            let mut names = Vec::with_capacity(wanted);
            while names.len() < wanted {
                let mut name = String::new();
                name.push((b'A' + letter) as char);
                let mut vowel_next = !b"AEIOUY".contains(&(b'A' + letter));
                let len = 4 + rng.below((max_len - 6) as u64) as usize;
                while name.len() < len {
                    let set = if vowel_next { VOWELS } else { CONSONANTS };
                    name.push(set[rng.below(set.len() as u64) as usize] as char);
                    vowel_next = !vowel_next;
                }
                if seen.insert(name.clone()) {
                    names.push(name);
                }
            }
            names
        })
        .collect()
}

/// Per employee, everything the tables derive from.
#[derive(Debug, Clone)]
struct Employee {
    emp_no: u32,
    hire: i32,
    /// Last day employed, or 9999-01-01 for current employees.
    end: i32,
    /// Index into DEPARTMENTS; the second is set for ~10% of employees.
    dept: usize,
    second_dept: Option<usize>,
    /// One salary row per year from hire.
    salaries: u32,
    promoted: bool,
}

const MAX_SALARIES: u32 = 18;

/// The dataset, table by table.
#[derive(Debug)]
pub struct Generator {
    spec: Spec,
    staff: Vec<Employee>,
    far_future: i32,
}

impl Generator {
    /// Plans every employee (cheap); tables are produced on demand.
    pub fn new(spec: Spec) -> Generator {
        let n = spec.rows(Table::Employees) as usize;
        let far_future = days_from_civil(9999, 1, 1);
        let hire_lo = days_from_civil(1985, 1, 1);
        let hire_hi = days_from_civil(2000, 1, 28);
        let snapshot = days_from_civil(2002, 8, 1);
        let dept_weights: Vec<u32> = DEPARTMENTS.iter().map(|d| d.2).collect();
        let dept_total: u32 = dept_weights.iter().sum();

        let mut rng = Rng::new(spec.seed, 1);
        let mut staff: Vec<Employee> = (0..n)
            .map(|i| {
                let hire = rng.range(hire_lo, hire_hi);
                let tenure_years = ((snapshot - hire) / 365).max(1) as u32;
                let left = rng.below(100) < 15;
                let salaries = if left {
                    1 + rng.below(u64::from(tenure_years)) as u32
                } else {
                    tenure_years + 1
                }
                .min(MAX_SALARIES);
                Employee {
                    emp_no: 10_001 + i as u32,
                    hire,
                    end: far_future,
                    dept: rng.weighted(&dept_weights, dept_total),
                    second_dept: None,
                    salaries,
                    promoted: false,
                }
            })
            .collect();

        // Exactly the scaled dept_emp count: some employees moved department.
        let movers = (spec.rows(Table::DeptEmp) as usize).saturating_sub(n);
        let mut rng = Rng::new(spec.seed, 2);
        for (e, moved) in staff.iter_mut().zip(rng.choose(n, movers)) {
            if moved {
                let other = (e.dept + 1 + rng.below(8) as usize) % DEPARTMENTS.len();
                e.second_dept = Some(other);
            }
        }
        // Exactly the scaled titles count: some employees were promoted.
        let promotions = (spec.rows(Table::Titles) as usize).saturating_sub(n);
        let mut rng = Rng::new(spec.seed, 3);
        for (e, promoted) in staff.iter_mut().zip(rng.choose(n, promotions)) {
            e.promoted = promoted;
        }
        // Exactly the scaled salaries count: nudge yearly rows up or down.
        let mut rng = Rng::new(spec.seed, 4);
        let target = spec.rows(Table::Salaries) as i64;
        loop {
            let have: i64 = staff.iter().map(|e| i64::from(e.salaries)).sum();
            let gap = target - have;
            if gap == 0 {
                break;
            }
            let step: i32 = if gap > 0 { 1 } else { -1 };
            let eligible: Vec<usize> = (0..n)
                .filter(|&i| {
                    let s = staff[i].salaries;
                    if step > 0 { s < 40 } else { s > 1 }
                })
                .collect();
            let k = (gap.unsigned_abs() as usize).min(eligible.len());
            for (&i, pick) in eligible.iter().zip(rng.choose(eligible.len(), k)) {
                if pick {
                    staff[i].salaries = staff[i].salaries.saturating_add_signed(step);
                }
            }
        }
        // Those who left: their last salary year ends their employment.
        let mut rng = Rng::new(spec.seed, 5);
        for e in &mut staff {
            if e.hire + e.salaries as i32 * 365 < snapshot && rng.below(100) < 90 {
                e.end = e.hire + e.salaries as i32 * 365;
            }
        }
        Generator {
            spec,
            staff,
            far_future,
        }
    }

    pub fn spec(&self) -> Spec {
        self.spec
    }

    /// One table's rows, in primary-key order (fastest for InnoDB to load).
    pub fn table(&self, table: Table) -> TableData {
        match table {
            Table::Departments => self.departments(),
            Table::Employees => self.employees(),
            Table::DeptEmp => self.dept_emp(),
            Table::DeptManager => self.dept_manager(),
            Table::Titles => self.titles(),
            Table::Salaries => self.salaries(),
        }
    }

    fn departments(&self) -> TableData {
        let mut out = Rows::new(Table::Departments, 9, 24);
        for (no, name, _) in DEPARTMENTS {
            out.field(no.as_bytes());
            out.field(name.as_bytes());
            out.end_row();
        }
        out.finish()
    }

    fn employees(&self) -> TableData {
        let first = name_table(FIRST_NAMES, &FIRST_INITIALS, 14, 1);
        let last = name_table(LAST_NAMES, &LAST_INITIALS, 16, 2);
        let first_total: u32 = FIRST_INITIALS.iter().sum();
        let last_total: u32 = LAST_INITIALS.iter().sum();
        let birth_lo = days_from_civil(1952, 2, 1);
        let birth_hi = days_from_civil(1965, 2, 1);
        let mut rng = Rng::new(self.spec.seed, 10);
        let mut out = Rows::new(Table::Employees, self.staff.len() as u64, 48);
        for e in &self.staff {
            let birth = rng.range(birth_lo, birth_hi);
            let fl = &first[rng.weighted(&FIRST_INITIALS, first_total)];
            let ll = &last[rng.weighted(&LAST_INITIALS, last_total)];
            let first_name = &fl[rng.below(fl.len() as u64) as usize];
            let last_name = &ll[rng.below(ll.len() as u64) as usize];
            let gender: &[u8] = if rng.below(10) < 6 { b"M" } else { b"F" };
            out.int(u64::from(e.emp_no));
            out.date(birth);
            out.field(first_name.as_bytes());
            out.field(last_name.as_bytes());
            out.field(gender);
            out.date(e.hire);
            out.end_row();
        }
        out.finish()
    }

    /// The day a mover changed department.
    fn move_day(e: &Employee) -> i32 {
        e.hire + (e.salaries as i32 * 365 / 2).max(90)
    }

    fn dept_emp(&self) -> TableData {
        let mut out = Rows::new(Table::DeptEmp, self.spec.rows(Table::DeptEmp), 36);
        for e in &self.staff {
            let mut rows = vec![(e.dept, e.hire, e.end)];
            if let Some(second) = e.second_dept {
                let day = Self::move_day(e).min(e.end - 1);
                rows[0].2 = day;
                rows.push((second, day, e.end));
            }
            rows.sort_by_key(|r| r.0);
            for (dept, from, to) in rows {
                out.int(u64::from(e.emp_no));
                out.field(DEPARTMENTS[dept].0.as_bytes());
                out.date(from);
                out.date(to);
                out.end_row();
            }
        }
        out.finish()
    }

    fn dept_manager(&self) -> TableData {
        let start = days_from_civil(1985, 1, 1);
        let span = days_from_civil(2002, 1, 1) - start;
        let mut rows = Vec::new();
        let mut taken = std::collections::HashSet::new();
        for (d, &count) in MANAGERS.iter().enumerate() {
            // The department's longest-serving members (fall back to anyone
            // at tiny scales).
            let mut candidates: Vec<&Employee> =
                self.staff.iter().filter(|e| e.dept == d).collect();
            candidates.extend(self.staff.iter().filter(|e| e.dept != d));
            let chosen: Vec<&Employee> = candidates
                .into_iter()
                .filter(|e| !taken.contains(&e.emp_no))
                .take(count)
                .collect();
            for (i, e) in chosen.into_iter().enumerate() {
                taken.insert(e.emp_no);
                let from = start + span * i as i32 / count as i32;
                let to = if i + 1 == count {
                    self.far_future
                } else {
                    start + span * (i as i32 + 1) / count as i32
                };
                rows.push((e.emp_no, d, from, to));
            }
        }
        rows.sort_by_key(|r| (r.0, r.1));
        let mut out = Rows::new(Table::DeptManager, rows.len() as u64, 36);
        for (emp_no, d, from, to) in rows {
            out.int(u64::from(emp_no));
            out.field(DEPARTMENTS[d].0.as_bytes());
            out.date(from);
            out.date(to);
            out.end_row();
        }
        out.finish()
    }

    fn titles(&self) -> TableData {
        let mut rng = Rng::new(self.spec.seed, 11);
        let mut out = Rows::new(Table::Titles, self.spec.rows(Table::Titles), 40);
        for e in &self.staff {
            let engineering = matches!(DEPARTMENTS[e.dept].0, "d004" | "d005" | "d006" | "d008");
            let (first, next) = if engineering {
                match rng.below(10) {
                    0..=1 => ("Assistant Engineer", "Engineer"),
                    2..=8 => ("Engineer", "Senior Engineer"),
                    _ => ("Senior Engineer", "Technique Leader"),
                }
            } else {
                ("Staff", "Senior Staff")
            };
            let mut rows = vec![(first, e.hire, e.end)];
            if e.promoted {
                let day = e.hire + 1 + rng.below(((e.salaries as i64 * 365).max(2)) as u64) as i32;
                let day = day.min(e.end - 1).max(e.hire + 1);
                rows[0].2 = day;
                rows.push((next, day, e.end));
            }
            rows.sort_by_key(|r| r.0);
            for (title, from, to) in rows {
                out.int(u64::from(e.emp_no));
                out.field(title.as_bytes());
                out.date(from);
                out.date(to);
                out.end_row();
            }
        }
        out.finish()
    }

    fn salaries(&self) -> TableData {
        let mut rng = Rng::new(self.spec.seed, 12);
        let mut out = Rows::new(Table::Salaries, self.spec.rows(Table::Salaries), 36);
        for e in &self.staff {
            let mut salary = 38_000 + rng.below(30_000) as i64;
            for year in 0..e.salaries as i32 {
                let from = e.hire + year * 365;
                let to = if year + 1 == e.salaries as i32 {
                    e.end.max(from + 1)
                } else {
                    from + 365
                };
                out.int(u64::from(e.emp_no));
                out.int(salary as u64);
                out.date(from);
                out.date(to);
                out.end_row();
                salary += rng.below(4_000) as i64 - 300;
                salary = salary.max(38_000);
            }
        }
        out.finish()
    }
}
